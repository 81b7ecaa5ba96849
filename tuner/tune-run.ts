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
import { TuningRecord, measurementOf, outcomeOf, recordId } from './record.js';
import { RecordStore, RecordsFileError } from './records.js';
import { ioProblem } from './records-file.js';
import { Point, ScheduleSpace, traceHash } from './space.js';
import { Feedback, Strategy, StrategyName, makeStrategy } from './strategies.js';

/** What a run needs to know of its options (tune.ts has them all). */
export interface RunOptions {
  readonly strategy: StrategyName;
  readonly trials: number;
  readonly seed: number;
  readonly records: RecordStore;
  readonly version: string;
}

export interface Best {
  readonly trace: Trace;
  readonly measurement: Measurement;
  readonly recordId: string;
}

/** Median seconds of a correct kernel; Infinity for anything else, so it never wins. */
export const cost = (m: Measurement) => (m.status === 'ok' && m.stats ? m.stats.median : Infinity);

/**
 * One tuning run's state and its steps: resume from the records, propose and measure a batch,
 * record each measurement, and measure the best few again. tune.ts decides when to stop.
 */
export class TuningRun {
  readonly space: ScheduleSpace;
  readonly curve: number[] = [];
  readonly failures: Record<string, number> = {};
  readonly warnings: string[];
  best?: Best;
  trials = 0;
  measured = 0;
  fromRecords = 0;
  /** Trials of an earlier run of the same search that this run continued from. */
  resumed = 0;
  /** Proposed points whose trace did not apply (rejected before measuring). */
  invalid = 0;
  private readonly base: Program;
  private readonly ref: ReferenceSpec;
  /** This workload's records on this device, by trace hash: a known trace is never measured again. */
  private readonly prior: Map<string, TuningRecord>;
  private readonly seen = new Set<string>();
  private readonly strategy: Strategy;
  private readonly learner?: { readonly q: QLearner; readonly path: string };

  constructor(readonly workload: Workload, private readonly evaluator: Evaluator, private readonly opts: RunOptions) {
    this.base = lowerWorkload(workload);
    this.space = new ScheduleSpace(this.base, evaluator.spaceTarget);
    this.ref = { key: workload.key, unscheduled: this.base, flops: workload.flops };
    const { records: db } = opts;
    this.warnings = [...db.load().warnings];
    // Keyed by the hash of the trace itself: a record cannot lend its outcome to another trace.
    this.prior = new Map(db.forWorkload(workload.key, evaluator.fingerprint.key).map((r) => [traceHash(r.trace), r] as const));
    this.learner = opts.strategy === 'q' || opts.strategy === 'flex' ? this.openLearner(join(dirname(db.path), 'qmodels', `${workload.op.name}-${evaluator.kind}.json`)) : undefined;
    this.strategy = makeStrategy(opts.strategy, {
      space: this.space, rng: rng(opts.seed), budget: opts.trials, seen: this.seen, warm: this.warmStart(), ...(this.learner ? { learner: this.learner.q } : {}),
    });
  }

  /** The learner continues from the model saved for this operator and target kind, when it fits. */
  private openLearner(path: string): { q: QLearner; path: string } {
    const { featureCount: inputs } = this.space, actions = this.space.actions.length;
    const saved = QLearner.loadNetwork(path, inputs, actions);
    if (saved.status === 'rejected') this.warnings.push(saved.warning);
    const q = new QLearner({
      inputs, actions, seed: this.opts.seed, epsilonDecaySteps: Math.max(20, Math.floor(this.opts.trials / 2)),
      ...(saved.status === 'loaded' ? { network: saved.network } : {}),
    });
    return { q, path };
  }

  /** Records of this workload and device that `keep` accepts and whose point belongs to this space. */
  private storedPoints(keep: (r: TuningRecord) => boolean): { record: TuningRecord; point: Point }[] {
    return [...this.prior.values()].flatMap((record) => (record.point && keep(record) && this.space.contains(record.point) ? [{ record, point: record.point }] : []));
  }

  /** Records that ran correctly, fastest first. */
  private fastest(): TuningRecord[] {
    return [...this.prior.values()].filter((x) => x.outcome.status === 'ok').sort((a, b) => (a.outcome.median ?? Infinity) - (b.outcome.median ?? Infinity));
  }

  /** The first `n` of `rs` whose trace replays (each is replayed only when the ones before it are taken or passed over). */
  private usable(rs: readonly TuningRecord[], n: number): TuningRecord[] {
    const out: TuningRecord[] = [];
    for (const r of rs) {
      if (out.length === n) break;
      if (this.opts.records.usable(r)) out.push(r);
    }
    return out;
  }

  /** Warm start: the best points measured before. */
  private warmStart(): Point[] {
    return this.usable(this.fastest().filter((r) => r.point && this.space.contains(r.point)), 8).map((r) => r.point!);
  }

  /** A stored outcome, unless it claims a time for a trace that does not replay (then it cannot be best). */
  private storedOutcome(r: TuningRecord): Measurement {
    if (r.outcome.status === 'ok' && !this.opts.records.usable(r)) return { status: 'rejected', message: `record ${r.id}: its trace does not replay onto ${this.workload.key}` };
    return measurementOf(r.outcome);
  }

  private bestGflops(): number {
    return this.best ? this.workload.flops / cost(this.best.measurement) / 1e9 : 0;
  }

