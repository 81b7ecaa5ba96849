import { canonical, structuralHash } from '../ir/hash.js';
import { Program } from '../ir/program.js';
import { applyTrace } from '../scheduler/apply.js';
import { Step, Trace, trace } from '../scheduler/trace.js';
import { Action } from './space/actions.js';
import { Axis, MainNest } from './space/nest.js';
import { Draft, MAX_UNROLL_DEPTH, Point, levelExtents } from './space/point.js';
import { Placement, STEP_PHASES, SpaceRule } from './space/rule.js';
import { ruleSet } from './space/rule-sets.js';
import { SpaceTarget } from './space/target.js';

export type { Action } from './space/actions.js';
export type { Axis } from './space/nest.js';
export { type Point, parsePoint } from './space/point.js';
export type { SpaceStyle, SpaceTarget, TargetKind } from './space/target.js';

/**
 * The schedule space of a computation on a target, derived from its loop structure alone: the
 * main nest gives the axes, the target's style picks the rule set (space/rule-sets.ts) that says
 * what the levels mean, which moves exist and how a point becomes a trace. This class only
 * combines the rules; it knows no target.
 */
export class ScheduleSpace {
  readonly nest: MainNest;
  readonly actions: readonly Action[];
  /** GPU: the spatial axes bound to x, y, z (innermost first); the others stay serial outside. */
  readonly bound: readonly string[];
  private readonly rules: readonly SpaceRule[];

  constructor(readonly program: Program, readonly target: SpaceTarget) {
    this.nest = new MainNest(program);
    const set = ruleSet(this.nest, target);
    this.rules = set.rules;
    this.bound = set.bound;
    this.actions = this.rules.flatMap((r) => r.actions);
  }

  get axes(): readonly Axis[] {
    return this.nest.axes;
  }

  get inputs(): readonly string[] {
    return this.nest.inputs;
  }

  levelExtents(p: Point, axis: string): number[] {
    return levelExtents(this.nest, p, axis);
  }

  size(): number {
    return this.rules.reduce((n, r) => n * r.choices, 1);
  }

  /** A random point within the limits (after 50 tries, the last one drawn). */
  sample(r: () => number): Point {
    for (let attempt = 0; ; attempt++) {
      const draft: Draft = { factors: {}, order: [], unroll: 0, vectorize: 0, parallel: 0, cacheWrite: 0, cacheRead: {} };
      for (const rule of this.rules) rule.sample(r, draft);
      if (this.withinBudgets(draft) || attempt > 50) return draft;
    }
  }

  /** Register tile and, on the GPU, threads per workgroup within budget. */
  withinBudgets(p: Point): boolean {
    return this.rules.every((r) => r.within?.(p) ?? true);
  }

  /** A neighbour by one move, or undefined when the move does not apply to this point. */
  apply(p: Point, a: Action): Point | undefined {
    const q = this.rules.find((r) => r.kinds.includes(a.kind))?.apply(p, a);
    // Only new tile sizes can break a limit.
    return q && q.factors !== p.factors && !this.withinBudgets(q) ? undefined : q;
  }

  /** Is `p` (read from a record, say) a point of this space? Only then does it have a trace here. */
  contains(p: Point): boolean {
    const { nest } = this;
    const factorsFit = nest.axes.every((a) => {
      const f = p.factors[a.name];
      return f !== undefined && f.length === a.levels - 1 && a.extent % f.reduce((x, y) => x * y, 1) === 0;
    });
    const loops = nest.loops();
    return factorsFit && Object.keys(p.factors).length === nest.axes.length
      && p.order.length === loops.length && new Set(p.order).size === loops.length && p.order.every((x) => nest.has(x))
      && p.unroll <= MAX_UNROLL_DEPTH && Object.keys(p.cacheRead).every((i) => nest.inputs.includes(i))
      && Object.keys(p.pack ?? {}).every((i) => nest.inputs.includes(i)) && (p.pack === undefined || this.actions.some((a) => a.kind === 'pack'));
  }

  /** Normalized features of a point for the Q-learner: level sizes, loop positions, switches. */
  features(p: Point): number[] {
    const f: number[] = [];
    for (const a of this.axes) {
      const top = Math.log2(a.extent) || 1;
      for (const e of this.levelExtents(p, a.name)) f.push(Math.log2(e) / top);
    }
    const pos = new Map(p.order.map((x, i) => [x, i / Math.max(1, p.order.length - 1)]));
    for (const a of this.axes) for (let l = 0; l < a.levels; l++) f.push(pos.get(this.nest.loop(a.name, l)) ?? 0);
    f.push(p.unroll / MAX_UNROLL_DEPTH, p.vectorize, p.parallel, p.cacheWrite / 2, ...this.inputs.map((i) => p.cacheRead[i] ?? 0), ...this.inputs.map((i) => (p.pack?.[i] ?? 0) / 2));
    return f.map((x) => x * 2 - 1);
  }

  /** Length of `features`: two per level of every axis, then the switches. */
  get featureCount(): number {
    return 2 * this.axes.reduce((n, a) => n + a.levels, 0) + 4 + 2 * this.inputs.length;
  }

  key(p: Point): string {
    return canonical(p);
  }

  /** The trace of a point: each rule's steps, phase by phase, then what depends on the scheduled program. */
  toTrace(p: Point, workload?: string): Trace {
    const at = new Placement(this.nest, p);
    const steps: Step[] = [];
    for (const phase of STEP_PHASES) for (const r of this.rules) if (r.phase === phase) steps.push(...r.steps(at));
    const finishing = this.rules.filter((r) => r.finish);
    if (!finishing.length) return trace(steps, workload);
    const scheduled = applyTrace(this.program, trace(steps, workload));
    return trace([...steps, ...finishing.flatMap((r) => r.finish!(scheduled))], workload);
  }
}

export function traceHash(t: Trace): string {
  return structuralHash(t.steps);
}
