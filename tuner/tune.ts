import { dirname, join } from 'node:path';
import { Workload, lowerWorkload } from '../ir/ops/index.js';
import { Program } from '../ir/program.js';
import { rng } from '../ir/random.js';
import { LoopsmithError } from '../ir/errors.js';
import { applyTrace } from '../scheduler/apply.js';
import { Trace } from '../scheduler/trace.js';
import { Measurement } from '../targets/measurement.js';
import { ReferenceSpec } from '../targets/target.js';
import { Evaluator } from './evaluate.js';
import { QLearner } from './qmodel.js';
import { RecordsDb, TuningRecord, recordId } from './records.js';
import { Point, ScheduleSpace, traceHash } from './space.js';
import { Feedback, StrategyName, makeStrategy } from './strategies.js';

export interface TuneOptions {
  readonly strategy: StrategyName;
  readonly trials: number;
  /** Stop after this many seconds, whatever the trial count. */
  readonly timeBudgetSeconds?: number;
  readonly seed: number;
  readonly records: RecordsDb;
  /** Stop when the best improved by less than this fraction over the last `earlyStopWindow` trials. */
  readonly earlyStopImprovement?: number;
  readonly earlyStopWindow?: number;
  /** How many of the best distinct kernels to measure again at the end. */
  readonly remeasure?: number;
  readonly onProgress?: (p: Progress) => void;
  /** Set to true (e.g. on Ctrl-C) to stop after the measurement in flight. */
  readonly stop?: { requested: boolean };
  readonly version: string;
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

export interface TuneResult {
  readonly workload: Workload;
  readonly best?: { trace: Trace; measurement: Measurement; remeasured?: Measurement; recordId: string };
  readonly trials: number;
  readonly measured: number;
  readonly fromRecords: number;
  /** Trials of an earlier run of the same search that this run continued from. */
  readonly resumed: number;
  readonly failures: Record<string, number>;
  /** Best GFLOP/s after each trial (0 before the first valid one). */
  readonly curve: readonly number[];
  readonly stoppedBy: 'trials' | 'time' | 'no-improvement' | 'interrupted';
  readonly spaceSize: number;
  readonly validFraction: number;
  readonly warnings: readonly string[];
}

const cost = (m: Measurement) => (m.status === 'ok' && m.stats ? m.stats.median : Infinity);

/**
 * The tuning loop: a strategy proposes points, the space turns them into traces, traces already in
 * the records are not measured again (their stored outcome is used), the rest are compiled in
 * parallel and measured one at a time (each verified before it is timed), and every measurement is
 * appended to the records as soon as it exists, so a killed run loses nothing it measured.
 */
export async function tune(w: Workload, evaluator: Evaluator, opts: TuneOptions): Promise<TuneResult> {
  const base = lowerWorkload(w);
  const space = new ScheduleSpace(base, evaluator.spaceTarget);
  const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };
  const { records: db } = opts;
  const loaded = db.load();
  const fp = evaluator.fingerprint;
  const prior = new Map(db.forWorkload(w.key, fp.key).map((r) => [r.traceHash, r] as const));
  const r = rng(opts.seed);
  const seen = new Set<string>();
  // Warm start: the best points measured before, whatever strategy found them.
  const warm = [...prior.values()].filter((x) => x.outcome.status === 'ok' && x.point)
    .sort((a, b) => (a.outcome.median ?? Infinity) - (b.outcome.median ?? Infinity)).slice(0, 8).map((x) => x.point as Point);
  const qPath = join(dirname(db.path), 'qmodels', `${w.op.name}-${evaluator.kind}.json`);
  const needsLearner = opts.strategy === 'q' || opts.strategy === 'flex';
  const features = space.features(space.sample(rng(0))).length;
  const learner = needsLearner
    ? new QLearner({ inputs: features, actions: space.actions.length, seed: opts.seed, epsilonDecaySteps: Math.max(20, Math.floor(opts.trials / 2)), ...(QLearner.loadNetwork(qPath, features, space.actions.length) ? { network: QLearner.loadNetwork(qPath, features, space.actions.length)! } : {}) })
    : undefined;
  const strategy = makeStrategy(opts.strategy, { space, rng: r, budget: opts.trials, seen, warm, ...(learner ? { learner } : {}) });

  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const curve: number[] = [];
  const failures: Record<string, number> = {};
  let best: { trace: Trace; measurement: Measurement; recordId: string; point: Point } | undefined;
  let trials = 0, measured = 0, fromRecords = 0, invalid = 0;
  let stoppedBy: TuneResult['stoppedBy'] = 'trials';
  const window = opts.earlyStopWindow ?? Math.max(30, Math.floor(opts.trials / 3));
  const minGain = opts.earlyStopImprovement ?? 0.01;
  const batchSize = evaluator.spaceTarget.style === 'cpu' ? Math.max(2, evaluator.spaceTarget.threads, 2) : 1;

