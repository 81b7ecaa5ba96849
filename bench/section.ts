/** What every bench section gets and gives back. */
import type { BenchRow, PeerChoice } from '../cli/bench-results.js';
import type { TimingStats } from '../targets/stats.js';
import type { MeasureSettings } from '../targets/target.js';
import type { RecordStore } from '../tuner/records.js';
import type { OpenBlas } from './openblas.js';
import type { OneDnn } from './onednn.js';

export interface SectionContext {
  readonly quick: boolean;
  /** 1 and every core. */
  readonly threads: readonly number[];
  readonly settings: Partial<MeasureSettings>;
  /** The CPU peer, or why there is none. */
  readonly blas: OpenBlas | string;
  /** The CPU convolution peer (oneDNN), or why there is none. */
  readonly dnnl: OneDnn | string;
  readonly log: (line: string) => void;
  /** Where tuned schedules come from (--records); absent: no tuned rows. */
  readonly records?: RecordStore;
}

export interface SectionOutput {
  readonly rows: BenchRow[];
  readonly peers: PeerChoice[];
  /** Lines for the run's header (what the section could not measure, and why). */
  summary?: readonly string[];
}

/** A row from a pipeline measurement (or a peer run, which has the same fields). */
export function row(base: Pick<BenchRow, 'section' | 'workload' | 'kernel' | 'kind'> & { threads?: number; layer?: string }, m: { status: string; stats?: TimingStats; gflops?: number; message?: string; note?: string }): BenchRow {
  const note = m.message ?? m.note;
  return { ...base, status: m.status, ...(m.stats ? { stats: m.stats } : {}), ...(m.gflops !== undefined ? { gflops: m.gflops } : {}), ...(note ? { note } : {}) };
}

/** Measurement settings of a run: --quick keeps each kernel to a few short repeats. */
export function runSettings(quick: boolean): Partial<MeasureSettings> {
  return quick ? { minSeconds: 0.05, maxRepeats: 5, warmup: 1, runTimeoutMs: 600_000 } : { minSeconds: 1, warmup: 2, runTimeoutMs: 600_000 };
}
