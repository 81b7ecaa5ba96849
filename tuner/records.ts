import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../ir/errors.js';
import { TuningRecord, parseRecord } from './record.js';

export { type TuningRecord, recordId, validateRecord } from './record.js';

/** The records of a file, and what was skipped on the way. */
export interface LoadedRecords {
  readonly records: TuningRecord[];
  /** One line per kind of problem (torn last line, invalid lines with their count). */
  readonly warnings: string[];
  /** Lines that were not valid records (the torn last line included). */
  readonly invalid: number;
}

/** Invalid lines named in the warning; the rest are only counted. */
const NAMED_INVALID = 3;

/** Relative to the current directory: tuning results belong to the project that uses them. */
export const DEFAULT_RECORDS_PATH = '.loopsmith/records.jsonl';

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

/**
 * The append-only JSON-lines records file. Each record is one write of a whole line followed by an
 * fsync, so a killed process leaves at most one torn last line; reading skips it with a warning,
 * and the next append starts on a fresh line, so no earlier record is ever lost. Records come out
 * parsed and checked (record.ts): a line that is not a valid record is skipped and counted, so it
 * can never become best.
 */
export class RecordStore {
  private cache?: LoadedRecords;

  constructor(readonly path: string) {}

  /** All valid records, in file order (read once, then cached; appends through this instance are added). */
  load(): LoadedRecords {
    if (!this.cache) this.cache = this.read();
    return this.cache;
  }

  private read(): LoadedRecords {
    const records: TuningRecord[] = [];
    const warnings: string[] = [];
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { records, warnings, invalid: 0 };
      const why = code ?? String((e as Error).message).split('\n')[0];
      throw new InputError(`cannot read the records file ${this.path}: ${why}`);
    }
    const lines = text.split('\n');
    // After a final '\n' split leaves an empty string; anything else is a line that was never finished.
    const torn = lines.pop()!;
    const bad: string[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        bad.push(`line ${i + 1} is not JSON`);
        return;
      }
      const r = parseRecord(parsed);
      if (typeof r === 'string') bad.push(`line ${i + 1} is not a tuning record (${r})`);
      else records.push(r);
    });
    if (bad.length) {
      const more = bad.length > NAMED_INVALID ? `; and ${bad.length - NAMED_INVALID} more` : '';
      warnings.push(`${this.path}: skipped ${bad.length} invalid line${bad.length > 1 ? 's' : ''}: ${bad.slice(0, NAMED_INVALID).join('; ')}${more}`);
    }
    const tornLine = torn.trim() !== '';
    if (tornLine) warnings.push(`${this.path}: the last line is torn (line ${lines.length + 1} has no line end: a run was killed while writing it); skipped`);
    return { records, warnings, invalid: bad.length + (tornLine ? 1 : 0) };
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
