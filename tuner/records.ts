import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { InputError } from '../ir/errors.js';

export const RECORD_FORMAT = 1;
/** Relative to the current directory: tuning results belong to the project that uses them. */
export const DEFAULT_RECORDS_PATH = '.loopsmith/records.jsonl';

export interface TuningRecord {
  format: 1;
  /** First 12 hex digits of sha256 over (workload key, fingerprint key, trace hash, trial, timestamp). */
  id: string;
  workload: { key: string; op: string; params: Record<string, number>; dtype: string };
  target: { kind: string; fingerprint: Record<string, unknown> & { key: string } };
  /** The schedule trace (versioned JSON from scheduler/trace.ts), stored as given. */
  trace: unknown;
  traceHash: string;
  /** The search's own description of the point (its decisions), for warm starts. */
  point?: unknown;
  outcome: { status: string; message?: string; times?: number[]; median?: number; spread?: number; gflops?: number };
  strategy: string;
  seed: number;
  trial: number;
  /** ISO 8601. */
  timestamp: string;
  /** Version of the loopsmith package that wrote the record. */
  loopsmith: string;
}

export function recordId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 12);
}

let version: string | undefined;
/** The version in loopsmith's package.json (this module lives at dist/tuner/records.js), or 'unknown'. */
export function loopsmithVersion(): string {
  if (version === undefined) {
    try {
      const v = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }).version;
      version = typeof v === 'string' ? v : 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const optNum = (x: unknown): boolean => x === undefined || isNum(x);

/** Structural check of the fields every record must have, with their types. */
export function validateRecord(x: unknown): x is TuningRecord {
  if (!isObj(x) || x.format !== RECORD_FORMAT || typeof x.id !== 'string' || typeof x.traceHash !== 'string') return false;
  const w = x.workload;
  if (!isObj(w) || typeof w.key !== 'string' || typeof w.op !== 'string' || typeof w.dtype !== 'string') return false;
  if (!isObj(w.params) || !Object.values(w.params).every(isNum)) return false;
  const t = x.target;
  if (!isObj(t) || typeof t.kind !== 'string' || t.kind === '' || !isObj(t.fingerprint) || typeof t.fingerprint.key !== 'string') return false;
  if (!('trace' in x)) return false;
  const o = x.outcome;
  if (!isObj(o) || typeof o.status !== 'string') return false;
  if (o.message !== undefined && typeof o.message !== 'string') return false;
  if (o.times !== undefined && !(Array.isArray(o.times) && o.times.every(isNum))) return false;
  if (!optNum(o.median) || !optNum(o.spread) || !optNum(o.gflops)) return false;
  return typeof x.strategy === 'string' && isNum(x.seed) && Number.isInteger(x.trial)
    && typeof x.timestamp === 'string' && typeof x.loopsmith === 'string';
}

/**
 * The append-only JSON-lines records file. Each record is one write of a whole line followed by an
 * fsync, so a killed process leaves at most one torn last line; reading skips it with a warning,
 * and the next append starts on a fresh line, so no earlier record is ever lost.
 */
export class RecordsDb {
  private cache?: { records: TuningRecord[]; warnings: string[] };

  constructor(readonly path: string) {}

  /** All records, in file order (read once, then cached; appends through this instance are added). */
  load(): { records: TuningRecord[]; warnings: string[] } {
    if (!this.cache) this.cache = this.read();
    return this.cache;
  }

  private read(): { records: TuningRecord[]; warnings: string[] } {
    const records: TuningRecord[] = [];
    const warnings: string[] = [];
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { records, warnings };
      const why = code ?? String((e as Error).message).split('\n')[0];
      throw new InputError(`cannot read the records file ${this.path}: ${why}`);
    }
    const lines = text.split('\n');
    // After a final '\n' split leaves an empty string; anything else is a line that was never finished.
    const torn = lines.pop()!;
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        warnings.push(`${this.path}: line ${i + 1} is not JSON; skipped`);
        return;
      }
      if (validateRecord(parsed)) records.push(parsed);
      else warnings.push(`${this.path}: line ${i + 1} is not a tuning record; skipped`);
    });
    if (torn.trim() !== '') {
      warnings.push(`${this.path}: the last line is torn (line ${lines.length + 1} has no line end: a run was killed while writing it); skipped`);
    }
    return { records, warnings };
  }

  /** Appends one record durably: a single write of the whole line, then fsync. */
  append(r: TuningRecord): void {
    const line = JSON.stringify(r) + '\n';
    mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(this.path, 'a+');
    try {
      // A torn line from a killed run has no '\n': end it so this record starts on its own line.
      const size = fstatSync(fd).size;
      let prefix = '';
      if (size > 0) {
        const last = Buffer.alloc(1);
        if (readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a) prefix = '\n';
      }
      writeSync(fd, prefix + line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // Only extend a cache that exists: a later lazy load reads the record from the file.
    this.cache?.records.push(r);
  }

  /** Records for a workload on exactly this device, in file order. */
  forWorkload(workloadKey: string, fingerprintKey: string): TuningRecord[] {
    return this.load().records.filter((r) => r.workload.key === workloadKey && r.target.fingerprint.key === fingerprintKey);
  }

  /** The fastest record that ran correctly (status 'ok') for a workload on exactly this device. */
  best(workloadKey: string, fingerprintKey: string): TuningRecord | undefined {
    return bestOf(this.forWorkload(workloadKey, fingerprintKey));
  }

  /** Exact device first; otherwise the best over devices of the same kind that `compatible` accepts. */
  bestWithFallback(
    workloadKey: string, fp: { kind: string; key: string }, compatible: (other: Record<string, unknown>) => boolean,
  ): { record: TuningRecord; match: 'exact' | 'compatible' } | undefined {
    const exact = this.best(workloadKey, fp.key);
    if (exact) return { record: exact, match: 'exact' };
    const other = bestOf(this.load().records.filter(
      (r) => r.workload.key === workloadKey && r.target.kind === fp.kind && r.target.fingerprint.key !== fp.key && compatible(r.target.fingerprint)));
    return other ? { record: other, match: 'compatible' } : undefined;
  }
}

/** Max gflops (for one workload that is min median); records that only have a median compare by it. */
function bestOf(rs: readonly TuningRecord[]): TuningRecord | undefined {
  let best: TuningRecord | undefined;
  for (const r of rs) {
    if (r.outcome.status !== 'ok') continue;
    const g = r.outcome.gflops, m = r.outcome.median;
    if (!(g !== undefined && g > 0) && !(m !== undefined && m > 0)) continue;
    if (!best || faster(r, best)) best = r;
  }
  return best;
}

function faster(a: TuningRecord, b: TuningRecord): boolean {
  const ga = a.outcome.gflops, gb = b.outcome.gflops;
  if (ga !== undefined && ga > 0 && gb !== undefined && gb > 0) return ga > gb;
  const ma = a.outcome.median, mb = b.outcome.median;
  if (ma !== undefined && ma > 0 && mb !== undefined && mb > 0) return ma < mb;
  return ga !== undefined && ga > 0; // one has gflops, the other only a median: prefer the comparable kind
}
