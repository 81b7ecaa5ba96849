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
  /** Verified, then not timed further: its checking run took more than `factor` x the best so far, and is its one time. */
  readonly earlyAbort?: EarlyAbort;
}

export interface EarlyAbort {
  readonly factor: number;
  /** The best median (seconds) it was compared with. */
  readonly bestSeconds: number;
}
