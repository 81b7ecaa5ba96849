import { createHash } from 'node:crypto';
import { InputError } from '../ir/errors.js';
import { workload } from '../ir/ops/index.js';
import { TraceFormatError } from '../scheduler/errors.js';
import { Trace, traceFromJson } from '../scheduler/trace.js';
import { EarlyAbort, MEASURE_STATUSES, MeasureStatus, Measurement } from '../targets/measurement.js';
import { timingStats } from '../targets/stats.js';
import { Point, parsePoint } from './space.js';

export const RECORD_FORMAT = 1;

/**
 * Every status a record may hold. Statuses are only ever added to the measurement's list (never
 * renamed or removed), so it also covers every record written before.
 */
export const RECORD_STATUSES: readonly MeasureStatus[] = MEASURE_STATUSES;

export interface Outcome {
  readonly status: MeasureStatus;
  readonly message?: string;
  readonly times?: readonly number[];
  readonly median?: number;
  readonly spread?: number;
  readonly gflops?: number;
  /** Stopped after its checking run (its one time), which took more than `factor` x the best so far. Absent in records before it existed. */
  readonly earlyAbort?: EarlyAbort;
}

/** One line of the records file (format 1), as parsed and checked on load. */
export interface TuningRecord {
  readonly format: typeof RECORD_FORMAT;
  /** First 12 hex digits of sha256 over (workload key, fingerprint key, trace hash, trial, timestamp). */
  readonly id: string;
  readonly workload: { readonly key: string; readonly op: string; readonly params: Readonly<Record<string, number>>; readonly dtype: string };
  readonly target: { readonly kind: string; readonly fingerprint: Readonly<Record<string, unknown>> & { readonly key: string } };
  /** The schedule trace, in the trace format of scheduler/trace.ts. */
  readonly trace: Trace;
  readonly traceHash: string;
  /** The search's own description of the point (its decisions), for warm starts and resume. */
  readonly point?: Point;
  readonly outcome: Outcome;
  readonly strategy: string;
  readonly seed: number;
  readonly trial: number;
  /** ISO 8601. */
  readonly timestamp: string;
  /** Version of the loopsmith package that wrote the record. */
  readonly loopsmith: string;
}

export function recordId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 12);
}

type Json = Record<string, unknown>;
const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const optNum = (x: unknown): x is number | undefined => x === undefined || isNum(x);
const isStatus = (x: unknown): x is MeasureStatus => typeof x === 'string' && (RECORD_STATUSES as readonly string[]).includes(x);
const isParams = (x: unknown): x is Record<string, number> => isObj(x) && Object.values(x).every(isNum);
const isTimes = (x: unknown): x is number[] => Array.isArray(x) && x.every((t) => isNum(t) && t >= 0);
const isFingerprint = (x: unknown): x is Json & { key: string } => isObj(x) && typeof x.key === 'string';

const isPositive = (x: unknown): x is number => isNum(x) && x > 0;

function parseEarlyAbort(x: unknown, status: MeasureStatus, times: number[] | undefined): EarlyAbort | string {
  if (!isObj(x) || !isPositive(x.factor) || !isPositive(x.bestSeconds)) return 'outcome.earlyAbort needs a positive factor and bestSeconds';
  if (status !== 'ok' || (times !== undefined && times.length !== 1)) return 'outcome.earlyAbort is only for an ok outcome with one time';
  return { factor: x.factor, bestSeconds: x.bestSeconds };
}

function parseOutcome(o: unknown): Outcome | string {
  if (!isObj(o)) return 'no outcome';
  const { status, message, times, median, spread, gflops } = o;
  if (!isStatus(status)) return `outcome.status ${JSON.stringify(status) ?? 'missing'} is not one of ${RECORD_STATUSES.join(', ')}`;
  if (message !== undefined && typeof message !== 'string') return 'outcome.message is not a string';
  if (times !== undefined && !isTimes(times)) return 'outcome.times is not a list of seconds';
  if (!optNum(median) || !optNum(spread) || !optNum(gflops)) return 'outcome.median, spread and gflops must be numbers';
  // An `ok` without its time could never be compared, and must not look infinitely fast.
  if (status === 'ok' && !(median !== undefined && median > 0)) return 'an ok outcome needs a positive median';
  const earlyAbort = o.earlyAbort === undefined ? undefined : parseEarlyAbort(o.earlyAbort, status, times);
  if (typeof earlyAbort === 'string') return earlyAbort;
  return {
    status, ...(message !== undefined ? { message } : {}), ...(times !== undefined ? { times } : {}),
    ...(median !== undefined ? { median } : {}), ...(spread !== undefined ? { spread } : {}), ...(gflops !== undefined ? { gflops } : {}),
    ...(earlyAbort ? { earlyAbort } : {}),
  };
}