  /** Counts one finished trial: failures, the best so far and the curve. */
  private count(m: Measurement, trace: Trace, recordId: string): void {
    if (m.status !== 'ok') this.failures[m.status] = (this.failures[m.status] ?? 0) + 1;
    else if (!this.best || cost(m) < cost(this.best.measurement)) this.best = { trace, measurement: m, recordId };
  }

  /**
   * Resume: the trials an earlier run of the same search (strategy and seed) recorded count against
   * the budget, and the strategy is shown their outcomes so it continues from where that run was.
   */
  resume(): void {
    const earlier = this.storedPoints((r) => r.strategy === this.opts.strategy && r.seed === this.opts.seed).sort((a, b) => a.record.trial - b.record.trial);
    if (!earlier.length) return;
    const replay: Feedback[] = [];
    for (const { record, point } of earlier.filter((x) => x.record.trial < this.opts.trials)) {
      this.seen.add(this.space.key(point));
      const m = this.storedOutcome(record);
      replay.push({ point, cost: cost(m) });
      this.count(m, record.trace, record.id);
      // Trials the earlier run answered from its own records left no line: fill the curve over them.
      while (this.curve.length < record.trial) this.curve.push(this.curve[this.curve.length - 1] ?? 0);
      this.curve.push(this.bestGflops());
      this.fromRecords++;
    }
    this.trials = this.resumed = Math.min(this.opts.trials, this.curve.length);
    this.strategy.feedback(replay);
  }

  /**
   * One batch: the strategy proposes `n` points; traces already in the records take their stored
   * outcome, the rest are measured (compiled together, run one at a time) and recorded at once.
   * Returns the outcomes in proposal order.
   */
  async batch(n: number): Promise<Measurement[]> {
    const points = this.strategy.propose(n);
    const traces = points.map((p) => this.space.toTrace(p, this.workload.key));
    const outcomes: (Measurement | undefined)[] = points.map(() => undefined);
    const toMeasure: { i: number; program: Program }[] = [];
    traces.forEach((t, i) => {
      const old = this.prior.get(traceHash(t));
      if (old) {
        outcomes[i] = this.storedOutcome(old);
        this.fromRecords++;
        return;
      }
      try {
        toMeasure.push({ i, program: applyTrace(this.base, t) });
      } catch (e) {
        if (!(e instanceof LoopsmithError)) throw e;
        outcomes[i] = { status: 'rejected', message: e.message };
        this.invalid++;
      }
    });
    const results = toMeasure.length ? await this.evaluator.measure(toMeasure.map((x) => x.program), this.ref) : [];
    results.forEach((res, k) => {
      const { i } = toMeasure[k]!;
      outcomes[i] = res.measurement;
      this.measured++;
      this.record(points[i]!, traces[i]!, res.measurement, this.trials + i);
    });
    const done = outcomes.map((m) => m!);
    done.forEach((m, i) => {
      this.count(m, traces[i]!, this.prior.get(traceHash(traces[i]!))?.id ?? '');
      this.trials++;
      this.curve.push(this.bestGflops());
    });
    this.strategy.feedback(points.map((point, i) => ({ point, cost: cost(done[i]!) })));
    return done;
  }

  /** Appends one measurement to the records as soon as it exists, so a killed run loses nothing. */
  private record(point: Point, t: Trace, m: Measurement, trial: number): void {
    const w = this.workload, fp = this.evaluator.fingerprint, hash = traceHash(t), timestamp = new Date().toISOString();
    const rec: TuningRecord = {
      format: 1, id: recordId(w.key, fp.key, hash, String(trial), timestamp),
      workload: { key: w.key, op: w.op.name, params: { ...w.params }, dtype: w.dtype },
      target: { kind: this.evaluator.kind, fingerprint: fp },
      trace: t, traceHash: hash, point, outcome: outcomeOf(m),
      strategy: this.opts.strategy, seed: this.opts.seed, trial, timestamp, loopsmith: this.opts.version,
    };
    try {
      this.opts.records.append(rec);
    } catch (e) {
      if (!(e instanceof RecordsFileError)) throw e;
      // Candidates were measured: that is work done (exit 1), and every record written before stays.
      throw new RecordsFileError(`${e.message}; tuning stopped at trial ${trial + 1}`, 1);
    }
    this.prior.set(hash, rec);
  }

  /** Saves the learner next to the records; with records on a device (/dev/null) nothing is kept. */
  saveLearner(): void {
    if (!this.learner || !this.opts.records.persistent) return;
    try {
      this.learner.q.save(this.learner.path);
    } catch (e) {
      this.warnings.push(`Q-model ${this.learner.path} could not be saved: ${ioProblem(e)}`);
    }
  }

  /**
   * The best `count` distinct kernels are measured again and the fastest of those becomes the
   * result: one lucky measurement does not make a winner. A stored trace that does not replay
   * (an older version's, or an edited record) is passed over for the next. An interrupt meanwhile leaves the best as the search found it.
   */
  async remeasure(count: number, stop?: { readonly requested: boolean }): Promise<Measurement | undefined> {
    let again: { rec: TuningRecord; m: Measurement } | undefined;
    for (const rec of this.usable(this.fastest(), count)) {
      const [res] = await this.evaluator.measure([applyTrace(this.base, rec.trace)], this.ref);
      if (stop?.requested) return undefined;
      const m = res!.measurement;
      if (m.status === 'ok' && (!again || cost(m) < cost(again.m))) again = { rec, m };
    }
    if (again) this.best = { trace: again.rec.trace, measurement: { ...again.m }, recordId: again.rec.id };
    return again?.m;
  }
}
