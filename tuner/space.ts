import { canonical, structuralHash } from '../ir/hash.js';
import { ForStmt, collectLoops, walkStmt } from '../ir/loop.js';
import { forEachExpr } from '../ir/expr.js';
import { Program } from '../ir/program.js';
import { applyTrace } from '../scheduler/apply.js';
import { defaultGpuTrace } from '../scheduler/default-schedules.js';
import { LoopsmithError } from '../ir/errors.js';
import { perfectChain } from '../scheduler/locate.js';
import { Step, Trace, trace } from '../scheduler/trace.js';
import { divisors, orderedFactorizations, smallestPrime } from './factors.js';

/** A target's registry name ('c', 'webgpu', ...): open, so a new target needs no change here. */
export type TargetKind = string;
/** Which rule set builds the space: CPU-style (threads, vectors, register tiles) or GPU-style (binding, workgroups). */
export type SpaceStyle = 'cpu' | 'gpu';

/** What the space needs to know about the target: read from its capabilities. */
export interface SpaceTarget {
  readonly kind: TargetKind;
  readonly style: SpaceStyle;
  /** CPU: f32 lanes of a vector register; register tiles prefer multiples of it. */
  readonly lanes: number;
  /** CPU: threads the kernel may use (a parallel loop only pays with more than one). */
  readonly threads: number;
  /** GPU limits. */
  readonly maxInvocations: number;
  readonly maxWorkgroupDim: readonly [number, number, number];
  readonly maxWorkgroupBytes: number;
}

export interface Axis {
  readonly name: string;
  readonly extent: number;
  readonly axis: 'spatial' | 'reduce';
  /** Spatial axes get 3 levels (CPU: outer/cache/register, GPU: workgroup/thread/register), reductions 2. */
  readonly levels: number;
}

/**
 * One point of the space: the decisions, not the IR. `factors[a]` are the inner factors of axis a
 * (level 1, 2, ...), whose product divides its extent; `order` is the loop order of the main nest
 * (loops named `axis.level`); the rest are switches. A point becomes a trace with `toTrace`.
 */
export interface Point {
  readonly factors: Readonly<Record<string, readonly number[]>>;
  readonly order: readonly string[];
  readonly unroll: number;
  readonly vectorize: 0 | 1;
  readonly parallel: 0 | 1;
  readonly cacheWrite: 0 | 1;
  readonly cacheRead: Readonly<Record<string, 0 | 1>>;
}

export type Action =
  | { readonly kind: 'move'; readonly axis: string; readonly from: number; readonly to: number }
  | { readonly kind: 'swap'; readonly at: number }
  | { readonly kind: 'unroll'; readonly delta: 1 | -1 }
  | { readonly kind: 'toggle'; readonly what: 'vectorize' | 'parallel' | 'cacheWrite' | `cacheRead:${string}` };

const MAX_UNROLL_DEPTH = 2;
const lvl = (a: string, l: number) => `${a}.${l}`;
const axisOf = (loop: string) => loop.slice(0, loop.lastIndexOf('.'));
const levelOf = (loop: string) => Number(loop.slice(loop.lastIndexOf('.') + 1));

/**
 * The schedule space of a computation on a target, derived from its loop structure alone: the
 * perfect nest that computes the output (the update nest of a reduction) gives the axes; the target
 * gives what the levels mean and the limits that sampling respects.
 */
export class ScheduleSpace {
  readonly axes: readonly Axis[];
  readonly inputs: readonly string[];
  readonly output: string;
  readonly actions: readonly Action[];
  /** GPU: the spatial axes bound to x, y, z (innermost first); the others stay serial outside. */
  readonly bound: readonly string[];
  private readonly rest: readonly string[];

