import { dirname, join } from 'node:path';
import { Program } from '../ir/program.js';
import { rng } from '../ir/random.js';
import { Trace } from '../scheduler/trace.js';
import { Measurement } from '../targets/measurement.js';
import { CostModel } from './model/cost-model.js';
import { programFeatures } from './model/features.js';
import { rowGroup, rowsFromRecords, trainingRow } from './model/training-rows.js';
import { RecordStore } from './records.js';
import { ioProblem } from './records-file.js';

export const MODEL_MODES = ['on', 'off'] as const;
export type ModelMode = (typeof MODEL_MODES)[number];

export interface GuideOptions {
  /** Points proposed per point measured. */
  readonly oversample?: number;
  /** Share of each batch drawn at random from the candidates the model ranks lower. */
  readonly exploration?: number;
  readonly seed: number;
}

/** What the guide needs to know of its run. */
export interface GuideContext {
  readonly op: string;
  readonly kind: string;
  readonly workloadKey: string;
  readonly fingerprintKey: string;
  readonly records: RecordStore;
  /** Where a model file that cannot be used (or saved) is reported. */
  readonly warnings: string[];
}

/** Rows a model learns from at most: enough for a few tunes of every shape, small enough to refit in a second. */
const MAX_ROWS = 4000;

/**
 * Which of the proposed candidates are worth compiling: the cost model of the operator on this
 * target kind ranks them, the best `n * (1 - exploration)` are measured, and the rest of the batch
 * is drawn at random from the others, so that what the model undervalues still gets measured now
 * and then and the model learns where it was wrong. The model is opened at the first choice (its
 * saved file, then the records of every shape of the operator on this device that it has not
 * seen), learns from each batch, and is saved beside the records at the end of the run.
 */
export class ModelGuide {
  readonly oversample: number;
  readonly exploration: number;
  readonly path: string;
  /** Candidates proposed, applied and not measured because the model ranked others higher. */
  passedOver = 0;
  private model?: CostModel;
  private readonly r: () => number;
  private readonly group: string;

  constructor(private readonly ctx: GuideContext, private readonly opts: GuideOptions) {
    this.oversample = Math.max(1, Math.floor(opts.oversample ?? 8));
    this.exploration = Math.min(1, Math.max(0, opts.exploration ?? 0.2));
    this.path = join(dirname(ctx.records.path), 'models', `${ctx.op}-${ctx.kind}.json`);
    this.r = rng(opts.seed ^ 0x2f6b3c1d);
    this.group = rowGroup(ctx.workloadKey, ctx.fingerprintKey);
  }

  /** Rows the model has learnt from. */
  get rows(): number {
    return this.model?.size ?? 0;
  }

  private open(): CostModel {
    if (this.model) return this.model;
    const { op, kind, fingerprintKey, records } = this.ctx;
    const saved = CostModel.load(this.path, op, kind, { seed: this.opts.seed, maxRows: MAX_ROWS });
    if (saved.status === 'rejected') this.ctx.warnings.push(saved.warning);
    const model = saved.status === 'loaded' ? saved.model : new CostModel(op, kind, { seed: this.opts.seed, maxRows: MAX_ROWS });
    // Only the newest records: older ones would displace newer rows, and be replayed again at every start.
    const mine = records.load().records.filter((r) => r.workload.op === op && r.target.kind === kind && r.target.fingerprint.key === fingerprintKey).slice(-MAX_ROWS);
    model.update(rowsFromRecords(mine, (k) => model.has(k), MAX_ROWS));
    return (this.model = model);
  }

  /** Indices of the at most `n` programs to measure, in the order given. */
  choose(programs: readonly Program[], n: number): number[] {
    const model = this.open();
    const all = programs.map((_, i) => i);
    if (programs.length <= n) return all;
    this.passedOver += programs.length - n;
    const scores = model.ranks ? model.score(programs.map(programFeatures))! : undefined;
    if (!scores) return this.sample(all, n).sort((a, b) => a - b);
    const explore = n >= 2 ? Math.max(1, Math.round(n * this.exploration)) : this.r() < this.exploration ? 1 : 0;
    const ranked = [...all].sort((a, b) => scores[b]! - scores[a]! || a - b);
    return [...ranked.slice(0, n - explore), ...this.sample(ranked.slice(n - explore), explore)].sort((a, b) => a - b);
  }

  /**
   * The model's scores of `programs` (higher: faster), or undefined while it cannot rank yet. Scores
   * only order kernels of one workload; the Q-learner calibrates differences of them to its rewards.
   */
  value(programs: readonly Program[]): number[] | undefined {
    const model = this.open();
    return model.ranks ? model.score(programs.map(programFeatures)) : undefined;
  }

  /** The measured candidates become rows, and the model refits. */
  learn(measured: readonly { trace: Trace; program: Program; measurement: Measurement }[]): void {
    if (!measured.length) return;
    this.open().update(measured.map((m) => trainingRow(this.group, m.trace, programFeatures(m.program), { status: m.measurement.status, median: m.measurement.stats?.median })));
  }

  /** Beside the records, when it learnt something; with records on a device (/dev/null) nothing is kept. */
  save(): void {
    if (!this.model?.changed || !this.ctx.records.persistent) return;
    try {
      this.model.save(this.path);
    } catch (e) {
      this.ctx.warnings.push(`cost model ${this.path} could not be saved: ${ioProblem(e)}`);
    }
  }

  /** `k` of `xs` at random. */
  private sample(xs: readonly number[], k: number): number[] {
    const a = [...xs];
    for (let i = 0; i < Math.min(k, a.length); i++) {
      const j = i + Math.floor(this.r() * (a.length - i));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a.slice(0, k);
  }
}
