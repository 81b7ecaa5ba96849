import { Program } from '../../ir/program.js';
import { Step } from '../../scheduler/trace.js';
import { Action, ActionKind } from './actions.js';
import { MainNest } from './nest.js';
import { Draft, Point, loopExtent } from './point.js';

/**
 * Steps come out in phases, as in MetaSchedule: the loop structure (splits, order, binding), then
 * the caches placed in it, then annotations of the resulting loops (unroll, vectorize, parallel).
 */
export const STEP_PHASES = ['loops', 'caches', 'annotations'] as const;
export type StepPhase = (typeof STEP_PHASES)[number];

/** What the rules of earlier phases decided while a point becomes a trace. */
export class Placement {
  /** Loops bound to the GPU grid: annotations leave them alone. */
  readonly bound = new Set<string>();
  /** The loop the output's register tile is placed at (set by the cacheWrite rule): no thread may run inside it. */
  accumulatorAt?: string;
  constructor(readonly nest: MainNest, readonly point: Point) {}

  extent(loop: string): number {
    return loopExtent(this.nest, this.point, loop);
  }

  isReduce(loop: string): boolean {
    return this.nest.tiledLoop(loop).axis.axis === 'reduce';
  }

  level(loop: string): number {
    return this.nest.tiledLoop(loop).level;
  }
}

/**
 * One space-generation rule: the decisions it owns in a point, the moves that change them, how
 * they are drawn, which limits they must respect, and the schedule steps they become. A rule set
 * (one per target style) is an ordered list of these; the order fixes the action list, the order
 * random draws are taken in, and the order of steps within a phase.
 */
export interface SpaceRule {
  readonly phase: StepPhase;
  /** The action kinds this rule applies. */
  readonly kinds: readonly ActionKind[];
  readonly actions: readonly Action[];
  /** Values this rule's decisions take: the space size is the product over the rules. */
  readonly choices: number;
  sample(r: () => number, draft: Draft): void;
  /** Applies one of this rule's actions; undefined when it does not apply to the point. */
  apply(p: Point, a: Action): Point | undefined;
  /** False when the point breaks a limit this rule knows (register file, workgroup size). */
  within?(p: Point): boolean;
  steps(at: Placement): Step[];
  /** Steps that depend on the program the other steps scheduled (the GPU's other nests). */
  finish?(scheduled: Program): readonly Step[];
}
