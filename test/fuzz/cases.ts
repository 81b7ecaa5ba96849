import { ForStmt, Stmt, collectLoops } from '../../ir/loop.js';
import { OpSpec, Params, Workload, findOp, lowerWorkload } from '../../ir/ops/index.js';
import { Program } from '../../ir/program.js';
import { rng } from '../../ir/random.js';
import { applyStep } from '../../scheduler/apply.js';
import { defaultGpuTrace } from '../../scheduler/default-schedules.js';
import { ScheduleError } from '../../scheduler/errors.js';
import { perfectChain } from '../../scheduler/locate.js';
import { Step, TailStrategy } from '../../scheduler/trace.js';
import { PrimitiveWeights, TraceGenerationBug, randomLegalTrace } from '../random-trace.js';
import { randomParams, tryWorkload } from './workloads.js';

/** One fuzz input: an operator instance and a schedule for it. Everything else derives from these. */
export interface FuzzCase {
  readonly op: string;
  readonly params: Params;
  readonly steps: readonly Step[];
}

export type Device = 'cpu' | 'gpu';

/** A case ready to render: its workload, the unscheduled program (the reference) and the scheduled one. */
export interface Prepared {
  readonly fuzzCase: FuzzCase;
  readonly workload: Workload;
  readonly base: Program;
  readonly program: Program;
}

/** A primitive threw something other than a ScheduleError while the trace was applied: a bug of its own. */
export interface ScheduleBug {
  readonly fuzzCase: FuzzCase;
  readonly message: string;
}

const errorLine = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split('\n')[0]!;

/**
 * The case replayed from scratch. Undefined when it is not a legal input (parameters that do not
 * fit, a step the primitives refuse): the shrinker makes many such variants and drops them.
 */
export function prepare(c: FuzzCase): Prepared | ScheduleBug | undefined {
  const w = tryWorkload(c.op, c.params);
  if (!w) return undefined;
  const base = lowerWorkload(w);
  let p = base;
  for (const s of c.steps) {
    try {
      p = applyStep(p, s);
    } catch (e) {
      if (e instanceof ScheduleError) return undefined;
      return { fuzzCase: c, message: `${s.prim} threw ${errorLine(e)}` };
    }
  }
  return { fuzzCase: c, workload: w, base, program: p };
}

export const isPrepared = (x: Prepared | ScheduleBug): x is Prepared => 'program' in x;

type Rng = () => number;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
const chance = (r: Rng, p: number) => r() < p;
const randInt = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** Steps applied one by one; a refused step is skipped, any other exception is a generation bug. */
class Builder {
  readonly steps: Step[] = [];
  constructor(public program: Program) {}

  try(s: Step): boolean {
    try {
      this.program = applyStep(this.program, s);
    } catch (e) {
      if (e instanceof ScheduleError) return false;
      // No steps of its own: the case is this builder's steps and the failing one.
      throw new TraceGenerationBug([], s, e);
    }
    this.steps.push(s);
    return true;
  }
}

/** The top-level nest that computes the output: the one with the reduction when there is one. */
function mainNest(p: Program): ForStmt | undefined {
  const tops: readonly Stmt[] = p.body.kind === 'seq' ? p.body.body : [p.body];
  const loops = tops.filter((t): t is ForStmt => t.kind === 'for');
  return loops.find((t) => collectLoops(t).some((l) => l.axis === 'reduce')) ?? loops[0];
}

function tail(r: Rng, divisible: boolean): TailStrategy {
  if (divisible) return chance(r, 0.4) ? 'requireDivisible' : chance(r, 0.5) ? 'pad' : 'guard';
  return chance(r, 0.55) ? 'pad' : 'guard';
}

/**
 * The shape of a register-tiled CPU schedule, where the issue-14 bug lived: split the innermost
 * spatial loops (often with a tail), move the reductions between the outer and inner parts, keep
 * the output tile in a local cache at the last outer loop, unroll the tile's rows and vectorize its
 * columns. Each step is taken with some probability and skipped where it does not apply.
 */