  constructor(readonly program: Program, readonly target: SpaceTarget, readonly registerBudget = target.style === 'cpu' ? 512 : 64) {
    const tops = program.body.kind === 'seq' ? program.body.body : [program.body];
    const main = tops.find((t) => collectLoops(t).some((l) => l.axis === 'reduce')) ?? tops[0]!;
    if (main.kind !== 'for') throw new LoopsmithError(`${program.name}: no loop nest to schedule`);
    const chain: ForStmt[] = perfectChain(main);
    this.axes = chain.map((l) => ({ name: l.var, extent: l.extent, axis: l.axis, levels: l.axis === 'spatial' ? 3 : 2 }));
    // Inputs the main nest reads: the candidates for staging (an epilogue's bias is not).
    const read = new Set<string>();
    walkStmt(main, (x) => {
      if (x.kind === 'store') forEachExpr(x.value, (e) => { if (e.kind === 'load') read.add(e.buffer); });
    });
    this.inputs = program.buffers.filter((b) => b.role === 'input' && read.has(b.name)).map((b) => b.name);
    this.output = program.buffers.find((b) => b.role === 'output')!.name;
    const spatial = this.axes.filter((a) => a.axis === 'spatial');
    this.bound = target.style === 'gpu' ? spatial.filter((a) => a.extent > 1).slice(-3).reverse().map((a) => a.name) : [];
    // GPU order: [unbound spatial..., workgroup loops, thread loops, then a free part]: only the
    // free part is searched, since binding fixes the rest.
    this.rest = target.style === 'gpu' ? [...this.axes.filter((a) => a.axis === 'reduce').flatMap((a) => [lvl(a.name, 0), lvl(a.name, 1)]), ...spatial.map((a) => lvl(a.name, 2))] : [];
    this.actions = this.buildActions();
  }

  private buildActions(): Action[] {
    const out: Action[] = [];
    for (const a of this.axes) for (let f = 0; f < a.levels; f++) for (let t = 0; t < a.levels; t++) if (f !== t) out.push({ kind: 'move', axis: a.name, from: f, to: t });
    const swaps = this.target.style === 'cpu' ? this.axes.reduce((n, a) => n + a.levels, 0) - 1 : this.rest.length - 1;
    for (let i = 0; i < swaps; i++) out.push({ kind: 'swap', at: i });
    out.push({ kind: 'unroll', delta: 1 }, { kind: 'unroll', delta: -1 });
    if (this.target.style === 'cpu') out.push({ kind: 'toggle', what: 'vectorize' }, { kind: 'toggle', what: 'parallel' });
    out.push({ kind: 'toggle', what: 'cacheWrite' });
    for (const i of this.inputs) out.push({ kind: 'toggle', what: `cacheRead:${i}` });
    return out;
  }

  /** Extents of each level of an axis under a point: level 0 is what the factors leave over. */
  levelExtents(p: Point, axis: string): number[] {
    const a = this.axes.find((x) => x.name === axis)!;
    const f = p.factors[axis]!;
    return [a.extent / f.reduce((x, y) => x * y, 1), ...f];
  }

  /** Number of points: ordered factorizations of every axis times orders times switches. */
  size(): number {
    let n = 1;
    for (const a of this.axes) n *= orderedFactorizations(a.extent, a.levels);
    const loops = this.target.style === 'cpu' ? this.axes.reduce((s, a) => s + a.levels, 0) : this.rest.length;
    let orders = 1;
    for (let i = 2; i <= loops; i++) orders *= i;
    const toggles = 2 ** (this.inputs.length + 1 + (this.target.style === 'cpu' ? 2 : 0)) * (MAX_UNROLL_DEPTH + 1);
    return n * orders * toggles;
  }

  /** The default order: BLAS-like on the CPU (outer, reduction blocks, middle, reduction, register). */
  defaultOrder(): string[] {
    const S = this.axes.filter((a) => a.axis === 'spatial'), R = this.axes.filter((a) => a.axis === 'reduce');
    if (this.target.style === 'cpu') {
      return [...S.map((a) => lvl(a.name, 0)), ...R.map((a) => lvl(a.name, 0)), ...S.map((a) => lvl(a.name, 1)), ...R.map((a) => lvl(a.name, 1)), ...S.map((a) => lvl(a.name, 2))];
    }
    return this.gpuOrder(this.rest);
  }

  private gpuOrder(rest: readonly string[]): string[] {
    const S = this.axes.filter((a) => a.axis === 'spatial');
    const unbound = S.filter((a) => !this.bound.includes(a.name)).flatMap((a) => [0, 1, 2].map((l) => lvl(a.name, l)));
    const restSet = new Set(rest);
    const freeUnbound = unbound.filter((x) => !restSet.has(x));
    const boundLoops = [...this.bound].reverse();
    return [...freeUnbound, ...boundLoops.map((a) => lvl(a, 0)), ...boundLoops.map((a) => lvl(a, 1)), ...rest.filter((x) => !freeUnbound.includes(x))];
  }

