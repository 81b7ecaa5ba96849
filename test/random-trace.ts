import { Expr, forEachExpr } from '../ir/expr.js';
import { ForStmt, GPU_AXES, GpuAxis, Stmt, collectLoops, walkStmt } from '../ir/loop.js';
import { Program } from '../ir/program.js';
import { applyStep } from '../scheduler/apply.js';
import { ScheduleError } from '../scheduler/errors.js';
import { perfectChain } from '../scheduler/locate.js';
import { PRIMITIVES, Primitive, Step, TailStrategy, trace, traceToJSON } from '../scheduler/trace.js';

/**
 * Random schedules for property tests: candidate steps drawn with a seeded PRNG from what the
 * current program offers (its loops and buffers), each applied at once. A candidate that the
 * primitive refuses (ScheduleError) is dropped and counted; anything else a primitive throws is a
 * loopsmith bug and propagates, wrapped in TraceGenerationBug so that it carries the steps applied
 * so far and the failing step (the original error is its `cause`).
 */

/** mulberry32, written out so that the traces do not shift when loopsmith's own PRNG changes. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const randInt = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T | undefined => (xs.length ? xs[Math.floor(r() * xs.length)] : undefined);
const chance = (r: Rng, p: number) => r() < p;

function shuffle<T>(r: Rng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface RandomTrace {
  /** The steps that applied, in order: a trace that replays onto the program given. */
  readonly steps: Step[];
  /** The program after all of them. */
  readonly program: Program;
  /** Candidates refused with a ScheduleError. */
  readonly rejected: number;
  readonly rejectedByPrim: Record<Primitive, number>;
}

/** A primitive threw something other than ScheduleError: a loopsmith bug, with what replays it. */
export class TraceGenerationBug extends Error {
  constructor(readonly applied: readonly Step[], readonly failing: Step, override readonly cause: unknown) {
    const e = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`${failing.prim} threw ${e}\nfailing step: ${JSON.stringify(failing)}\ntrace up to and including it:\n${traceToJSON(trace([...applied, failing]))}`);
    this.name = 'TraceGenerationBug';
  }
}

// --- what the program offers ---

interface Site {
  readonly loop: ForStmt;
  /** Loops enclosing it, outermost first. */
  readonly enclosing: readonly ForStmt[];
  /** Index of the top-level nest that holds it. */
  readonly nest: number;
  readonly innermost: boolean;
}

function tops(p: Program): readonly Stmt[] {
  return p.body.kind === 'seq' ? p.body.body : [p.body];
}

function sites(p: Program): Site[] {
  const out: Site[] = [];
  tops(p).forEach((t, nest) =>
    walkStmt(t, (s, enclosing) => {
      if (s.kind === 'for') out.push({ loop: s, enclosing, nest, innermost: collectLoops(s.body).length === 0 });
    }));
  return out;
}

function exprsOf(s: Stmt): Expr[] {
  return s.kind === 'store' ? [...s.indices, s.value] : s.kind === 'if' ? [s.cond] : [];
}

/** Loops that enclose a read of `buffer`. */
function loopsReading(p: Program, buffer: string): string[] {
  const names = new Set<string>();
  walkStmt(p.body, (s, loops) => {
    let hit = false;
    for (const e of exprsOf(s)) forEachExpr(e, (x) => {
      if (x.kind === 'load' && x.buffer === buffer) hit = true;
    });
    if (hit) loops.forEach((l) => names.add(l.var));
  });
  return [...names];
}

