import { Program } from '../ir/program.js';
import { Trace } from '../scheduler/trace.js';
import { Measurement } from '../targets/measurement.js';
import { Pipeline } from '../targets/pipeline.js';
import { Candidate, ReferenceSpec, Target, codelessHash } from '../targets/target.js';
import { SpaceTarget, TargetKind } from './space.js';

export interface EvaluateOptions {
  readonly bestSeconds?: number;
  readonly again?: boolean;
  /** The programs' traces, in order: a remote evaluator (the farm) sends these, not programs. */
  readonly traces?: readonly Trace[];
}

/** A target as the tuner sees it: measure a batch of scheduled programs, remember identical code. */
export interface Evaluator {
  readonly kind: TargetKind;
  readonly fingerprint: Record<string, unknown> & { key: string };
  readonly spaceTarget: SpaceTarget;
  /** Candidates per batch when the evaluator knows better than the local default (a farm: enough for all its workers). */
  readonly batchSize?: number;
  /** Is `other` (a stored fingerprint) a device whose records may stand in for this one's? */
  compatible(other: Record<string, unknown>): boolean;
  /** The target's schedule for a program given none, where running it as lowered would be wrong for the device. */
  defaultTrace?(unscheduled: Program, workload: string): Trace | undefined;
  /**
   * Measures each program (verified before timed); identical generated code is measured once, unless
   * `again` (the final re-measurement, which must not be answered from memory). `bestSeconds`: see
   * the pipeline's MeasureOptions (early abort and relative limits). `codeHash` names the code
   * measured; a candidate that never had code gets a unique codelessHash.
   */
  measure(programs: readonly Program[], ref: ReferenceSpec, opts?: EvaluateOptions): Promise<{ measurement: Measurement; codeHash: string; cached: boolean }[]>;
  /**
   * The hash of the code a program generates, where the evaluator renders locally (undefined where
   * it cannot say, e.g. a farm's workers render): two schedules often generate the same kernel.
   */
  codeHash?(program: Program): string | undefined;
  close(): Promise<void>;
}

/** Any target, through the shared pipeline: the batch is built together (in parallel where the target can), then each runs alone. */
export class TargetEvaluator<C extends Candidate, B> implements Evaluator {
  private readonly seen = new Map<string, Measurement>();
  private readonly pipeline: Pipeline<C, B>;

  constructor(readonly target: Target<C, B>) {
    this.pipeline = new Pipeline(target);
  }

  get kind(): TargetKind {
    return this.target.name;
  }

  get fingerprint() {
    return { ...this.target.fingerprint };
  }

  get spaceTarget(): SpaceTarget {
    return this.target.spaceTarget;
  }

  compatible(other: Record<string, unknown>): boolean {
    return this.target.compatible(other);
  }

  defaultTrace(unscheduled: Program, workload: string): Trace | undefined {
    return this.target.defaultTrace?.(unscheduled, workload);
  }

  codeHash(program: Program): string | undefined {
    const r = this.pipeline.render(program);
    return r.ok ? r.candidate.codeHash : undefined;
  }

  async measure(programs: readonly Program[], ref: ReferenceSpec, opts: EvaluateOptions = {}) {
    const rendered = programs.map((p) => this.pipeline.render(p));
    const fresh = new Map<string, C>();
    for (const r of rendered) if (r.ok && (opts.again || !this.seen.has(r.candidate.codeHash))) fresh.set(r.candidate.codeHash, r.candidate);
    const measured = await this.pipeline.measureAll([...fresh.values()], ref, opts.bestSeconds !== undefined ? { bestSeconds: opts.bestSeconds } : {});
    [...fresh.keys()].forEach((h, i) => this.seen.set(h, measured[i]!));
    const first = new Set<string>();
    return rendered.map((r, i) => {
      if (!r.ok) return { measurement: r.measurement, codeHash: codelessHash(i), cached: false };
      const h = r.candidate.codeHash;
      const cached = !fresh.has(h) || first.has(h);
      first.add(h);
      return { measurement: this.seen.get(h)!, codeHash: h, cached };
    });
  }

  close(): Promise<void> {
    return this.target.close();
  }
}
