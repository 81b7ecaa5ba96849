import { dirname, join } from 'node:path';
import { Workload, lowerWorkload } from '../ir/ops/index.js';
import { structuralHash } from '../ir/hash.js';
import { Program } from '../ir/program.js';
import { rng } from '../ir/random.js';
import { LoopsmithError } from '../ir/errors.js';
import { applyTrace } from '../scheduler/apply.js';
import { Trace } from '../scheduler/trace.js';
import { Measurement } from '../targets/measurement.js';
import { ReferenceSpec, namesCode } from '../targets/target.js';
import { Evaluator } from './evaluate.js';
import { ModelGuide, ModelMode } from './model-guided.js';
import { QLearner } from './qmodel.js';
import { TuningRecord, measurementOf, outcomeOf, recordId } from './record.js';
import { RecordStore, RecordsFileError } from './records.js';
import { ioProblem } from './records-file.js';
import { Point, ScheduleSpace, traceHash } from './space.js';
import { startingPoints } from './starting-points.js';
import { Feedback, Strategy, StrategyName, makeStrategy } from './strategies.js';

/** What a run needs to know of its options (tune.ts has them all). */
export interface RunOptions {
  readonly strategy: StrategyName;
  readonly trials: number;
  readonly seed: number;
  readonly records: RecordStore;
  readonly version: string;
  /** The cost model picks which proposed candidates are measured (default on). */
  readonly model?: ModelMode;
  /** With the model: points proposed per point measured (default 8). */
  readonly modelOversample?: number;
  /** With the model: share of each batch drawn at random from the candidates it ranks lower (default 0.2). */
  readonly modelExploration?: number;
  /** At most this many starting points (starting-points.ts) are measured before the search; 0: none. Default 8. */
  readonly startingPoints?: number;
  /** Trials the strategies plan their schedules over (see TuneOptions.horizon); default `trials`. */
  readonly horizon?: number;
}

/** The fastest kernel the search has seen: early abort's reference and the best-so-far curve. */
export interface SearchBest {
  readonly trace: Trace;
  readonly measurement: Measurement;
}

/** A proposed point and what is known of it before measuring: its record, why its trace does not apply, or its program. */
interface Candidate {
  /** Absent for a starting point that is not a point of the space (an expert schedule). */
  readonly point?: Point;
  readonly trace: Trace;
  readonly known?: TuningRecord;
  readonly rejected?: string;
  readonly program?: Program;
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
  /** Trials verified but stopped after their checking run, as far slower than the best (by factor, as each marker says). */
  readonly earlyAborts: { count: number; readonly factors: Set<number> } = { count: 0, factors: new Set() };
  readonly warnings: string[];
  /** What the search has seen; the run's result is the records' best (RecordStore.best), which may be an earlier run's. */
  best?: SearchBest;
  /** The starting points measured before the search, with their outcomes. */
  started: { readonly label: string; readonly measurement: Measurement }[] = [];
  trials = 0;
  measured = 0;
  /** Trials answered by a record the file held before this run (resumed trials included). */
  fromRecords = 0;
  /** Trials that proposed a kernel this run had measured already, answered by its record. */
  repeats = 0;
  /** Valid records of this workload on this device in the file when the run began. */
  readonly recordsBefore: number;
  /** Trials of an earlier run of the same search that this run continued from. */
  resumed = 0;
  /** Points the strategy proposed in this run, and those whose trace did not apply (rejected before measuring). */
  proposed = 0;
  invalid = 0;
  /** Present when the cost model chooses what is measured. */
  readonly guide?: ModelGuide;
  private readonly base: Program;
  private readonly defaultTrace?: Trace;
  private readonly ref: ReferenceSpec;
  /** This workload's records on this device, by trace hash: a known trace is never measured again. */
  private readonly prior: Map<string, TuningRecord>;
  /** Ids of the records the file held before this run. */
  private readonly earlier: Set<string>;
  private readonly seen = new Set<string>();
  private readonly strategy: Strategy;
  private readonly learner?: { readonly q: QLearner; readonly path: string };

