import { createHash } from 'node:crypto';
import { InputError } from '../ir/errors.js';
import { check, fields, nonEmpty, safeInt, shown, z } from '../ir/schema.js';
import { cpuFingerprintKey, fingerprintThreads } from '../targets/compiler.js';
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
  /**
   * The hash of the code the target generated and measured (absent in records before it existed,
   * and for failures before code existed). Schedules that generate the same code are one kernel:
   * they stand together (RecordStore.fastestFirst), and the final round measures the kernel once.
   */
  readonly codeHash?: string;
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

const positive = z.number().positive();

/** A stored median and the median of the stored times agree to rounding: both come from the same numbers. */
const MEDIAN_TOLERANCE = 1e-9;

const EARLY_ABORT = fields({ factor: positive, bestSeconds: positive });

const OUTCOME = fields({
  status: z.enum(RECORD_STATUSES as unknown as [MeasureStatus, ...MeasureStatus[]]),
  message: z.string().optional(),
  times: z.array(z.number().min(0)).optional(),
  median: z.number().optional(),
  spread: z.number().optional(),
  gflops: z.number().optional(),
  earlyAbort: EARLY_ABORT.optional(),
}).superRefine((o, ctx) => {
  // An `ok` without its time could never be compared, and must not look infinitely fast.
  if (o.status === 'ok' && !(o.median !== undefined && o.median > 0)) ctx.addIssue({ code: 'custom', path: ['median'], message: 'an ok outcome needs a positive median' });
  if (o.earlyAbort && (o.status !== 'ok' || (o.times !== undefined && o.times.length !== 1))) ctx.addIssue({ code: 'custom', path: ['earlyAbort'], message: 'is only for an ok outcome with one time' });
  // The median is computed from the times (targets/pipeline.ts): one that is not theirs was edited, and would rank the record by a time it never ran in.
  if (o.median !== undefined && o.times?.length) {
    const own = timingStats(o.times).median;
    if (Math.abs(o.median - own) > MEDIAN_TOLERANCE * own) ctx.addIssue({ code: 'custom', path: ['median'], message: `${o.median} is not the median of its ${o.times.length} times (${own})` });
  }
}).transform((o): Outcome => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as unknown as Outcome);

/** One line of the records file (format 1): every field checked; the fingerprint is the target's own, open. */
export const RECORD_SCHEMA = fields({
  format: z.literal(RECORD_FORMAT, { error: (iss) => `${shown(iss.input)} is not ${RECORD_FORMAT} (a records file of another loopsmith?)` }),
  id: nonEmpty,
  workload: fields({ key: nonEmpty, op: nonEmpty, params: z.record(z.string(), safeInt), dtype: nonEmpty }),
  target: fields({ kind: nonEmpty, fingerprint: z.looseObject({ key: nonEmpty }) }),
  trace: z.unknown(),
  traceHash: nonEmpty,
  codeHash: nonEmpty.optional(),
  point: z.unknown().optional(),
  outcome: OUTCOME,
  strategy: z.string(),
  seed: safeInt,
  trial: safeInt,
  timestamp: nonEmpty,
  loopsmith: z.string(),
});

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

/**
 * A record from parsed JSON, every field checked by RECORD_SCHEMA, the trace by the trace schema
 * and the point by the point schema, then what ties them together (the trace's workload, the
 * workload key, the GFLOP/s); a string says what is wrong.
 */
export function parseRecord(x: unknown): TuningRecord | string {
  const r = check(RECORD_SCHEMA, x);
  if (!r.ok) return r.problem;
  const { trace: rawTrace, point: rawPoint, ...rest } = r.value;
  let trace: Trace;
  try {
    trace = traceFromJson(rawTrace);
  } catch (e) {
    if (e instanceof TraceFormatError) return `trace: ${e.message}`;
    throw e;
  }
  const w = rest.workload;
  const fp = rest.target.fingerprint;
  // A C record's key must be the one its fields give (a worker posing as another device in tests says so).
  const derived = rest.target.kind === 'c' && fp.testOverride !== true ? cpuFingerprintKey(fp) : undefined;
  if (derived !== undefined && derived !== fp.key) return `target.fingerprint.key ${fp.key} is not the key of its fields (${derived}: ${fingerprintThreads(fp)} thread${fingerprintThreads(fp) > 1 ? 's' : ''}, ${String(fp.model)})`;
  if (trace.workload !== undefined && trace.workload !== w.key) return `its trace is for ${trace.workload}, not ${w.key}`;
  const point = rawPoint === undefined ? undefined : parsePoint(rawPoint);
  if (point && 'problem' in point) return point.problem;
  const flops = workloadFlops(w);
  if (typeof flops === 'string') return flops;
  const inconsistent = gflopsProblem(rest.outcome, flops);
  if (inconsistent) return inconsistent;
  return { ...rest, format: RECORD_FORMAT, trace, ...(point ? { point } : {}) } as TuningRecord;
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
