/**
 * `emit --devices` and `"devices"` in build manifests: the best record of each device a records
 * file knows, made into one module with a variant per device (TypeScript/WGSL) or per ISA level (C).
 */
import { InputError } from '../ir/errors.js';
import { Workload, lowerWorkload } from '../ir/ops/index.js';
import { applyTrace } from '../scheduler/apply.js';
import { trace } from '../scheduler/trace.js';
import { Artifacts, Language } from '../codegen/artifacts.js';
import { deviceModuleArtifacts, DeviceSchedule } from '../codegen/device-module.js';
import { IsaVariant, isIsaLevel, isaDispatchArtifacts } from '../codegen/isa-dispatch.js';
import { RecordStore, TuningRecord } from '../tuner/records.js';
import { deviceLabel, str } from '../tuner/devices.js';
import { fingerprintThreads } from '../targets/compiler.js';
import { traceHash } from '../tuner/space.js';
import { TargetSet } from './target-set.js';
import { KernelToVerify, verifyKernel } from './verify-kernel.js';

/** `all`, or fingerprint keys (a unique prefix of one will do). */
export type DeviceChoice = 'all' | readonly string[];

export function parseDevices(v: unknown, where = '--devices'): DeviceChoice {
  const list = Array.isArray(v) ? v.map(String) : String(v).split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 1 && list[0] === 'all') return 'all';
  if (!list.length || list.includes('all')) throw new InputError(`${where} takes 'all' or fingerprint keys separated by commas (\`loopsmith records list --by-device\` lists them)`);
  return list;
}

interface DeviceBest {
  readonly key: string;
  readonly record: TuningRecord;
}

/** The best record per chosen device of `kind` for the workload; an unknown or recordless device named is bad input. */
export function bestPerDevice(db: RecordStore, w: Workload, kind: string, devices: DeviceChoice, fallback = false): DeviceBest[] {
  const keys = [...new Set(db.load().records.filter((r) => r.target.kind === kind && r.workload.key === w.key).map((r) => r.target.fingerprint.key))].sort();
  const known = () => (keys.length ? `devices with ${kind} records of it: ${keys.join(', ')}` : `${db.path} has no ${kind} records of it; run \`loopsmith tune\` on each device first`);
  const chosen = devices === 'all' ? keys : devices.map((d) => {
    const hits = keys.filter((k) => k === d || k.startsWith(d));
    if (hits.length === 1) return hits[0]!;
    throw new InputError(`${hits.length ? `device '${d}' is ambiguous for ${w.key}` : `no ${kind} records of ${w.key} on device '${d}'`}; ${known()}`);
  });
  const out = chosen.flatMap((key) => {
    const record = db.best(w.key, key);
    if (record) return [{ key, record }];
    if (devices !== 'all') throw new InputError(`device ${key} has no successful record of ${w.key} in ${db.path}; ${known()}`);
    return [];
  });
  if (!out.length && !fallback) throw new InputError(`no successful ${kind} record of ${w.key} in ${db.path}; ${known()} (or pass --fallback for the fallback variant alone)`);
  return out;
}

const originOf = (r: TuningRecord) => `record ${r.id}, ${r.outcome.gflops?.toFixed(2) ?? '?'} GFLOP/s`;

export interface DevicesEmitted {
  readonly files: Artifacts;
  /** One line per variant: what it was tuned on. */
  readonly origin: string;
  /** The kernels to verify on this machine: each variant's program (and the generic one). */
  readonly kernels: readonly (KernelToVerify & { readonly label: string })[];
}

/**
 * The module for `lang` ('ts' or 'c') with the best schedule of every chosen device; C keeps one
 * variant per ISA level (a device measured with this command's threads, else the one listed first,
 * wins a tie, with a warning).
 */