function registerTile(r: Rng, b: Builder, device: Device): void {
  const nest = mainNest(b.program);
  if (!nest) return;
  const spatial = perfectChain(nest).filter((l) => l.axis === 'spatial' && l.extent >= 2);
  const chosen = spatial.slice(-randInt(r, 1, 2));
  const inner: string[] = [];
  for (const l of chosen) {
    const f = randInt(r, 2, Math.min(l.extent, 8));
    if (b.try({ prim: 'split', loop: l.var, factors: [f], tail: tail(r, l.extent % f === 0) })) inner.push(`${l.var}.1`);
  }
  const reduce = b.steps.length && chance(r, 0.3) ? perfectChain(mainNest(b.program)!).find((l) => l.axis === 'reduce' && l.extent >= 3) : undefined;
  if (reduce) b.try({ prim: 'split', loop: reduce.var, factors: [randInt(r, 2, Math.min(reduce.extent - 1, 4))], tail: 'guard' });
  const chain = perfectChain(mainNest(b.program)!);
  const outer = chain.filter((l) => l.axis === 'spatial' && !inner.includes(l.var)).map((l) => l.var);
  const order = [...outer, ...chain.map((l) => l.var).filter((v) => !outer.includes(v) && !inner.includes(v)), ...inner];
  if (chance(r, 0.75)) b.try({ prim: 'reorder', loops: order });
  const at = outer[outer.length - 1];
  if (at && chance(r, 0.85)) b.try({ prim: 'cacheWrite', buffer: outputOf(b.program), scope: 'local', at });
  inner.slice(0, -1).forEach((v) => chance(r, 0.8) && b.try({ prim: 'unroll', loop: v }));
  const last = inner[inner.length - 1];
  if (last && chance(r, 0.5)) b.try(chance(r, 0.6) ? { prim: 'vectorize', loop: last } : { prim: 'unroll', loop: last });
  if (device === 'cpu' && outer[0] && chance(r, 0.25)) b.try({ prim: 'parallel', loop: outer[0] });
  if (device === 'gpu') {
    if (outer[0] && chance(r, 0.8)) b.try({ prim: 'bind', loop: outer[0], axis: 'workgroup.x' });
    if (outer[1] && chance(r, 0.6)) b.try({ prim: 'bind', loop: outer[1], axis: 'thread.x' });
  }
}

function outputOf(p: Program): string {
  return p.buffers.find((x) => x.role === 'output')!.name;
}

/** Random steps after the structured ones lean toward what makes code differ: unrolling, vectors, tails, caches. */
const WEIGHTS: Record<Device, PrimitiveWeights> = {
  cpu: { split: 4, unroll: 3.5, vectorize: 3, cacheWrite: 2.5, cacheRead: 2.5, bind: 0.3 },
  gpu: { split: 4, unroll: 3, vectorize: 1, cacheWrite: 2.5, cacheRead: 2.5, bind: 2.5, parallel: 0.3 },
};

/**
 * Shapes per operator in one run. Schedules vary far more than shapes need to, and a shape seen
 * before reuses its reference outputs (the reference executor is a large part of the cost of a case).
 */
export const SHAPES_PER_OP = 8;

/**
 * The case of one seed: an op from `ops`, one of the run's shapes of it (parameters drawn around
 * its example from `shapeSeed`), then usually the register-tile shape (or, on a GPU, the default
 * binding) and a few random legal steps on top; on a GPU, nests still unbound get the default binding.
 */
export function generateCase(seed: number, shapeSeed: number, ops: readonly OpSpec[], device: Device): FuzzCase {
  const r = rng(seed);
  const op = ops[Math.floor(r() * ops.length)]!;
  const shape = Math.floor(r() * SHAPES_PER_OP);
  const params = randomParams(rng(fnv1a(`${shapeSeed}/${op.name}/${shape}`)), op);
  const b = new Builder(lowerWorkload(tryWorkload(op.name, params)!));
  try {
    if (device === 'gpu' && chance(r, 0.4)) defaultGpuTrace(b.program).steps.forEach((s) => b.try(s));
    else if (chance(r, 0.7)) registerTile(r, b, device);
    const extra = randomLegalTrace(b.program, Math.floor(r() * 2 ** 31), randInt(r, b.steps.length ? 0 : 3, b.steps.length ? 4 : 9), WEIGHTS[device]);
    b.steps.push(...extra.steps);
    b.program = extra.program;
    // lavapipe runs a nest left in one invocation about a million times slower than the CPU: bind what is still unbound.
    if (device === 'gpu') defaultGpuTrace(b.program).steps.forEach((s) => b.try(s));
    return { op: op.name, params, steps: b.steps };
  } catch (e) {
    // The trace that made a primitive throw is the case: replaying it reproduces the bug.
    if (!(e instanceof TraceGenerationBug)) throw e;
    return { op: op.name, params, steps: [...b.steps, ...e.applied, e.failing] };
  }
}

export const opsByName = (names: readonly string[]): OpSpec[] => names.map(findOp);
