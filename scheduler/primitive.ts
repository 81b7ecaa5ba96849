import { Program } from '../ir/program.js';
import { ScheduleContext } from './context.js';
import { TraceFormatError } from './errors.js';

/**
 * What a schedule primitive declares next to its code (after TVM's instruction traits): its trace
 * step, how the step is read from JSON, the builder call that records it, and how it is applied.
 * The registry (primitives/index.ts) lists the definitions once; trace parsing and printing,
 * replay and the `Schedule` builder all iterate it, so a new primitive is its file plus one line.
 */
export interface PrimitiveDef<S extends { readonly prim: string }, A extends readonly unknown[]> {
  readonly prim: S['prim'];
  /** The step's fields besides `prim`, in the order its JSON writes them; any other is refused. */
  readonly fields: readonly (Exclude<keyof S, 'prim'> & string)[];
  /** Every field checked, so that a malformed step gets one precise line. */
  parse(f: StepFields): S;
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

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isInteger(x));
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every(isStr);

/** The fields of one raw step; each reader throws a one-line TraceFormatError naming the step. */
export class StepFields {
  constructor(private readonly raw: Readonly<Record<string, unknown>>, private readonly where: string) {}

  has(name: string): boolean {
    return this.raw[name] !== undefined;
  }

  loop(name: string): string {
    return this.get(name, isStr, 'a loop name');
  }

  loops(name: string): string[] {
    return this.get(name, isStrList, 'a list of loop names');
  }

  buffer(name: string): string {
    return this.get(name, isStr, 'a buffer name');
  }

  ints(name: string): number[] {
    return this.get(name, isIntList, 'a list of integers');
  }

  posInt(name: string): number {
    return this.get(name, isPosInt, 'a positive integer');
  }

  oneOf<T extends string>(name: string, xs: readonly T[], expected = `one of ${xs.join(', ')}`): T {
    return this.get(name, (v): v is T => typeof v === 'string' && (xs as readonly string[]).includes(v), expected);
  }

  private get<T>(name: string, check: (v: unknown) => v is T, expected: string): T {
    const v = this.raw[name];
    if (!check(v)) throw new TraceFormatError(`${this.where}: field '${name}' must be ${expected}, got ${JSON.stringify(v) ?? 'nothing'}`);
    return v;
  }
}