/** Loops that enclose the store that computes `buffer`: the reduction update if there is one. */
function loopsWriting(p: Program, buffer: string): string[] {
  const reduction = collectLoops(p.body).some((l) => l.axis === 'reduce');
  const names = new Set<string>();
  walkStmt(p.body, (s, loops) => {
    if (s.kind === 'store' && s.buffer === buffer && (!reduction || s.accum !== 'assign')) loops.forEach((l) => names.add(l.var));
  });
  return [...names];
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/** An inner factor for a loop of this extent: usually a proper divisor, sometimes anything. */
function pickFactor(r: Rng, extent: number): number {
  if (extent <= 1) return 1;
  if (chance(r, 0.6)) {
    const ds = divisors(extent).filter((d) => d > 1 && d < extent);
    if (ds.length) return pick(r, ds)!;
  }
  return randInt(r, 2, extent);
}

/** A tail strategy that the split will usually accept (and now and then one it will refuse). */
function pickTail(r: Rng, divisible: boolean, reduce: boolean): TailStrategy {
  const x = r();
  if (divisible) return x < 0.4 ? 'requireDivisible' : x < 0.75 ? 'guard' : 'pad';
  if (x < 0.08) return 'requireDivisible';
  if (!reduce && x < 0.4) return 'pad';
  return 'guard';
}

const serial = (l: ForStmt) => l.loopKind === 'serial';
const annotatedGpuOrParallel = (l: ForStmt) => l.loopKind === 'parallel' || l.loopKind.includes('.');

type Maker = (r: Rng, p: Program, ss: readonly Site[]) => Step | undefined;

const MAKERS: Record<Primitive, { weight: number; make: Maker }> = {
  split: {
    weight: 5,
    make: (r, _p, ss) => {
      const s = pick(r, ss.filter((x) => serial(x.loop) && x.loop.extent >= 2));
      if (!s) return undefined;
      const e = s.loop.extent;
      const f1 = pickFactor(r, e);
      const factors = chance(r, 0.3) && Math.floor(e / f1) >= 2 ? [f1, pickFactor(r, Math.floor(e / f1))] : [f1];
      const prod = factors.reduce((a, b) => a * b, 1);
      return { prim: 'split', loop: s.loop.var, factors, tail: pickTail(r, e % prod === 0, s.loop.axis === 'reduce') };
    },
  },
  tile: {
    weight: 2,
    make: (r, _p, ss) => {
      const s = pick(r, ss.filter((x) => serial(x.loop) && x.loop.body.kind === 'for' && serial(x.loop.body)));
      if (!s) return undefined;
      const chain = perfectChain(s.loop).filter((l, i) => i < 3 && serial(l));
      const loops = chain.length >= 3 && chance(r, 0.3) ? chain.slice(0, 3) : chain.slice(0, 2);
      if (loops.length < 2) return undefined;
      const factors = loops.map((l) => pickFactor(r, l.extent));
      const divisible = loops.every((l, i) => l.extent % factors[i]! === 0);
      return { prim: 'tile', loops: loops.map((l) => l.var), factors, tail: pickTail(r, divisible, loops.some((l) => l.axis === 'reduce')) };
    },
  },
  reorder: {
    weight: 3,
    make: (r, _p, ss) => {
      const s = pick(r, ss.filter((x) => perfectChain(x.loop).length >= 2));
      if (!s) return undefined;
      const chain = perfectChain(s.loop);
      const k = randInt(r, 2, Math.min(4, chain.length));
      const chosen = shuffle(r, chain).slice(0, k).map((l) => l.var);
      const depth = (v: string) => chain.findIndex((l) => l.var === v);
      const inOrder = [...chosen].sort((a, b) => depth(a) - depth(b));
      let order = shuffle(r, inOrder);
      for (let i = 0; i < 3 && order.every((v, j) => v === inOrder[j]); i++) order = shuffle(r, inOrder);
      return { prim: 'reorder', loops: order };
    },
  },
  fuse: {
    weight: 1.5,
    make: (r, _p, ss) => {
      const s = pick(r, ss.filter((x) => serial(x.loop) && x.loop.body.kind === 'for' && serial(x.loop.body) && x.loop.body.axis === x.loop.axis));
      if (!s || s.loop.body.kind !== 'for') return undefined;
      return { prim: 'fuse', outer: s.loop.var, inner: s.loop.body.var };
    },
  },
  vectorize: {
    weight: 1.5,
    make: (r, _p, ss) => {
      const s = pick(r, ss.filter((x) => serial(x.loop) && x.innermost && x.loop.axis === 'spatial' && x.loop.extent <= 64));
      return s && { prim: 'vectorize', loop: s.loop.var };
    },
  },
  unroll: {
    weight: 2,
    make: (r, _p, ss) => {
      const s = pick(r, ss.filter((x) => serial(x.loop) && x.loop.extent >= 2));
      if (!s) return undefined;
      const e = s.loop.extent;
      if (e <= 16 && chance(r, 0.5)) return { prim: 'unroll', loop: s.loop.var };
      return { prim: 'unroll', loop: s.loop.var, factor: randInt(r, 2, Math.min(8, e)) };
    },
  },
  parallel: {
    weight: 1.5,
    make: (r, _p, ss) => {
      const s = pick(r, ss.filter((x) => serial(x.loop) && x.loop.axis === 'spatial' && !x.enclosing.some(annotatedGpuOrParallel)
        && !collectLoops(x.loop.body).some((l) => l.loopKind === 'parallel')));
      return s && { prim: 'parallel', loop: s.loop.var };
    },
  },
  bind: {
    weight: 2,
    make: (r, _p, ss) => {
      const s = pick(r, ss.filter((x) => serial(x.loop) && x.loop.axis === 'spatial'));
      if (!s) return undefined;
      const used = new Set(ss.filter((x) => x.nest === s.nest).map((x) => x.loop.loopKind));
      // Workgroup axes for loops near the top of the nest, thread axes deeper, as a GPU schedule would.
      const wantWorkgroup = s.enclosing.length === 0 || (chance(r, 0.5) && !s.enclosing.some((l) => l.loopKind.startsWith('thread')));
      const free = GPU_AXES.filter((a) => !used.has(a));
      const preferred = free.filter((a) => a.startsWith(wantWorkgroup ? 'workgroup' : 'thread'));
      const axis: GpuAxis | undefined = pick(r, preferred.length ? preferred : free);
      return axis && { prim: 'bind', loop: s.loop.var, axis };
    },
  },
  cacheRead: {
    weight: 2.5,
    make: (r, p) => {
      const input = pick(r, p.buffers.filter((b) => b.role === 'input'));
      if (!input) return undefined;
      // Now and then any loop, most of which do not enclose a read: exercises the refusal.
      const at = chance(r, 0.1) ? pick(r, collectLoops(p.body).map((l) => l.var)) : pick(r, loopsReading(p, input.name));
      return at === undefined ? undefined : { prim: 'cacheRead', buffer: input.name, scope: chance(r, 0.75) ? 'local' : 'workgroup', at };
    },
  },
  cacheWrite: {
    weight: 2,
    make: (r, p) => {
      const output = pick(r, p.buffers.filter((b) => b.role === 'output'));
      if (!output) return undefined;
      const at = chance(r, 0.1) ? pick(r, collectLoops(p.body).map((l) => l.var)) : pick(r, loopsWriting(p, output.name));
      return at === undefined ? undefined : { prim: 'cacheWrite', buffer: output.name, scope: chance(r, 0.8) ? 'local' : 'workgroup', at };
    },
  },
  layout: {
    weight: 1.5,
    make: (r, p) => {
      const input = pick(r, p.buffers.filter((b) => b.role === 'input'));
      if (!input) return undefined;
      // One or two blocked dimensions (a factor that divides the dimension, or now and then not), or none: a padded copy.
      const dims = shuffle(r, input.shape.map((_, d) => d).filter((d) => input.shape[d]! >= 2)).slice(0, chance(r, 0.2) ? 0 : chance(r, 0.7) ? 1 : 2);
      const factors = dims.map((d) => pickFactor(r, input.shape[d]!));
      const blocked = dims.length ? { dims, factors } : {};
      // Before the nest (the CPU's pack), or at a loop that reads it, as a cache would be.
      if (chance(r, 0.4)) return { prim: 'layout', buffer: input.name, ...blocked };
      const at = chance(r, 0.1) ? pick(r, collectLoops(p.body).map((l) => l.var)) : pick(r, loopsReading(p, input.name));
      return at === undefined ? undefined : { prim: 'layout', buffer: input.name, ...blocked, ...(chance(r, 0.25) ? { scope: 'workgroup' as const } : {}), at };
    },
  },
};

/** How often each primitive is drawn, relative to the others; the property tests use the defaults. */
export type PrimitiveWeights = Partial<Record<Primitive, number>>;

function pickPrimitive(r: Rng, weights: PrimitiveWeights): Primitive {
  const w = (p: Primitive) => weights[p] ?? MAKERS[p].weight;
  let x = r() * PRIMITIVES.reduce((s, p) => s + w(p), 0);
  for (const p of PRIMITIVES) {
    x -= w(p);
    if (x < 0) return p;
  }
  return PRIMITIVES[PRIMITIVES.length - 1]!;
}

/**
 * Up to `maxSteps` random primitives that apply to `program`, in order. Gives up after
 * 5 * maxSteps candidates, so a program that offers little still ends. `weights` overrides how
 * often primitives are drawn (the fuzzer leans toward unrolling and vectorizing).
 */
export function randomLegalTrace(program: Program, seed: number, maxSteps: number, weights: PrimitiveWeights = {}): RandomTrace {
  const r = mulberry32(seed);
  const steps: Step[] = [];
  const rejectedByPrim = Object.fromEntries(PRIMITIVES.map((p) => [p, 0])) as Record<Primitive, number>;
  let rejected = 0;
  let current = program;
  for (let attempt = 0; attempt < 5 * maxSteps && steps.length < maxSteps; attempt++) {
    const prim = pickPrimitive(r, weights);
    const step = MAKERS[prim].make(r, current, sites(current));
    if (!step) continue;
    let next: Program;
    try {
      next = applyStep(current, step);
    } catch (e) {
      if (e instanceof ScheduleError) {
        rejected++;
        rejectedByPrim[prim]++;
        continue;
      }
      throw new TraceGenerationBug(steps, step, e);
    }
    steps.push(step);
    current = next;
  }
  return { steps, program: current, rejected, rejectedByPrim };
}