  /** A random point respecting the sampling constraints (exact factors, register and thread budgets). */
  sample(r: () => number): Point {
    for (let attempt = 0; ; attempt++) {
      const factors: Record<string, number[]> = {};
      for (const a of this.axes) {
        let left = a.extent;
        const fs: number[] = [];
        for (let l = a.levels - 1; l >= 1; l--) {
          const ds = divisors(left);
          // Register level of the innermost spatial axis: favour whole vectors on the CPU.
          const innermost = a.name === this.axes.filter((x) => x.axis === 'spatial').at(-1)?.name && l === 2 && this.target.style === 'cpu';
          // Register level of other spatial axes: a few rows, which unrolling turns into registers.
          const register = a.axis === 'spatial' && l === 2 && !innermost;
          const pool = innermost ? ds.filter((d) => d % this.target.lanes === 0 && d <= 4 * this.target.lanes) : register ? ds.filter((d) => d >= 2 && d <= 16) : [];
          const d = pool.length && r() < 0.7 ? pool[Math.floor(r() * pool.length)]! : ds[Math.floor(r() * ds.length)]!;
          fs.unshift(d);
          left /= d;
        }
        factors[a.name] = fs;
      }
      const order = this.defaultOrder();
      const p: Point = {
        factors, order, unroll: r() < 0.7 ? 1 : Math.floor(r() * (MAX_UNROLL_DEPTH + 1)),
        vectorize: this.target.style === 'cpu' ? 1 : 0, parallel: this.target.style === 'cpu' && this.target.threads > 1 ? 1 : 0,
        cacheWrite: r() < 0.7 ? 1 : 0, cacheRead: Object.fromEntries(this.inputs.map((i) => [i, r() < 0.3 ? 1 : 0])) as Record<string, 0 | 1>,
      };
      if (this.withinBudgets(p) || attempt > 50) return p;
    }
  }

  /** Register tile and, on the GPU, threads per workgroup within budget. */
  withinBudgets(p: Point): boolean {
    const S = this.axes.filter((a) => a.axis === 'spatial');
    const reg = S.reduce((n, a) => n * this.levelExtents(p, a.name)[2]!, 1);
    if (reg > this.registerBudget) return false;
    if (this.target.style === 'gpu') {
      const threads = this.bound.map((a) => this.levelExtents(p, a)[1]!);
      if (threads.reduce((x, y) => x * y, 1) > this.target.maxInvocations) return false;
      if (threads.some((t, i) => t > this.target.maxWorkgroupDim[i]!)) return false;
    }
    return true;
  }

  /** A neighbour by one move, or undefined when the move does not apply to this point. */
  apply(p: Point, a: Action): Point | undefined {
    switch (a.kind) {
      case 'move': {
        const ext = this.levelExtents(p, a.axis);
        const prime = smallestPrime(ext[a.from]!);
        if (!prime) return undefined;
        ext[a.from]! /= prime;
        ext[a.to]! *= prime;
        const q = { ...p, factors: { ...p.factors, [a.axis]: ext.slice(1) } };
        return this.withinBudgets(q) ? q : undefined;
      }
      case 'swap': {
        if (this.target.style === 'cpu') {
          if (a.at + 1 >= p.order.length) return undefined;
          const order = [...p.order];
          [order[a.at], order[a.at + 1]] = [order[a.at + 1]!, order[a.at]!];
          return { ...p, order };
        }
        const rest = p.order.slice(p.order.length - this.rest.length);
        if (a.at + 1 >= rest.length) return undefined;
        [rest[a.at], rest[a.at + 1]] = [rest[a.at + 1]!, rest[a.at]!];
        return { ...p, order: this.gpuOrder(rest) };
      }
      case 'unroll': {
        const u = p.unroll + a.delta;
        return u < 0 || u > MAX_UNROLL_DEPTH ? undefined : { ...p, unroll: u };
      }
      case 'toggle': {
        if (a.what === 'vectorize' || a.what === 'parallel' || a.what === 'cacheWrite') return { ...p, [a.what]: p[a.what] ? 0 : 1 };
        const input = a.what.slice('cacheRead:'.length);
        return { ...p, cacheRead: { ...p.cacheRead, [input]: p.cacheRead[input] ? 0 : 1 } };
      }
    }
  }