/**
 * Measured GFLOP/s is FLOPs / median / 1e9 (targets/pipeline.ts): anything further off than
 * rounding was edited or computed for another workload, and would rank the record wrongly.
 */
export const GFLOPS_TOLERANCE = 0.01;

/** The FLOP count of the workload a record names, or what is wrong with its op, params or key. */
function workloadFlops(w: TuningRecord['workload']): number | string {
  let derived;
  try {
    derived = workload(w.op, w.params, w.dtype);
  } catch (e) {
    if (e instanceof InputError) return `workload: ${e.message}`;
    throw e;
  }
  return derived.key === w.key ? derived.flops : `workload key ${w.key} is not that of its op and params (${derived.key})`;
}

function gflopsProblem(o: Outcome, flops: number): string | undefined {
  if (o.gflops === undefined) return undefined;
  if (o.median === undefined) return 'outcome.gflops without a median';
  const expected = flops / o.median / 1e9;
  if (Math.abs(o.gflops - expected) <= GFLOPS_TOLERANCE * expected) return undefined;
  return `outcome.gflops ${o.gflops} is not the workload's ${flops} FLOPs over the median ${o.median} s (${expected.toPrecision(4)})`;
}

/** A record from parsed JSON, every field checked; a string says what is wrong. */
export function parseRecord(x: unknown): TuningRecord | string {
  if (!isObj(x)) return 'not an object';
  if (x.format !== RECORD_FORMAT) return `format ${JSON.stringify(x.format) ?? 'missing'} is not ${RECORD_FORMAT}`;
  const { id, workload: w, target: t, traceHash, strategy, seed, trial, timestamp, loopsmith } = x;
  if (typeof id !== 'string' || typeof traceHash !== 'string') return 'id and traceHash must be strings';
  if (!isObj(w) || typeof w.key !== 'string' || typeof w.op !== 'string' || typeof w.dtype !== 'string' || !isParams(w.params)) return 'workload must have key, op, dtype and numeric params';
  if (!isObj(t) || typeof t.kind !== 'string' || t.kind === '' || !isFingerprint(t.fingerprint)) return 'target must have a kind and a fingerprint with a key';
  if (typeof strategy !== 'string' || !isNum(seed) || !Number.isInteger(trial) || typeof trial !== 'number') return 'strategy, seed and an integer trial are required';
  if (typeof timestamp !== 'string' || typeof loopsmith !== 'string') return 'timestamp and loopsmith version are required';
  let trace: Trace;
  try {
    trace = traceFromJson(x.trace);
  } catch (e) {
    if (e instanceof TraceFormatError) return `trace: ${e.message}`;
    throw e;
  }
  if (trace.workload !== undefined && trace.workload !== w.key) return `its trace is for ${trace.workload}, not ${w.key}`;
  const point = x.point === undefined ? undefined : parsePoint(x.point);
  if (point && 'problem' in point) return point.problem;
  const outcome = parseOutcome(x.outcome);
  if (typeof outcome === 'string') return outcome;
  const flops = workloadFlops({ key: w.key, op: w.op, params: w.params, dtype: w.dtype });
  if (typeof flops === 'string') return flops;
  const inconsistent = gflopsProblem(outcome, flops);
  if (inconsistent) return inconsistent;
  return {
    format: RECORD_FORMAT, id, workload: { key: w.key, op: w.op, params: w.params, dtype: w.dtype }, target: { kind: t.kind, fingerprint: t.fingerprint },
    trace, traceHash, ...(point ? { point } : {}), outcome, strategy, seed, trial, timestamp, loopsmith,
  };
}

/** Does `x` (parsed JSON) hold a valid record? */
export function validateRecord(x: unknown): boolean {
  return typeof parseRecord(x) !== 'string';
}

/** What a record keeps of a measurement. */
export function outcomeOf(m: Measurement): Outcome {
  return {
    status: m.status, ...(m.message ? { message: m.message } : {}), ...(m.times ? { times: [...m.times] } : {}),
    ...(m.stats ? { median: m.stats.median, spread: m.stats.spread } : {}), ...(m.gflops ? { gflops: m.gflops } : {}),
    ...(m.earlyAbort ? { earlyAbort: { ...m.earlyAbort } } : {}),
  };
}

/** A stored outcome as a measurement: the statistics come from the stored times when there are any. */
export function measurementOf(o: Outcome): Measurement {
  const { median } = o;
  const stats = o.times?.length ? timingStats(o.times)
    : median !== undefined ? { runs: 1, median, min: median, max: median, p20: median, p80: median, mean: median, stddev: 0, spread: o.spread ?? 0 } : undefined;
  return {
    status: o.status, ...(o.message ? { message: o.message } : {}), ...(o.times ? { times: o.times } : {}), ...(stats ? { stats } : {}), ...(o.gflops ? { gflops: o.gflops } : {}),
    ...(o.earlyAbort ? { earlyAbort: o.earlyAbort } : {}),
  };
}
