import { Workload } from '../ir/ops/index.js';
import { Trace } from '../scheduler/trace.js';
import { Measurement } from '../targets/measurement.js';
import { Evaluator } from './evaluate.js';
import { measurementOf } from './record.js';
import { ModelMode } from './model-guided.js';
import { RecordStore, TuningRecord } from './records.js';
import { traceHash } from './space.js';
import { StrategyName } from './strategies.js';
import { Finalist, TuningRun, cost } from './tune-run.js';

export type { Finalist } from './tune-run.js';

export interface TuneOptions {
  readonly strategy: StrategyName;
  readonly trials: number;
  /** Stop after this many seconds, whatever the trial count. */
  readonly timeBudgetSeconds?: number;
  readonly seed: number;
  readonly records: RecordStore;
  /** Stop when the best improved by less than this fraction over the last `earlyStopWindow` trials. */
  readonly earlyStopImprovement?: number;
  readonly earlyStopWindow?: number;
  /**
   * End with the final round (TuningRun.finalRound, default true): the fastest few traces measured
   * again in one window and recorded, so the best is the one that holds up.
   */
  readonly remeasure?: boolean;
  /** Traces in the final round (default FINALISTS). */
  readonly finalists?: number;
  readonly onProgress?: (p: Progress) => void;
  /** Set to true (e.g. on Ctrl-C) to stop after the measurement in flight. */
  readonly stop?: { requested: boolean };
  readonly version: string;
  /** At most this many starting points (default and expert schedules, the best of the nearest shapes) are measured first; 0: none. Default 8. */
  readonly startingPoints?: number;
  /** The cost model picks which proposed candidates are measured (default on). */
  readonly model?: ModelMode;
  readonly modelOversample?: number;
  readonly modelExploration?: number;
  /**
   * Trials the strategies plan over: annealing temperature, flex's random seeding and exploration,
   * the Q-learner's epsilon decay. Default `trials`. A run bounded by time alone (`trials`
   * Infinity) needs an estimate here, or those schedules never leave their first phase.
   */
  readonly horizon?: number;
}

export interface Progress {
  readonly trial: number;
  readonly budget: number;
  readonly bestGflops?: number;
  readonly currentGflops?: number;
  readonly failures: number;
  readonly fromRecords: number;
  readonly elapsedSeconds: number;
  readonly etaSeconds?: number;
}

/**
 * The best record of the workload on the device after the run: RecordStore.best, the one that
 * `records best`, `emit` and `compare ... best` take, whichever run measured it.
 */
export interface TuneBest {
  readonly record: TuningRecord;
  readonly recordId: string;
  readonly trace: Trace;
  /** Its outcome as recorded. */
  readonly measurement: Measurement;
  /** Its kernel measured again in the final round (and recorded); absent when interrupted, not asked for, or not a finalist. */
  readonly remeasured?: Measurement;
  /** The records held it before this run started. */
  readonly earlier: boolean;
}

export interface TuneResult {
  readonly workload: Workload;
  readonly best?: TuneBest;
  /** Valid records of this workload on this device in the file when the run began. */
  readonly recordsBefore: number;
  readonly trials: number;
  readonly measured: number;
  /** Trials answered by records the file held before this run (resumed trials included). */
  readonly fromRecords: number;
  /** Trials that proposed a kernel this run had measured already. */
  readonly repeats: number;
  /** Trials of an earlier run of the same search that this run continued from. */
  readonly resumed: number;
  readonly failures: Record<string, number>;
  /** Trials verified and then stopped after one run, far slower than the best (the factors their markers name). */
  readonly earlyAborts: { readonly count: number; readonly factors: readonly number[] };
  /** Best GFLOP/s after each trial (0 before the first valid one). */
  readonly curve: readonly number[];
  readonly stoppedBy: 'trials' | 'time' | 'no-improvement' | 'interrupted';
  readonly spaceSize: number;
  readonly validFraction: number;
  readonly model: ModelMode;
  /** Candidates the cost model passed over (proposed, valid, not measured). */
  readonly passedOver: number;
  /** Rows the cost model has learnt from, at the end. */
  readonly modelRows: number;
  readonly warnings: readonly string[];
  /** Starting points measured before the search (starting-points.ts), with their outcomes. */
  readonly started: readonly { readonly label: string; readonly measurement: Measurement }[];
  /** The final round: each finalist's fastest record before it and its measurement in it, fastest first. */
  readonly finalRound: readonly Finalist[];
}

/**
 * The tuning loop: a strategy proposes points, the space turns them into traces, traces already in
 * the records are not measured again (their stored outcome is used), the rest are compiled in
 * parallel and measured one at a time (each verified before it is timed), and every measurement is
 * appended to the records as soon as it exists, so a killed run loses nothing it measured.
 */
