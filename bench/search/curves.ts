/** Reading the runs of one workload: best-so-far at a time, medians over seeds, time to 90 % of the best, ratios to the peers. */
import { median } from 'simple-statistics';
import type { PeerResult, SearchBenchSettings, SearchRun, WorkloadResult } from './result.js';

const med = (xs: readonly number[]) => (xs.length ? median([...xs]) : NaN);

/** The best a run had found `seconds` into its tune (its final search best once it had stopped). */
export function bestAt(run: SearchRun, seconds: number): number {
  let b = 0;
  run.byTrial.seconds.forEach((s, i) => { if (s <= seconds) b = run.byTrial.best[i]!; });
  return b;
}

/** Seconds into the tune at which the run's best first reached `gflops`. */
export function secondsTo(run: SearchRun, gflops: number): number | undefined {
  const i = run.byTrial.best.findIndex((b) => b >= gflops);
  return i < 0 ? undefined : run.byTrial.seconds[i];
}

/** Where the table reads the curves: 60 s and the budget (180 s without one). */
export function marks(s: Pick<SearchBenchSettings, 'timeBudgetSeconds'>): number[] {
  const end = s.timeBudgetSeconds ?? 180;
  return [...new Set([60, end].filter((m) => m <= end))];
}

const ok = (p: PeerResult) => p.status === 'ok' && (p.gflops ?? 0) > 0;
export const peerGflops = (w: WorkloadResult) => w.peers.find((p) => p.kind === 'peer' && ok(p))?.gflops;
/** The fastest verified expert schedule. */
export const expertGflops = (w: WorkloadResult) => Math.max(0, ...w.peers.filter((p) => p.kind === 'expert' && ok(p)).map((p) => p.gflops!)) || undefined;

/** The best any run of the workload found during its search. */
export const topSearch = (w: WorkloadResult) => Math.max(0, ...w.runs.flatMap((r) => r.byTrial.best));
/** The best re-measured final kernel of any run. */
export const topFinal = (w: WorkloadResult) => Math.max(0, ...w.runs.map((r) => r.final?.gflops ?? 0));

export interface ConfigSummary {
  readonly config: string;
  readonly seeds: number;
  /** Median over seeds of the best at each mark. */
  readonly atMarks: readonly number[];
  readonly final?: { readonly median: number; readonly min: number; readonly max: number; readonly of: number };
  readonly xPeer?: number;
  readonly xExpert?: number;
  readonly candidatesPerSecond: number;
  readonly trials: number;
  readonly earlyAborts: number;
  readonly passedOver: number;
  /** Median seconds to 90 % of the best any configuration found, over the seeds that got there. */
  readonly to90?: { readonly seconds?: number; readonly reached: number };
}

export function summarize(w: WorkloadResult, config: string, at: readonly number[]): ConfigSummary {
  const runs = w.runs.filter((r) => r.config === config);
  const finals = runs.flatMap((r) => (r.final ? [r.final.gflops] : []));
  const final = finals.length ? { median: med(finals), min: Math.min(...finals), max: Math.max(...finals), of: runs.length } : undefined;
  const peer = peerGflops(w), expert = expertGflops(w), top = topSearch(w);
  const reach = runs.flatMap((r) => { const s = secondsTo(r, 0.9 * top); return s === undefined ? [] : [s]; });
  return {
    config, seeds: runs.length, atMarks: at.map((m) => med(runs.map((r) => bestAt(r, m)))),
    ...(final ? { final } : {}), ...(final && peer ? { xPeer: final.median / peer } : {}), ...(final && expert ? { xExpert: final.median / expert } : {}),
    candidatesPerSecond: med(runs.map((r) => r.candidatesPerSecond)), trials: med(runs.map((r) => r.trials)),
    earlyAborts: med(runs.map((r) => r.earlyAborts)), passedOver: med(runs.map((r) => r.passedOver)),
    ...(top > 0 ? { to90: { ...(reach.length ? { seconds: med(reach) } : {}), reached: reach.length } } : {}),
  };
}

/** Median over seeds of each configuration's best at whole seconds, from 0 to the longest search. */
export function secondsGrid(w: WorkloadResult, configs: readonly string[]): { seconds: number[]; curves: Map<string, number[]> } {
  const end = Math.ceil(Math.max(0, ...w.runs.map((r) => r.searchSeconds)));
  const seconds = Array.from({ length: end + 1 }, (_, i) => i);
  const curves = new Map(configs.map((c) => {
    const runs = w.runs.filter((r) => r.config === c);
    return [c, seconds.map((t) => med(runs.map((r) => bestAt(r, t))))] as const;
  }));
  return { seconds, curves };
}

/** Median over seeds of each configuration's best after each trial; a run that stopped keeps its last value. */
export function trialGrid(w: WorkloadResult, configs: readonly string[]): { trials: number[]; curves: Map<string, number[]> } {
  const n = Math.max(0, ...w.runs.map((r) => r.byTrial.best.length));
  const trials = Array.from({ length: n }, (_, i) => i + 1);
  const curves = new Map(configs.map((c) => {
    const runs = w.runs.filter((r) => r.config === c);
    return [c, trials.map((t) => med(runs.map((r) => r.byTrial.best[Math.min(t, r.byTrial.best.length) - 1] ?? 0)))] as const;
  }));
  return { trials, curves };
}