  constructor(readonly workload: Workload, private readonly evaluator: Evaluator, private readonly opts: RunOptions) {
    this.base = lowerWorkload(workload);
    const d = evaluator.defaultTrace?.(this.base, workload.key);
    if (d) this.defaultTrace = d;
    this.space = new ScheduleSpace(this.base, evaluator.spaceTarget);
    this.ref = { key: workload.key, unscheduled: this.base, flops: workload.flops };
    const { records: db } = opts;
    this.warnings = [...db.load().warnings];
    // Keyed by the hash of the trace itself: a record cannot lend its outcome to another trace.
    const mine = db.forWorkload(workload.key, evaluator.fingerprint.key);
    this.recordsBefore = mine.length;
    this.earlier = new Set(mine.map((r) => r.id));
    // The record that measured each trace first: a trial of some run. Later ones are final-round
    // re-measurements (FINAL_ROUND), which are no trial of any run, so resume must not see them.
    this.prior = new Map();
    for (const r of mine) if (!this.prior.has(traceHash(r.trace))) this.prior.set(traceHash(r.trace), r);
    if ((opts.model ?? 'on') === 'on') {
      this.guide = new ModelGuide(
        { op: workload.op.name, kind: evaluator.kind, workloadKey: workload.key, fingerprintKey: evaluator.fingerprint.key, records: db, warnings: this.warnings },
        { seed: opts.seed, ...(opts.modelOversample !== undefined ? { oversample: opts.modelOversample } : {}), ...(opts.modelExploration !== undefined ? { exploration: opts.modelExploration } : {}) },
      );
    }
    this.learner = opts.strategy === 'q' || opts.strategy === 'flex' ? this.openLearner(join(dirname(db.path), 'qmodels', `${workload.op.name}-${evaluator.kind}.json`)) : undefined;
    this.strategy = makeStrategy(opts.strategy, {
      space: this.space, rng: rng(opts.seed), budget: this.horizon, seen: this.seen, warm: this.warmStart(), ...(this.learner ? { learner: this.learner.q } : {}),
      ...(this.guide && this.learner ? { value: (points: readonly Point[]) => this.value(points) } : {}),
    });
  }

  private get horizon(): number {
    return this.opts.horizon ?? this.opts.trials;
  }

  /** The learner continues from the model saved for this operator and target kind, when it fits. */
  private openLearner(path: string): { q: QLearner; path: string } {
    const { featureCount: inputs } = this.space, actions = this.space.actions.length;
    const saved = QLearner.loadNetwork(path, inputs, actions);
    if (saved.status === 'rejected') this.warnings.push(saved.warning);
    // Exploration decays per move chosen; with the cost model, `oversample` moves are chosen per trial.
    const q = new QLearner({
      inputs, actions, seed: this.opts.seed, epsilonDecaySteps: Math.max(20, Math.floor(this.horizon / 2)) * (this.guide?.oversample ?? 1),
      ...(saved.status === 'loaded' ? { network: saved.network } : {}),
    });
    return { q, path };
  }

  /** Records of this workload and device that `keep` accepts and whose point belongs to this space. */
  private storedPoints(keep: (r: TuningRecord) => boolean): { record: TuningRecord; point: Point }[] {
    return [...this.prior.values()].flatMap((record) => (record.point && keep(record) && this.space.contains(record.point) ? [{ record, point: record.point }] : []));
  }