  /** Normalized features of a point for the Q-learner: level sizes, loop positions, switches. */
  features(p: Point): number[] {
    const f: number[] = [];
    for (const a of this.axes) {
      const ext = this.levelExtents(p, a.name);
      const top = Math.log2(a.extent) || 1;
      for (const e of ext) f.push(Math.log2(e) / top);
    }
    const pos = new Map(p.order.map((x, i) => [x, i / Math.max(1, p.order.length - 1)]));
    for (const a of this.axes) for (let l = 0; l < a.levels; l++) f.push(pos.get(lvl(a.name, l)) ?? 0);
    f.push(p.unroll / MAX_UNROLL_DEPTH, p.vectorize, p.parallel, p.cacheWrite, ...this.inputs.map((i) => p.cacheRead[i] ?? 0));
    return f.map((x) => x * 2 - 1);
  }

  key(p: Point): string {
    return canonical(p);
  }

  /** The trace of a point: splits, order, caches, unrolling, vectorization, parallelism or binding. */
  toTrace(p: Point, workload?: string): Trace {
    const steps: Step[] = [];
    for (const a of this.axes) steps.push({ prim: 'split', loop: a.name, factors: [...p.factors[a.name]!], tail: 'requireDivisible' });
    steps.push({ prim: 'reorder', loops: [...p.order] });
    const extentOf = (loop: string) => this.levelExtents(p, axisOf(loop))[levelOf(loop)]!;
    const isReduce = (loop: string) => this.axes.find((a) => a.name === axisOf(loop))!.axis === 'reduce';
    if (this.target.style === 'gpu') {
      this.bound.forEach((a, i) => {
        steps.push({ prim: 'bind', loop: lvl(a, 0), axis: (['workgroup.x', 'workgroup.y', 'workgroup.z'] as const)[i]! });
        steps.push({ prim: 'bind', loop: lvl(a, 1), axis: (['thread.x', 'thread.y', 'thread.z'] as const)[i]! });
      });
    }
    const firstRegister = p.order.findIndex((x) => !isReduce(x) && levelOf(x) === 2 && extentOf(x) > 1);
    if (p.cacheWrite && firstRegister > 0) steps.push({ prim: 'cacheWrite', buffer: this.output, scope: 'local', at: p.order[firstRegister - 1]! });
    const packAt = [...p.order].reverse().find((x) => isReduce(x) && levelOf(x) === 0);
    for (const i of this.inputs) {
      if (!p.cacheRead[i] || !packAt) continue;
      steps.push({ prim: 'cacheRead', buffer: i, scope: this.target.style === 'cpu' ? 'local' : 'workgroup', at: packAt });
    }
    const last = p.order[p.order.length - 1]!;
    const vectorized = this.target.style === 'cpu' && p.vectorize && !isReduce(last) && extentOf(last) > 1 && extentOf(last) <= 64;
    const inner = p.order.filter((x, i) => !(vectorized && i === p.order.length - 1) && extentOf(x) > 1 && !(this.target.style === 'gpu' && levelOf(x) < 2 && this.bound.includes(axisOf(x))));
    // Unrolled copies multiply: keep the unrolled body at most 64 copies, so code stays compilable.
    const unrolled = new Set<string>();
    let copies = 1;
    for (const x of p.unroll > 0 ? inner.slice(-p.unroll).reverse() : []) {
      if (copies * extentOf(x) > 64) break;
      copies *= extentOf(x);
      unrolled.add(x);
    }
    for (const x of unrolled) steps.push({ prim: 'unroll', loop: x });
    if (vectorized) steps.push({ prim: 'vectorize', loop: last });
    if (this.target.style === 'cpu' && p.parallel && this.target.threads > 1) {
      const outer = p.order.find((x, i) => extentOf(x) > 1 && !unrolled.has(x) && !(vectorized && i === p.order.length - 1));
      if (outer && !isReduce(outer)) steps.push({ prim: 'parallel', loop: outer });
    }
    let t = trace(steps, workload);
    if (this.target.style === 'gpu') {
      // The other nests (initialisation, epilogue) get the default one-invocation-per-element binding.
      const scheduled = applyTrace(this.program, t);
      t = trace([...steps, ...defaultGpuTrace(scheduled).steps], workload);
    }
    return t;
  }
}

export function traceHash(t: Trace): string {
  return structuralHash(t.steps);
}
