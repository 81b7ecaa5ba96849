/** What `npm run bench:search` writes to bench-results/search-<date>.json: every run of every workload, its peers and the speed targets. */
import type { PeerChoice } from '../../cli/bench-results.js';
import type { TimingStats } from '../../targets/stats.js';
import type { ModelMode } from '../../tuner/model-guided.js';
import type { StrategyName } from '../../tuner/strategies.js';
import type { BenchTargetKind } from './workloads.js';

export const SEARCH_BENCH_FORMAT = 1;

/** One curve of the table: a strategy with the cost model on (`flex`) or off (`flex-nomodel`). */
export interface SearchConfig {
  readonly label: string;
  readonly strategy: StrategyName;
  readonly model: ModelMode;
}

/** A reference point measured once per workload: the peer library at its best, or an expert schedule through the target's pipeline. */
export interface PeerResult {
  readonly kind: 'peer' | 'expert';
  readonly name: string;
  readonly status: string;
  readonly gflops?: number;
  readonly stats?: TimingStats;
  readonly note?: string;
  /** The peer's configurations, each verified (peer-select.ts). */
  readonly choice?: Omit<PeerChoice, 'peer' | 'section' | 'workload' | 'threads'>;
}

/** One tune from fresh records. */
export interface SearchRun {
  readonly config: string;
  readonly strategy: StrategyName;
  readonly model: ModelMode;
  readonly seed: number;
  /** Best GFLOP/s after each trial (0 before the first correct kernel) and the seconds since the tune began when it was known. */
  readonly byTrial: { readonly best: readonly number[]; readonly seconds: readonly number[] };
  readonly trials: number;
  readonly measured: number;
  /** Trials answered from the records: 0 for a cold start. */
  readonly fromRecords: number;
  /** Seconds of searching (starting points and batches, without the final re-measurement), and of the whole tune. */
  readonly searchSeconds: number;
  readonly totalSeconds: number;
  readonly candidatesPerSecond: number;
  readonly earlyAborts: number;
  readonly passedOver: number;
  readonly failures: Readonly<Record<string, number>>;
  readonly stoppedBy: string;
  readonly started: readonly { readonly label: string; readonly status: string; readonly gflops?: number }[];
  /** The best kernel re-measured at the end (`remeasured: false` when that failed and the search's figure stands). */
  readonly final?: { readonly gflops: number; readonly median: number; readonly spread: number; readonly remeasured: boolean };
}

export interface WorkloadResult {
  readonly id: string;
  readonly key: string;
  readonly target: BenchTargetKind;
  /** The target as `loopsmith devices` names it. */
  readonly device: string;
  /** The command that runs this workload alone with the same settings. */
  readonly command: string;
  readonly peers: readonly PeerResult[];
  readonly runs: readonly SearchRun[];
}

export interface SpeedTarget {
  readonly what: string;
  readonly workload: string;
  /** measured / wanted-as-stated (e.g. tuned GFLOP/s over OpenBLAS's); absent when it could not be measured. */
  readonly ratio?: number;
  readonly threshold: number;
  readonly unit: 'x' | '/s';
  readonly met?: boolean;
  readonly note?: string;
}

export interface SearchBenchSettings {
  readonly timeBudgetSeconds?: number;
  /** Infinity (no limit but the time) is written as null in JSON. */
  readonly trials: number;
  /** Trials the strategies planned their schedules over, per target kind (TuneOptions.horizon). */
  readonly horizon: Readonly<Partial<Record<BenchTargetKind, number>>>;
  readonly seeds: number;
  readonly configs: readonly SearchConfig[];
  readonly startingPoints: number;
  readonly threads: number;
  readonly minSeconds: number;
  /** Kernels re-measured at the end of each tune (3 before the tuner re-measured only the best record, 1 since). */
  readonly remeasure: number;
}

export interface SearchBenchResult {
  readonly format: typeof SEARCH_BENCH_FORMAT;
  readonly date: string;
  readonly command: string;
  readonly loopsmith: { readonly version: string; readonly commit?: string };
  readonly machine: { readonly cpu: string; readonly summary: readonly string[] };
  readonly settings: SearchBenchSettings;
  readonly load: { readonly threshold: number; readonly seen: readonly { readonly at: string; readonly load: number }[]; readonly underLoad: boolean };
  readonly workloads: readonly WorkloadResult[];
  readonly targets: readonly SpeedTarget[];
}