export async function emitForDevices(
  req: { workload: Workload; lang: Language; name: string; records: string; devices: DeviceChoice; fallback?: boolean; warn: (s: string) => void }, targets: TargetSet,
): Promise<DevicesEmitted> {
  const w = req.workload;
  const base = lowerWorkload(w);
  const db = new RecordStore(req.records);
  for (const warning of db.load().warnings) req.warn(warning);
  const kind = req.lang === 'c' ? 'c' : req.lang === 'ts' ? 'webgpu' : undefined;
  if (!kind) throw new InputError(`--devices writes one module for many devices: --lang ts (WebGPU variants and a selector) or --lang c (ISA variants and a dispatcher), not ${req.lang}`);
  const bests = bestPerDevice(db, w, kind, req.devices, req.fallback);
  if (!bests.length) req.warn(`no successful ${kind} record of ${w.key} in ${db.path}; the module holds the ${kind === 'c' ? 'scalar' : 'generic'} fallback alone until devices are tuned`);
  for (const warning of db.passedOverWarnings()) req.warn(warning);
  const program = (r: TuningRecord) => applyTrace(base, r.trace, { workload: w.key });
  const kernels: (KernelToVerify & { label: string })[] = [];
  if (kind === 'webgpu') {
    const tuned: DeviceSchedule[] = bests.map(({ key, record }) => {
      const fp = record.target.fingerprint;
      const p = program(record);
      kernels.push({ workload: w, unscheduled: base, program: p, trace: record.trace, origin: originOf(record), label: `variant of ${deviceLabel(kind, fp)}: ` });
      return {
        program: p, traceHash: record.traceHash,
        device: { key, vendor: str(fp.vendor), architecture: str(fp.architecture), device: str(fp.device), description: str(fp.description), origin: originOf(record) },
      };
    });
    const t = targets.target('webgpu').defaultTrace?.(base, w.key) ?? trace([], w.key);
    const gp = applyTrace(base, t, { workload: w.key });
    kernels.push({ workload: w, unscheduled: base, program: gp, trace: t, origin: 'default schedule', label: 'generic variant: ' });
    const files = deviceModuleArtifacts(tuned, { program: gp, traceHash: traceHash(t) }, { name: req.name, workload: w.key });
    return { files, kernels, origin: [...bests.map(({ key, record }) => `${key} (${originOf(record)})`), 'generic: the default schedule'].join('; ') };
  }
  const byIsa = new Map<string, DeviceBest>();
  // Records of one CPU at several thread counts are devices of one ISA level: the variant is the one
  // measured with this command's --threads, the count the application is expected to run with.
  const threads = fingerprintThreads(targets.target('c').fingerprint);
  const ranked = [...bests].sort((a, b) => Number(fingerprintThreads(b.record.target.fingerprint) === threads) - Number(fingerprintThreads(a.record.target.fingerprint) === threads));
  for (const b of ranked) {
    const isa = str(b.record.target.fingerprint.isa);
    if (!isIsaLevel(isa)) {
      req.warn(`device ${b.key} (${deviceLabel(kind, b.record.target.fingerprint)}) has no vector ISA loopsmith dispatches on ('${isa}'); the scalar fallback covers it`);
      continue;
    }
    const had = byIsa.get(isa);
    if (had) req.warn(`devices ${had.key} (${deviceLabel(kind, had.record.target.fingerprint)}) and ${b.key} (${deviceLabel(kind, b.record.target.fingerprint)}) are both ${isa}; one variant per ISA level: using ${had.key}'s`);
    else byIsa.set(isa, b);
  }
  const variants: IsaVariant[] = [...byIsa].map(([isa, { key, record }]) => {
    const p = program(record);
    kernels.push({ workload: w, unscheduled: base, program: p, trace: record.trace, origin: originOf(record), label: `${isa} variant: ` });
    return { isa: isa as IsaVariant['isa'], program: p, traceHash: record.traceHash, origin: `${deviceLabel(kind, record.target.fingerprint)} ${key}, ${originOf(record)}` };
  });
  const files = isaDispatchArtifacts(variants, { program: base, traceHash: traceHash(trace([], w.key)) }, { name: req.name, workload: w.key });
  return { files, kernels, origin: [...[...byIsa].map(([isa, { key, record }]) => `${isa}: ${key} (${originOf(record)})`), 'scalar: the loop nest as lowered'].join('; ') };
}

/**
 * Verifies every variant of a multi-device module that this machine's device can run; one over its
 * limits is reported and skipped (it was checked where it was tuned).
 */
export async function verifyVariants(targets: TargetSet, targetName: string, emitted: DevicesEmitted, warn: (s: string) => void, label = ''): Promise<void> {
  for (const k of emitted.kernels) {
    await verifyKernel(targets, targetName, k, `${label}${k.label}`, (why) => warn(`${label}${k.label}not verified here: ${why}`));
  }
}
