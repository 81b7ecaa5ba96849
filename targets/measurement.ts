import { fields, positiveInt, z } from '../ir/schema.js';
import { TimingStats } from './stats.js';

/**
 * How a candidate's measurement ended. Only `ok` carries a time that may count. `rejected`: the
 * candidate breaks a device limit and was never compiled. `codegen_error`: the code generator threw
 * on a legal schedule, a loopsmith bug that must never pass for the candidate's own compile error.
 */
export type MeasureStatus = 'ok' | 'rejected' | 'codegen_error' | 'compile_error' | 'compile_timeout' | 'crash' | 'run_timeout' | 'wrong_answer';
export const MEASURE_STATUSES: readonly MeasureStatus[] = ['ok', 'rejected', 'codegen_error', 'compile_error', 'compile_timeout', 'crash', 'run_timeout', 'wrong_answer'];

export interface Measurement {
  readonly status: MeasureStatus;
  /** The compiler's, the runtime's or the checker's words for anything but `ok`. */
  readonly message?: string;
  readonly times?: readonly number[];
  readonly stats?: TimingStats;
  readonly gflops?: number;
  /** Largest error against the reference, relative to the output's scale. */
  readonly maxError?: number;
  readonly compileSeconds?: number;
  /** How the times were taken: the device's timestamps or the host's clock. */
  readonly clock?: 'gpu-timestamps' | 'wall-clock';
  /** Timed runs left out of `times` as warm-up: the kernel was still getting faster when they ran. */
  readonly warmingRuns?: number;
  /** Seconds the kernel's prepare function took, once, before the checked call (constant inputs: codegen/prepare.ts); never in the times. */
  readonly prepareSeconds?: number;
  /** Verified, then not timed further: its checking run took more than `factor` x the best so far, and is its one time. */
  readonly earlyAbort?: EarlyAbort;
}

export interface EarlyAbort {
  readonly factor: number;
  /** The best median (seconds) it was compared with. */
  readonly bestSeconds: number;
}

const positive = z.number().positive();
const seconds = z.array(z.number().min(0));

/**
 * A measurement as it crosses a process boundary (a farm worker's result): every field checked, so
 * a garbled result is the candidate's failure, never a figure.
 */
export const MEASUREMENT_SCHEMA: z.ZodType<Measurement> = fields({
  status: z.enum(MEASURE_STATUSES as unknown as [MeasureStatus, ...MeasureStatus[]]),
  message: z.string().optional(),
  times: seconds.optional(),
  stats: fields({
    runs: positiveInt, median: z.number().min(0), min: z.number().min(0), max: z.number().min(0), p20: z.number().min(0), p80: z.number().min(0),
    mean: z.number().min(0), stddev: z.number().min(0), spread: z.number().min(0),
  }).optional(),
  gflops: z.number().min(0).optional(),
  maxError: z.number().min(0).optional(),
  compileSeconds: z.number().min(0).optional(),
  clock: z.enum(['gpu-timestamps', 'wall-clock']).optional(),
  warmingRuns: z.int().min(0).optional(),
  earlyAbort: fields({ factor: positive, bestSeconds: positive }).optional(),
}).superRefine((m, ctx) => {
  if (m.status === 'ok' && (m.times === undefined) !== (m.stats === undefined)) ctx.addIssue({ code: 'custom', message: 'an ok measurement has times and their statistics, or neither (verify only)' });
}) as z.ZodType<Measurement>;