  /** Records that ran correctly, best first, in the records' one order of best. */
  private fastest(): TuningRecord[] {
    return this.opts.records.fastestFirst([...this.prior.values()]);
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

  /**
   * A stored outcome, unless it claims a time for a trace that does not replay, or one faster than
   * the device can be: either would become the search's best and stop every later candidate early.
   */
  private storedOutcome(r: TuningRecord): Measurement {
    if (r.outcome.status === 'ok' && !this.opts.records.usable(r)) return { status: 'rejected', message: `record ${r.id}: its trace does not replay onto ${this.workload.key}` };
    if (r.outcome.status === 'ok' && !this.opts.records.plausible(r)) return { status: 'rejected', message: `record ${r.id}: ${r.outcome.gflops} GFLOP/s is more than its device can do` };
    return measurementOf(r.outcome);
  }

  private bestGflops(): number {
    return this.best ? this.workload.flops / cost(this.best.measurement) / 1e9 : 0;
  }

  /** Counts one finished trial: failures, the best so far and the curve. */
  private count(m: Measurement, trace: Trace): void {
    if (m.status !== 'ok') this.failures[m.status] = (this.failures[m.status] ?? 0) + 1;
    else if (m.earlyAbort) {
      this.earlyAborts.count++;
      this.earlyAborts.factors.add(m.earlyAbort.factor);
    } else if (!this.best || cost(m) < cost(this.best.measurement)) this.best = { trace, measurement: m };
  }

  /**
   * Resume: the trials an earlier run of the same search (strategy and seed) recorded count against
   * the budget, and the strategy is shown their outcomes so it continues from where that run was.
   */
  resume(): void {
    const sameRun = (r: TuningRecord) => r.strategy === this.opts.strategy && r.seed === this.opts.seed;
    const earlier = this.storedPoints(sameRun);
    if (!earlier.length) return;
    const points = new Map(earlier.map(({ record, point }) => [record.id, point]));
    // The run's records without a point of the space (its starting points: the default and expert
    // schedules) are trials too: they count for the best and the curve, only the strategy is not shown them.
    const records = [...this.prior.values()].filter((r) => sameRun(r) && r.trial < this.opts.trials).sort((a, b) => a.trial - b.trial);
    const replay: Feedback[] = [];
    for (const record of records) {
      const point = points.get(record.id);
      const m = this.storedOutcome(record);
      if (point) {
        this.seen.add(this.space.key(point));
        replay.push({ point, cost: cost(m) });
      }
      this.count(m, record.trace);
      // Trials the earlier run answered from its own records left no line: fill the curve over them.
      while (this.curve.length < record.trial) this.curve.push(this.curve[this.curve.length - 1] ?? 0);
      this.curve.push(this.bestGflops());
    }
    this.trials = this.resumed = Math.min(this.opts.trials, this.curve.length);
    // Every resumed trial was answered by the records (its line, or the earlier record it was answered
    // from then), so measured now + from the records (+ repeats) adds up to the trials.
    this.fromRecords = this.resumed;
    this.strategy.feedback(replay);
  }

  /**
   * One batch: the strategy proposes points (many more with the cost model, which picks `n` of
   * them); traces already in the records take their stored outcome, the rest are measured
   * (compiled together, run one at a time) and recorded at once. Returns the outcomes of the
   * trials in proposal order.
   */
  async batch(n: number): Promise<Measurement[]> {
    const { trials, answered } = this.guide ? this.guided(this.guide, n) : { trials: this.strategy.propose(n).map((p) => this.candidate(p)), answered: [] };
    const done = await this.measureCandidates(trials);
    this.strategy.feedback([...answered, ...trials.map((c, i) => ({ point: c.point!, cost: cost(done[i]!) }))]);
    return done;
  }

  /**
   * Starting points (starting-points.ts) before the search: the default and expert schedules and
   * the best of the nearest shapes, at most `limit` trials. Skipped on resume: the run that is
   * continued measured them. Those that are points of the space are fed to the strategy.
   */
  async start(limit: number): Promise<void> {
    if (this.resumed || limit <= 0) return;
    const sps = startingPoints({
      workload: this.workload, base: this.base, space: this.space, records: this.opts.records, kind: this.evaluator.kind,
      fingerprintKey: this.evaluator.fingerprint.key, ...(this.defaultTrace ? { defaultTrace: this.defaultTrace } : {}),
    }).slice(0, limit);
    if (!sps.length) return;
    for (const sp of sps) if (sp.point) this.seen.add(this.space.key(sp.point));
    const done = await this.measureCandidates(sps.map((sp) => this.candidate(sp.point, sp.trace)));
    this.strategy.feedback(sps.flatMap((sp, i) => (sp.point ? [{ point: sp.point, cost: cost(done[i]!) }] : [])));
    this.started = sps.map((sp, i) => ({ label: sp.label, measurement: done[i]! }));
  }

  /**
   * Trials: known traces take their stored outcome, the rest are measured (compiled together,
   * run one at a time, each against the best so far for early abort) and recorded at once; the
   * cost model learns from what was measured. Returns the outcomes in the given order.
   */
  private async measureCandidates(trials: readonly Candidate[]): Promise<Measurement[]> {
    const outcomes: (Measurement | undefined)[] = trials.map((c) => {
      if (c.known) {
        if (this.earlier.has(c.known.id)) this.fromRecords++;
        else this.repeats++;
        return this.storedOutcome(c.known);
      }
      return c.rejected !== undefined ? { status: 'rejected', message: c.rejected } : undefined;
    });
    const toMeasure = trials.flatMap((c, i) => (c.program ? [{ i, program: c.program }] : []));
    // Infinity until a kernel ran correctly: the evaluator then tracks the best within the batch.
    const bestSeconds = this.best ? cost(this.best.measurement) : Infinity;
    const results = toMeasure.length ? await this.evaluator.measure(toMeasure.map((x) => x.program), this.ref, { bestSeconds, traces: toMeasure.map((x) => trials[x.i]!.trace) }) : [];
    results.forEach((res, k) => {
      const { i } = toMeasure[k]!;
      outcomes[i] = res.measurement;
      this.measured++;
      this.record(trials[i]!.point, trials[i]!.trace, res.measurement, this.trials + i, this.opts.strategy, res.codeHash);
    });
    const done = outcomes.map((m) => m!);
    done.forEach((m, i) => {
      this.count(m, trials[i]!.trace);
      this.trials++;
      this.curve.push(this.bestGflops());
    });
    this.guide?.learn(toMeasure.map(({ i, program }, k) => ({ trace: trials[i]!.trace, program, measurement: results[k]!.measurement })));
    return done;
  }

  /** The cost model's scores of points (the Q-learner's baseline); a point whose trace does not apply scores lowest. */
  private value(points: readonly Point[]): number[] | undefined {
    const programs: (Program | undefined)[] = points.map((p) => {
      try {
        return applyTrace(this.base, this.space.toTrace(p, this.workload.key));
      } catch (e) {
        if (!(e instanceof LoopsmithError)) throw e;
        return undefined;
      }
    });
    const ok = programs.filter((p): p is Program => p !== undefined);
    const scores = ok.length ? this.guide?.value(ok) : undefined;
    if (!scores) return undefined;
    let k = 0;
    const low = Math.min(...scores) - 1;
    return programs.map((p) => (p ? scores[k++]! : low));
  }

  /** What is known of a proposed point before measuring it. */
  private candidate(point: Point | undefined, given?: Trace): Candidate {
    this.proposed++;
    const trace = given ?? this.space.toTrace(point!, this.workload.key);
    const known = this.prior.get(traceHash(trace));
    if (known) return { point, trace, known };
    try {
      return { point, trace, program: applyTrace(this.base, trace) };
    } catch (e) {
      if (!(e instanceof LoopsmithError)) throw e;
      this.invalid++;
      return { point, trace, rejected: e.message };
    }
  }

  /**
   * The cost model's batch: the strategy proposes `oversample * n` points; the model picks the `n`
   * new ones to measure. Points in the records or whose trace does not apply are not trials: the
   * strategy learns their known outcome (`answered`) and the batch goes to new points. Points passed
   * over leave the `seen` set: they were never measured, and a model that knows more later may pick
   * them when the strategy proposes them again. When no proposal is new (a small space, nearly
   * exhausted), the first `n` become trials as without the model, so the search still ends.
   */
  private guided(guide: ModelGuide, n: number): { trials: Candidate[]; answered: Feedback[] } {
    const all = this.strategy.propose(n * guide.oversample).map((p) => this.candidate(p));
    const hashes = new Set<string>();
    const fresh = all.filter((c) => {
      const h = traceHash(c.trace);
      if (!c.program || hashes.has(h)) return false;
      hashes.add(h);
      return true;
    });
    const answer = (cs: readonly Candidate[]): Feedback[] => cs.flatMap((c) => (c.program ? [] : [{ point: c.point!, cost: c.known ? cost(this.storedOutcome(c.known)) : Infinity }]));
    if (!fresh.length) return { trials: all.slice(0, n), answered: answer(all.slice(n)) };
    const chosen = new Set(guide.choose(fresh.map((c) => c.program!), n).map((i) => fresh[i]!));
    for (const c of fresh) if (!chosen.has(c)) this.seen.delete(this.space.key(c.point!));
    return { trials: [...chosen], answered: answer(all) };
  }

  /** Appends one measurement to the records as soon as it exists, so a killed run loses nothing. */
  private record(point: Point | undefined, t: Trace, m: Measurement, trial: number, strategy: string, codeHash?: string): void {
    const w = this.workload, fp = this.evaluator.fingerprint, hash = traceHash(t), timestamp = new Date().toISOString();
    // A candidate that never had code is no kernel to stand with others.
    const code = codeHash !== undefined && namesCode(codeHash) ? { codeHash } : {};
    const rec: TuningRecord = {
      format: 1, id: recordId(w.key, fp.key, hash, String(trial), timestamp),
      workload: { key: w.key, op: w.op.name, params: { ...w.params }, dtype: w.dtype },
      target: { kind: this.evaluator.kind, fingerprint: fp },
      trace: t, traceHash: hash, ...code, ...(point ? { point } : {}), outcome: outcomeOf(m),
      strategy, seed: this.opts.seed, trial, timestamp, loopsmith: this.opts.version,
    };
    try {
      this.opts.records.append(rec);
    } catch (e) {
      if (!(e instanceof RecordsFileError)) throw e;
      // Candidates were measured: that is work done (exit 1), and every record written before stays.
      throw new RecordsFileError(`${e.message}; tuning stopped at trial ${trial + 1}`, 1);
    }
    if (!this.prior.has(hash)) this.prior.set(hash, rec);
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

  /** Saves the cost model next to the records (the guide knows when there is nothing to keep). */
  saveModel(): void {
    this.guide?.save();
  }

  /** The records' best for this workload and device (RecordStore.best): what `records best` and `emit` take. */
  bestRecord(): TuningRecord | undefined {
    return this.opts.records.best(this.workload.key, this.evaluator.fingerprint.key);
  }

  /** Was the record in the file before this run? */
  isEarlier(r: TuningRecord): boolean {
    return this.earlier.has(r.id);
  }

  /**
   * The final round: the `k` fastest schedules in full measurements (this run's and earlier runs'
   * records of the workload on this device) measured again, in full, each re-measurement appended to
   * the records. A trace measured more than once stands at the median of its measurements
   * (RecordStore.fastestFirst), so the best after this round is the finalist that holds up, not the
   * one a noisy moment favoured. A re-measurement regresses a lucky figure toward the kernel's usual
   * one, so a schedule outside the round could now stand first on its own single lucky figure: the
   * round goes on with the standing best while it was not re-measured, at most `k` more. Traces
   * that generate the same code (or, where the evaluator cannot say, the same program) are one
   * kernel: measured once, recorded for each. A finalist that
   * now computes a wrong answer is recorded as such and never stands again. Stops on an interrupt.
   */
  async finalRound(k: number, stop?: { readonly requested: boolean }): Promise<Finalist[]> {
    const out: Finalist[] = [];
    // Traces and kernels (code hashes) this round measured: a record naming either is not new.
    const done = new Set<string>();
    const byProgram = new Map<string, Remeasured>();
    const fullAndNew = (r: TuningRecord) =>
      r.outcome.earlyAbort === undefined && !done.has(`trace:${traceHash(r.trace)}`) && !(r.codeHash !== undefined && done.has(`code:${r.codeHash}`)) && this.opts.records.usable(r);
    for (let n = 0; n < 2 * k && !stop?.requested; n++) {
      const standing = this.opts.records.fastestFirst(this.opts.records.forWorkload(this.workload.key, this.evaluator.fingerprint.key));
      const top = n < k ? undefined : standing.find((x) => this.opts.records.usable(x));
      const r = n < k ? standing.find(fullAndNew) : top && fullAndNew(top) ? top : undefined;
      if (!r) {
        if (n >= k) break;
        n = k - 1; // fewer than k schedules: on to checking the standing best
        continue;
      }
      done.add(`trace:${traceHash(r.trace)}`);
      const program = applyTrace(this.base, r.trace), same = this.evaluator.codeHash?.(program) ?? structuralHash(program);
      let m = byProgram.get(same);
      if (!m) {
        m = await this.remeasure(program, r.trace);
        if (stop?.requested) break;
        byProgram.set(same, m);
      }
      if (m.codeHash !== undefined) done.add(`code:${m.codeHash}`);
      this.record(r.point, r.trace, m.measurement, this.trials, FINAL_ROUND, m.codeHash);
      out.push({ record: r, now: m.measurement });
    }
    return out;
  }

  /**
   * One full measurement, not answered from memory; measured once more when its own runs disagree
   * past DISTURBED_SPREAD (the host took a core for part of it: on this project's shared 2-core
   * machine a 2-thread kernel then ran at 0.36x its usual rate, and that one figure would have
   * ranked it), keeping the steadier of the two. A failure in either is what is kept: a kernel that
   * once went wrong must be recorded so.
   */
  private async remeasure(program: Program, t: Trace): Promise<Remeasured> {
    const measure = async () => (await this.evaluator.measure([program], this.ref, { again: true, traces: [t] }))[0]!;
    const first = await measure();
    const spread = (x: { measurement: Measurement }) => x.measurement.stats?.spread ?? 0;
    if (first.measurement.status !== 'ok' || spread(first) <= DISTURBED_SPREAD) return first;
    const second = await measure();
    return second.measurement.status !== 'ok' || spread(second) < spread(first) ? second : first;
  }
}

/**
 * A measurement whose p20..p80 runs span more than this fraction of its median was disturbed: 99 %
 * of a conv suite tune's full measurements stay under 0.23 on the shared machine.
 */
export const DISTURBED_SPREAD = 0.25;

interface Remeasured {
  readonly measurement: Measurement;
  readonly codeHash?: string;
}

/** The strategy name of a final round's records: no trial of a search, a re-measurement. */
export const FINAL_ROUND = 'final-round';

/** A trace of the final round: its fastest record before the round, and how it measured in it. */
export interface Finalist {
  readonly record: TuningRecord;
  readonly now: Measurement;
}
