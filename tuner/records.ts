import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { InputError } from '../ir/errors.js';

export const RECORD_FORMAT = 1;
/** Relative to the current directory: tuning results belong to the project that uses them. */
export const DEFAULT_RECORDS_PATH = '.loopsmith/records.jsonl';

export interface TuningRecord {
  format: 1;
  id: string;
  workload: { key: string; op: string; params: Record<string, number>; dtype: string };
  target: { kind: 'c' | 'webgpu'; fingerprint: Record<string, unknown> & { key: string } };
  trace: unknown;
  traceHash: string;
  /** The search's own description of the point (its decisions), for warm starts. */
  point?: unknown;
  outcome: { status: string; message?: string; times?: number[]; median?: number; spread?: number; gflops?: number };
  strategy: string;
  seed: number;
  trial: number;
  timestamp: string;
  loopsmith: string;
}

export function recordId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 12);
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export function validateRecord(x: unknown): x is TuningRecord {
  if (!isObj(x) || x.format !== RECORD_FORMAT || typeof x.id !== 'string' || typeof x.traceHash !== 'string') return false;
  if (!isObj(x.workload) || typeof x.workload.key !== 'string') return false;
  if (!isObj(x.target) || (x.target.kind !== 'c' && x.target.kind !== 'webgpu') || !isObj(x.target.fingerprint) || typeof x.target.fingerprint.key !== 'string') return false;
  if (!isObj(x.outcome) || typeof x.outcome.status !== 'string') return false;
  return typeof x.strategy === 'string' && typeof x.seed === 'number' && typeof x.trial === 'number' && typeof x.timestamp === 'string';
}

/**
 * The append-only JSON-lines records file. Each record is one write of a whole line followed by an
 * fsync, so a killed process leaves at most one torn last line; reading skips it with a warning,
 * and the next append starts on a fresh line, so no earlier record is ever lost.
 */
export class RecordsDb {
  private cache?: TuningRecord[];
  private warnings: string[] = [];

  constructor(readonly path: string) {}

  load(): { records: TuningRecord[]; warnings: string[] } {
    if (this.cache) return { records: this.cache, warnings: this.warnings };
    const records: TuningRecord[] = [];
    const warnings: string[] = [];
    if (existsSync(this.path)) {
      let text: string;
      try {
        text = readFileSync(this.path, 'utf8');
      } catch (e) {
        throw new InputError(`cannot read records ${this.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      const lines = text.split('\n');
      const tornTail = !text.endsWith('\n') && text.length > 0;
      lines.forEach((line, i) => {
        if (line.trim() === '') return;
        const last = i === lines.length - 1;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          warnings.push(last && tornTail ? `${this.path}: the last line is torn (a run was killed while writing it); skipped` : `${this.path}: line ${i + 1} is not JSON; skipped`);
          return;
        }
        if (!validateRecord(parsed)) {
          warnings.push(`${this.path}: line ${i + 1} is not a tuning record; skipped`);
          return;
        }
        records.push(parsed);
      });
    }
    this.cache = records;
    this.warnings = warnings;
    return { records, warnings };
  }

  append(r: TuningRecord): void {
    mkdirSync(dirname(this.path), { recursive: true });
    let prefix = '';
    if (existsSync(this.path)) {
      const text = readFileSync(this.path);
      if (text.length > 0 && text[text.length - 1] !== 0x0a) prefix = '\n';
    }
    const fd = openSync(this.path, 'a');
    try {
      writeSync(fd, prefix + JSON.stringify(r) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.load().records.push(r);
  }

  forWorkload(workloadKey: string, fingerprintKey: string): TuningRecord[] {
    return this.load().records.filter((r) => r.workload.key === workloadKey && r.target.fingerprint.key === fingerprintKey);
  }

  best(workloadKey: string, fingerprintKey: string): TuningRecord | undefined {
    return bestOf(this.forWorkload(workloadKey, fingerprintKey));
  }

  bestWithFallback(workloadKey: string, fp: { kind: string; key: string }, compatible: (other: Record<string, unknown>) => boolean): { record: TuningRecord; match: 'exact' | 'compatible' } | undefined {
    const exact = this.best(workloadKey, fp.key);
    if (exact) return { record: exact, match: 'exact' };
    const other = bestOf(this.load().records.filter((r) => r.workload.key === workloadKey && r.target.kind === fp.kind && compatible(r.target.fingerprint)));
    return other ? { record: other, match: 'compatible' } : undefined;
  }
}

function bestOf(rs: readonly TuningRecord[]): TuningRecord | undefined {
  let best: TuningRecord | undefined;
  for (const r of rs) {
    if (r.outcome.status !== 'ok' || !(r.outcome.gflops! > 0)) continue;
    if (!best || r.outcome.gflops! > best.outcome.gflops!) best = r;
  }
  return best;
}