  // Resume: the trials an earlier run of the same search (strategy and seed) recorded count against
  // the budget, and the strategy is shown their outcomes so it continues from where that run was.
  const earlier = [...prior.values()].filter((x) => x.strategy === opts.strategy && x.seed === opts.seed && x.point).sort((a, b) => a.trial - b.trial);
  if (earlier.length) {
    const replay: Feedback[] = [];
    for (const rec of earlier.filter((x) => x.trial < opts.trials)) {
      const p = rec.point as Point;
      seen.add(space.key(p));
      const m = { status: rec.outcome.status, ...(rec.outcome.median ? { stats: { median: rec.outcome.median } } : {}), ...(rec.outcome.gflops ? { gflops: rec.outcome.gflops } : {}) } as Measurement;
      replay.push({ point: p, cost: cost(m) });
      if (m.status !== 'ok') failures[m.status] = (failures[m.status] ?? 0) + 1;
      else if (!best || cost(m) < cost(best.measurement)) best = { trace: rec.trace as Trace, measurement: m, recordId: rec.id, point: p };
      // Trials the earlier run answered from its own records left no line: fill the curve over them.
      while (curve.length < rec.trial) curve.push(curve[curve.length - 1] ?? 0);
      curve.push(best ? w.flops / cost(best.measurement) / 1e9 : 0);
      fromRecords++;
    }
    trials = Math.min(opts.trials, curve.length);
    strategy.feedback(replay);
  }
  const resumed = trials;

