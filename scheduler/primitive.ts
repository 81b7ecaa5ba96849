import { Program } from '../ir/program.js';
import { fields, nonEmpty, positiveInt, safeInt, z } from '../ir/schema.js';
import { ScheduleContext } from './context.js';

/**
 * What a schedule primitive declares next to its code (after TVM's instruction traits): its trace
 * step, how the step is read from JSON, the builder call that records it, and how it is applied.
 * The registry (primitives/index.ts) lists the definitions once; trace parsing and printing,
 * replay and the `Schedule` builder all iterate it, so a new primitive is its file plus one line.
 */
export interface PrimitiveDef<S extends { readonly prim: string }, A extends readonly unknown[]> {
  readonly prim: S['prim'];
  /**
   * The step as JSON (`stepFields`: `prim` and exactly the step's fields, each checked), giving the
   * step as `step` builds it; a malformed step gets one precise line (ir/schema.ts).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a schema may transform (its input type is the JSON's)
  readonly schema: z.ZodType<S, any>;
  /** The step that the builder call `s.<prim>(...args)` records. */
  step(...args: A): S;
  /** The inverse of `step`: the arguments `traceToTypeScript` prints for a step. */
  args(s: S): A;
  /** Check, transform, and rebuild through `program()`, which verifies every IR invariant again. */
  apply(p: Program, s: S, ctx: ScheduleContext): Program;
  /** The numbers a search may change without changing the trace's structure. */
  readonly decision?: DecisionSlot<S>;
}

export interface DecisionSlot<S> {
  readonly field: string;
  /** Undefined when the step does not carry the decision (a full unroll). */
  get(s: S): readonly number[] | undefined;
  set(s: S, value: readonly number[]): S;
}

/** The step type a definition registers. */
export type StepOf<D> = D extends PrimitiveDef<infer S, infer _A> ? S : never;
/** The arguments of the builder method a definition registers. */
export type ArgsOf<D> = D extends PrimitiveDef<infer _S, infer A> ? A : never;

/** What the fields of steps are made of. */
export const FIELD = {
  loop: nonEmpty,
  loops: z.array(nonEmpty).min(1),
  buffer: nonEmpty,
  ints: z.array(safeInt).min(1),
  positiveInt,
} as const;

/** The schema of a step: `prim` and exactly these fields (an unknown one names the nearest known field). */
export function stepFields<P extends string, F extends z.ZodRawShape>(prim: P, shape: F) {
  return fields({ prim: z.literal(prim), ...shape });
}