export async function tune(w: Workload, evaluator: Evaluator, opts: TuneOptions): Promise<TuneResult> {
  const run = new TuningRun(w, evaluator, opts);
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  run.resume();
  await run.start(Math.min(opts.startingPoints ?? 8, opts.trials - run.trials));
  const stoppedBy = await search(run, opts, elapsed, evaluator.batchSize ?? (evaluator.spaceTarget.style === 'cpu' ? Math.max(2, evaluator.spaceTarget.threads) : 1));
  run.saveLearner();
  run.saveModel();
  const finalists = (opts.remeasure ?? true) && !opts.stop?.requested ? await run.finalRound(opts.finalists ?? FINALISTS, opts.stop) : [];
  const record = run.bestRecord();
  const remeasured = record && finalists.find((f) => traceHash(f.record.trace) === traceHash(record.trace))?.now;
  const best: TuneBest | undefined = record && {
    record, recordId: record.id, trace: record.trace, measurement: measurementOf(record.outcome), earlier: run.isEarlier(record), ...(remeasured ? { remeasured } : {}),
  };
  return {
    workload: w, recordsBefore: run.recordsBefore, trials: run.trials, measured: run.measured, fromRecords: run.fromRecords, repeats: run.repeats, resumed: run.resumed,
    failures: run.failures, curve: run.curve, stoppedBy,
    earlyAborts: { count: run.earlyAborts.count, factors: [...run.earlyAborts.factors].sort((a, b) => a - b) },
    ...(best ? { best } : {}),
    spaceSize: run.space.size(), validFraction: run.proposed ? 1 - run.invalid / run.proposed : 1, started: run.started, finalRound: finalists,
    model: run.guide ? 'on' : 'off', passedOver: run.guide?.passedOver ?? 0, modelRows: run.guide?.rows ?? 0, warnings: [...run.warnings, ...opts.records.passedOverWarnings()],
  };
}

/**
 * Traces measured again at the end. Three, because on a shared host the first few of a tune are
 * often within its noise of each other (YOLO C8: 200 recorded, 159 in the bench; its expert 177).
 */
export const FINALISTS = 3;

/** Candidates per second a tune plans for when its time budget is what bounds it (measured: 1-3 on C, about 1 on WebGPU). */
export const PLANNED_RATE: Readonly<Record<string, number>> = { c: 2, webgpu: 1 };

/**
 * The horizon a run plans over: its trials, or, when its time budget would end it first, the
 * trials that budget holds at PLANNED_RATE. Planned over a `--trials 100000` it never reached,
 * flex spent a 5-minute tune of YOLO C8 in its random seeding phase (a tenth of the horizon).
 */
export function plannedHorizon(trials: number, timeBudgetSeconds: number | undefined, kind: string): number {
  if (timeBudgetSeconds === undefined) return trials;
  return Math.min(trials, Math.max(20, Math.round(timeBudgetSeconds * (PLANNED_RATE[kind] ?? 1))));
}

/** Batches until the budget, the time, an interrupt or a flat best-so-far curve stops the search. */
async function search(run: TuningRun, opts: TuneOptions, elapsed: () => number, batchSize: number): Promise<TuneResult['stoppedBy']> {
  const window = opts.earlyStopWindow ?? Math.max(30, Math.floor(opts.trials / 3));
  // The window counts searched trials only: starting points (an expert schedule often among them)
  // set a high best that the search needs its own window to beat, not one shortened by theirs.
  const searchFrom = run.trials;
  const minGain = opts.earlyStopImprovement ?? 0.01;
  while (run.trials < opts.trials) {
    if (opts.stop?.requested) return 'interrupted';
    if (opts.timeBudgetSeconds !== undefined && elapsed() > opts.timeBudgetSeconds) return 'time';
    const outcomes = await run.batch(Math.min(batchSize, opts.trials - run.trials));
    const last = outcomes.filter((m) => m.status === 'ok').map((m) => run.workload.flops / cost(m) / 1e9).pop();
    const { curve, trials } = run;
    opts.onProgress?.({
      trial: trials, budget: opts.trials, ...(run.best ? { bestGflops: curve[curve.length - 1]! } : {}), ...(last ? { currentGflops: last } : {}),
      failures: Object.values(run.failures).reduce((a, b) => a + b, 0), fromRecords: run.fromRecords, elapsedSeconds: elapsed(),
      // A time budget ends the run first when the trials would outlast it.
      etaSeconds: Math.min((elapsed() / Math.max(1, trials)) * (opts.trials - trials), opts.timeBudgetSeconds !== undefined ? Math.max(0, opts.timeBudgetSeconds - elapsed()) : Infinity),
    });
    if (trials >= window && curve.length > window) {
      const then = curve[curve.length - 1 - window]!, now = curve[curve.length - 1]!;
      if (then > 0 && now / then - 1 < minGain && trials - searchFrom >= window) return 'no-improvement';
    }
  }
  return 'trials';
}