  while (trials < opts.trials) {
    if (opts.stop?.requested) { stoppedBy = 'interrupted'; break; }
    if (opts.timeBudgetSeconds !== undefined && elapsed() > opts.timeBudgetSeconds) { stoppedBy = 'time'; break; }
    const points = strategy.propose(Math.min(batchSize, opts.trials - trials));
    const traces = points.map((p) => space.toTrace(p, w.key));
    const feedback: Feedback[] = [];
    const toMeasure: { i: number; program: Program }[] = [];
    const outcomes: (Measurement | undefined)[] = points.map(() => undefined);
    traces.forEach((t, i) => {
      const old = prior.get(traceHash(t));
      if (old) {
        outcomes[i] = { status: old.outcome.status as Measurement['status'], ...(old.outcome.message ? { message: old.outcome.message } : {}), ...(old.outcome.gflops ? { gflops: old.outcome.gflops } : {}), ...(old.outcome.median ? { stats: { median: old.outcome.median } as Measurement['stats'] } : {}) } as Measurement;
        fromRecords++;
        return;
      }
      try {
        toMeasure.push({ i, program: applyTrace(base, t) });
      } catch (e) {
        if (!(e instanceof LoopsmithError)) throw e;
        outcomes[i] = { status: 'rejected', message: e.message };
        invalid++;
      }
    });
    const results = toMeasure.length ? await evaluator.measure(toMeasure.map((x) => x.program), ref) : [];
    results.forEach((res, k) => {
      const i = toMeasure[k]!.i;
      outcomes[i] = res.measurement;
      measured++;
      const t = traces[i]!;
      const m = res.measurement;
      const rec: TuningRecord = {
        format: 1,
        id: recordId(w.key, fp.key, traceHash(t), String(trials + i), new Date().toISOString()),
        workload: { key: w.key, op: w.op.name, params: { ...w.params }, dtype: w.dtype },
        target: { kind: evaluator.kind, fingerprint: fp },
        trace: t, traceHash: traceHash(t), point: points[i],
        outcome: {
          status: m.status, ...(m.message ? { message: m.message } : {}), ...(m.times ? { times: [...m.times] } : {}),
          ...(m.stats ? { median: m.stats.median, spread: m.stats.spread } : {}), ...(m.gflops ? { gflops: m.gflops } : {}),
        },
        strategy: opts.strategy, seed: opts.seed, trial: trials + i, timestamp: new Date().toISOString(), loopsmith: opts.version,
      };
      db.append(rec);
      prior.set(rec.traceHash, rec);
    });
    points.forEach((p, i) => {
      const m = outcomes[i]!;
      feedback.push({ point: p, cost: cost(m) });
      if (m.status !== 'ok') failures[m.status] = (failures[m.status] ?? 0) + 1;
      else if (!best || cost(m) < cost(best.measurement)) {
        best = { trace: traces[i]!, measurement: m, recordId: prior.get(traceHash(traces[i]!))?.id ?? '', point: p };
      }
      trials++;
      curve.push(best ? w.flops / cost(best.measurement) / 1e9 : 0);
    });
    strategy.feedback(feedback);
    const last = outcomes.map((m) => (m && m.status === 'ok' ? w.flops / cost(m) / 1e9 : undefined)).filter((x) => x !== undefined).pop();
    const rate = elapsed() / Math.max(1, trials);
    opts.onProgress?.({
      trial: trials, budget: opts.trials, ...(best ? { bestGflops: curve[curve.length - 1]! } : {}), ...(last ? { currentGflops: last } : {}),
      failures: Object.values(failures).reduce((a, b) => a + b, 0), fromRecords, elapsedSeconds: elapsed(), etaSeconds: rate * (opts.trials - trials),
    });
    if (trials >= window && curve.length > window) {
      const then = curve[curve.length - 1 - window]!, now = curve[curve.length - 1]!;
      if (then > 0 && now / then - 1 < minGain && trials - resumed >= window) { stoppedBy = 'no-improvement'; break; }
    }
  }
  learner?.save(qPath);

  // The best few distinct kernels are measured again: one lucky measurement does not make a winner.
  let remeasured: Measurement | undefined;
  const top = [...prior.values()].filter((x) => x.outcome.status === 'ok').sort((a, b) => (a.outcome.median ?? Infinity) - (b.outcome.median ?? Infinity)).slice(0, opts.remeasure ?? 3);
  if (top.length && !opts.stop?.requested) {
    let bestAgain: { rec: TuningRecord; m: Measurement } | undefined;
    for (const rec of top) {
      const program = applyTrace(base, rec.trace as Trace);
      const [res] = await evaluator.measure([program], ref);
      const m = res!.measurement;
      if (m.status === 'ok' && (!bestAgain || cost(m) < cost(bestAgain.m))) bestAgain = { rec, m };
    }
    if (bestAgain) {
      best = { trace: bestAgain.rec.trace as Trace, measurement: { ...bestAgain.m }, recordId: bestAgain.rec.id, point: bestAgain.rec.point as Point };
      remeasured = bestAgain.m;
    }
  }
  const total = trials || 1;
  return {
    workload: w, trials, measured, fromRecords, resumed, failures, curve, stoppedBy,
    ...(best ? { best: { trace: best.trace, measurement: best.measurement, recordId: best.recordId, ...(remeasured ? { remeasured } : {}) } } : {}),
    spaceSize: space.size(), validFraction: 1 - invalid / total, warnings: loaded.warnings,
  };
}
