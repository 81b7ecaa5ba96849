/**
 * Records seen by device: which devices a records file knows, each one's best per workload, and how
 * one device's best schedule ran on the others (when their records hold that schedule too, as after
 * `tune --farm --device all` or a merge of two machines' files).
 */
import { fingerprintThreads } from '../targets/compiler.js';
import { RecordStore, TuningRecord } from './records.js';

export interface DeviceSummary {
  readonly key: string;
  /** The target kind: c, webgpu. */
  readonly kind: string;
  /** A few words a person recognises: the CPU model and ISA, the GPU's description and vendor. */
  readonly label: string;
  readonly fingerprint: Readonly<Record<string, unknown>>;
  readonly records: number;
  readonly workloads: number;
}

/** A fingerprint field as a string ('' when absent or not a string). */
export const str = (x: unknown) => (typeof x === 'string' ? x : '');

/** The threads a record of `kind` was measured with: C records say (one when they predate it), others have none. */
export function measuredThreads(kind: string, fp: Readonly<Record<string, unknown>>): number | undefined {
  return kind === 'c' ? fingerprintThreads(fp) : undefined;
}

/** The device of a fingerprint in a few words, with the thread count of a CPU's measurements. */
export function deviceLabel(kind: string, fp: Readonly<Record<string, unknown>>): string {
  if (kind === 'c') {
    const t = fingerprintThreads(fp);
    return `${[str(fp.model) || 'CPU', str(fp.isa) && `(${str(fp.isa)})`].filter(Boolean).join(' ')}, ${t} thread${t > 1 ? 's' : ''}`;
  }
  const name = str(fp.description) || str(fp.device);
  const va = [str(fp.vendor), str(fp.architecture)].filter(Boolean).join('/');
  return [name, va && (name ? `(${va})` : va)].filter(Boolean).join(' ') || kind;
}

/** Every device in `records`, in first-seen order. */
export function devicesOf(records: readonly TuningRecord[]): DeviceSummary[] {
  const by = new Map<string, { r: TuningRecord; n: number; w: Set<string> }>();
  for (const r of records) {
    const k = r.target.fingerprint.key;
    const d = by.get(k) ?? { r, n: 0, w: new Set<string>() };
    d.n++;
    d.w.add(r.workload.key);
    by.set(k, d);
  }
  return [...by.values()].map(({ r, n, w }) => ({
    key: r.target.fingerprint.key, kind: r.target.kind, label: deviceLabel(r.target.kind, r.target.fingerprint),
    fingerprint: r.target.fingerprint, records: n, workloads: w.size,
  }));
}

export interface CrossRun {
  /** The device the schedule ran on. */
  readonly device: string;
  readonly gflops: number;
}

export interface DeviceBest {
  readonly workload: string;
  readonly device: string;
  readonly best: TuningRecord;
  /** The same schedule (trace hash) measured on the other devices, fastest record of it on each. */
  readonly elsewhere: readonly CrossRun[];
}

/** Best per workload per device, with how each best ran on the other devices that measured it. */
export function deviceBests(db: RecordStore, records: readonly TuningRecord[]): DeviceBest[] {
  const bests = db.bestPerWorkload(records);
  const okByRun = new Map<string, number>();
  for (const r of records) {
    if (r.outcome.status !== 'ok' || !r.outcome.gflops || !db.plausible(r)) continue;
    const k = `${r.workload.key}|${r.traceHash}|${r.target.fingerprint.key}`;
    okByRun.set(k, Math.max(okByRun.get(k) ?? 0, r.outcome.gflops));
  }
  const devicesOfWorkload = new Map<string, Set<string>>();
  for (const r of records) {
    const s = devicesOfWorkload.get(r.workload.key) ?? new Set<string>();
    s.add(r.target.fingerprint.key);
    devicesOfWorkload.set(r.workload.key, s);
  }
  return bests.map((b) => {
    const others = [...(devicesOfWorkload.get(b.workload.key) ?? [])].filter((d) => d !== b.target.fingerprint.key).sort();
    const elsewhere = others.flatMap((d) => {
      const g = okByRun.get(`${b.workload.key}|${b.traceHash}|${d}`);
      return g ? [{ device: d, gflops: g }] : [];
    });
    return { workload: b.workload.key, device: b.target.fingerprint.key, best: b, elsewhere };
  });
}
