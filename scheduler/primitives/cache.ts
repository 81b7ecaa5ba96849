import { z } from '../../ir/schema.js';
import { Expr, allOf, f32, forEachExpr, ge, int, load, lt, mapExpr, plus, select, substitute, variable } from '../../ir/expr.js';
import { canonical } from '../../ir/hash.js';
import { bounds, loopRanges } from '../../ir/interval.js';
import {
  BufferDecl, CacheStage, ForStmt, MemScope, Stmt, alloc, barrier, bufferDecl, collectLoops, forLoop, ifThen,
  isGpuAxis, mapStmt, mapStmtExprs, seq, store, walkStmt, withLoop, writeBackOf,
} from '../../ir/loop.js';
import { Program, allBuffers, withBody } from '../../ir/program.js';
import { reductionIdentity } from '../../ir/te.js';
import { ScheduleContext } from '../context.js';
import { ScheduleError } from '../errors.js';
import { affineIn } from '../affine.js';
import { Footprint, footprint } from '../footprint.js';
import { tilesOverlap } from './write-back-overlap.js';
import { boundsOf, conjuncts, withoutImpliedSelects, withoutTailGuards } from './tail-guards.js';
import { LoopSite, findLoop, freshName, replaceLoop } from '../locate.js';
import { FIELD, PrimitiveDef, stepFields } from '../primitive.js';

type Scope = Exclude<MemScope, 'global'>;

/** Loads of `buffer` under `body`, each with the loops (inside `body`) that enclose it. */
function loadsOf(body: Stmt, buffer: string): { indices: readonly Expr[]; loops: readonly ForStmt[] }[] {
  const out: { indices: readonly Expr[]; loops: readonly ForStmt[] }[] = [];
  walkStmt(body, (s, loops) => {
    const exprs = s.kind === 'store' ? [...s.indices, s.value] : s.kind === 'if' ? [s.cond] : [];
    for (const e of exprs) forEachExpr(e, (x) => {
      if (x.kind === 'load' && x.buffer === buffer) out.push({ indices: x.indices, loops });
    });
  });
  return out;
}

function unionLoops(lists: readonly (readonly ForStmt[])[]): ForStmt[] {
  const seen = new Map<string, ForStmt>();
  for (const l of lists.flat()) seen.set(l.var, l);
  return [...seen.values()];
}

/** Loops that enclose some access of the buffer: the legal `at` positions. */
function loopsEnclosing(p: Program, pred: (s: Stmt) => boolean): string[] {
  const names = new Set<string>();
  walkStmt(p.body, (s, loops) => {
    if (pred(s)) loops.forEach((l) => names.add(l.var));
  });
  return [...names];
}

function readsBuffer(s: Stmt, buffer: string): boolean {
  let hit = false;
  const exprs = s.kind === 'store' ? [...s.indices, s.value] : s.kind === 'if' ? [s.cond] : [];
  for (const e of exprs) forEachExpr(e, (x) => {
    if (x.kind === 'load' && x.buffer === buffer) hit = true;
  });
  return hit;
}

/**
 * A nest over the box, for `stage` of scratch buffer `buffer`: `body(t)` gives the statement for box
 * position t. Workgroup-scope copies become one flat `cooperative` loop that the invocations of a
 * workgroup share.
 */
function boxNest(prefix: string, buffer: string, stage: CacheStage, extent: readonly number[], scope: Scope, body: (t: Expr[]) => Stmt, order?: readonly number[]): Stmt {
  if (scope === 'workgroup') {
    const total = extent.reduce((a, b) => a * b, 1);
    const flat = variable(`${prefix}.c`);
    const t: Expr[] = [];
    let stride = total;
    for (const e of extent) {
      stride /= e;
      t.push(e === 1 ? int(0) : stride === 1 ? { kind: 'binary', op: 'mod', a: flat, b: int(e) } : { kind: 'binary', op: 'mod', a: { kind: 'binary', op: 'div', a: flat, b: int(stride) }, b: int(e) });
    }
    return forLoop(`${prefix}.c`, total, body(t), 'spatial', 'cooperative', { kind: 'cacheFlat', buffer, stage });
  }
  const t = extent.map((e, d) => (e === 1 ? int(0) : variable(`${prefix}.${d}`)));
  return (order ?? extent.map((_, d) => d)).reduceRight<Stmt>((b, d) => (extent[d] === 1 ? b : forLoop(`${prefix}.${d}`, extent[d]!, b, 'spatial', 'serial', { kind: 'cacheBox', buffer, stage, dim: d })), body(t));
}

function inBounds(idx: readonly Expr[], shape: readonly number[], ranges: Map<string, readonly [number, number]>): Expr | undefined {
  const conds: Expr[] = [];
  idx.forEach((e, d) => {
    const b = bounds(e, ranges);
    if (!b || b[0] < 0) conds.push(ge(e, int(0)));
    if (!b || b[1] >= shape[d]!) conds.push(lt(e, int(shape[d]!)));
  });
  return allOf(conds);
}

/**
 * A local cache is private to one invocation, so no GPU-bound loop may run inside it. A workgroup
 * cache is shared by the workgroup: no workgroup loop inside it, and when it sits inside thread
 * loops (the usual place, at a reduction loop all threads run in step) its tile covers every
 * thread's part, which `relaxedLoops` accounts for.
 */
function checkPlacement(prim: string, site: LoopSite, scope: Scope, what: string): void {
  const inside = collectLoops(site.loop.body);
  if (scope === 'local') {
    const gpu = inside.find((l) => isGpuAxis(l.loopKind));
    if (gpu) throw new ScheduleError(prim, [site.loop.var, gpu.var], `${gpu.var} (${gpu.loopKind}) is inside the local ${what}, which is private to one invocation`, 'place a local cache inside the thread loops, or use scope workgroup');
  } else {
    if (isGpuAxis(site.loop.loopKind)) {
      throw new ScheduleError(prim, [site.loop.var], `${site.loop.var} is bound to ${site.loop.loopKind}: a workgroup buffer inside it would be shared by invocations that each expect their own`, 'place it at a loop inside the thread loops (such as a reduction loop) or at a workgroup loop');
    }
    const wg = inside.find((l) => l.loopKind.startsWith('workgroup'));
    if (wg) throw new ScheduleError(prim, [site.loop.var, wg.var], `workgroup loop ${wg.var} is inside the workgroup ${what}`, 'place it inside the workgroup loops');
    // A cooperative copy loop runs a different number of iterations in each invocation: a barrier inside it is not in uniform control flow (WGSL refuses it; found by the fuzzer, seed 194713752).
    const coop = [...site.enclosing, site.loop].find((l) => l.loopKind === 'cooperative');
    if (coop) throw new ScheduleError(prim, [site.loop.var], `${coop.var} is the cooperative copy loop of another workgroup cache: its invocations run it a different number of times, so the barriers of a workgroup ${what} inside it would not be reached by all of them`, 'place it outside that copy loop (at a loop around the other cache)');
    const par = [...site.enclosing, site.loop, ...inside].find((l) => l.loopKind === 'parallel' || l.loopKind === 'vectorized');
    if (par) throw new ScheduleError(prim, [site.loop.var, par.var], `${par.var} is ${par.loopKind}; workgroup memory is for GPU nests`, 'use scope local on the CPU');
  }
}

/** Loops whose whole range the tile must cover: those inside `at`, plus enclosing thread loops for workgroup scope. */
function relaxedLoops(site: LoopSite, scope: Scope, inner: readonly ForStmt[]): ForStmt[] {
  const threads = scope === 'workgroup' ? site.enclosing.filter((l) => l.loopKind.startsWith('thread')) : [];
  return [...threads, ...inner];
}

function checkSize(prim: string, at: string, extent: readonly number[], ctx: ScheduleContext): void {
  const n = extent.reduce((a, b) => a * b, 1);
  if (n > ctx.maxCacheElements) throw new ScheduleError(prim, [at], `the tile is ${extent.join('x')} = ${n} elements, more than ${ctx.maxCacheElements}`, 'place the cache at a deeper loop');
}

/**
 * How a staged copy lays out its box: cacheRead keeps it as it is; layout (layout.ts) blocks
 * dimensions and moves their inner parts innermost.
 */
export interface Packing {
  /** Suffix of the scratch buffer's name. */
  readonly suffix: string;
  /** The scratch buffer's shape for a box of this extent. */
  shape(extent: readonly number[]): number[];
  /** The scratch index of an access at this box position; `inner` are the loops the box spans. */
  index(local: readonly Expr[], inner: readonly ForStmt[]): Expr[];
  /** The box position of a scratch position (the copy loops' variables). */
  position(t: readonly Expr[]): Expr[];
  /**
   * The copy loops' nesting, outermost first, as scratch dimensions; absent: in scratch order
   * (stores contiguous). A layout packed before the nest copies in the source's order (layout.ts
   * says when each is faster).
   */
  readonly copyOrder?: (rank: number) => number[];
}

const boxAsItIs = (scope: Scope): Packing => ({ suffix: scope === 'local' ? 'local' : 'shared', shape: (e) => [...e], index: (l) => [...l], position: (t) => [...t] });

/** Stage the tile of an input that the loops inside `at` read into a scratch buffer. */
export function cacheRead(p: Program, buffer: string, scope: Scope, atName: string, ctx: ScheduleContext): Program {
  return stageInput(p, `cacheRead(${buffer}, ${scope}, ${atName})`, buffer, scope, atName, boxAsItIs(scope), ctx);
}

/**
 * Copies what the loops inside `at` read of an input into a scratch buffer laid out by `packing`,
 * and reads it from there; without `at`, once before the nest that reads it (a pack in memory,
 * for the CPU).
 */
export function stageInput(p: Program, prim: string, buffer: string, scope: Scope, atName: string | undefined, packing: Packing, ctx: ScheduleContext): Program {
  const decl = p.buffers.find((b) => b.name === buffer);
  const inputs = p.buffers.filter((b) => b.role === 'input').map((b) => b.name);
  if (!decl || decl.role !== 'input') throw new ScheduleError(prim, [], `${buffer} is not an input of this kernel`, `inputs: ${inputs.join(', ')}`);
  const legal = () => `loops that enclose reads of ${buffer}: ${loopsEnclosing(p, (s) => readsBuffer(s, buffer)).join(', ')}`;
  let region: Stmt, enclosing: ForStmt[], inner: (loops: ForStmt[]) => ForStmt[];
  let place: (staged: (s: Stmt) => Stmt) => Stmt;
  if (atName === undefined) {
    if (scope !== 'local') throw new ScheduleError(prim, [], `a pack before the nest is one copy in memory, not workgroup memory`, 'use scope local, or give `at` a workgroup loop');
    const nests = tops(p).filter((t) => loadsOf(t, buffer).length);
    if (nests.length !== 1) throw new ScheduleError(prim, [], `${nests.length} nests read ${buffer}; a pack before the nest needs exactly one`, legal());
    region = nests[0]!;
    const gpu = collectLoops(region).find((l) => isGpuAxis(l.loopKind));
    if (gpu) throw new ScheduleError(prim, [gpu.var], `${gpu.var} is bound to ${gpu.loopKind}: a pack before the nest would be every invocation's own copy of all of ${buffer}`, 'on the GPU give `at`: a loop inside the thread loops (scope local) or a workgroup loop (scope workgroup)');
    enclosing = [];
    inner = (loops) => loops;
    const top = region;
    place = (staged) => (p.body === top ? staged(top) : seq(tops(p).map((t) => (t === top ? staged(t) : t))));
  } else {
    const site = findLoop(p, atName, prim);
    region = site.loop.body;
    if (loadsOf(region, buffer).length === 0) throw new ScheduleError(prim, [atName], `nothing inside ${atName} reads ${buffer}: the cache would sit outside its consumer`, legal());
    checkPlacement(prim, site, scope, 'cache');
    enclosing = [...site.enclosing, site.loop];
    inner = (loops) => relaxedLoops(site, scope, loops);
    place = (staged) => replaceLoop(p.body, atName, (l) => withLoop(l, { body: staged(l.body) }));
  }
  const accesses = loadsOf(region, buffer);
  const spanned = inner(unionLoops(accesses.map((a) => a.loops)));
  const fp = footprint(accesses.map((a) => a.indices), spanned, decl.shape);
  const shape = packing.shape(fp.extent);
  // A pack before the nest is a copy of the whole buffer, as large as the buffer the workload already holds: only its padding is bounded.
  const own = decl.shape.reduce((a, b) => a * b, 1);
  checkSize(prim, atName ?? buffer, shape, atName === undefined ? { ...ctx, maxCacheElements: Math.max(ctx.maxCacheElements, 2 * own) } : ctx);
  const vector = enclosing.find((l) => l.loopKind === 'vectorized');
  if (vector && shape.some((e) => e > 1)) throw new ScheduleError(prim, [vector.var], `${vector.var} is vectorized: the copy's loops would sit inside a vector`, 'place it outside the vectorized loop');
  // transform
  const name = freshName(p, `${buffer}.${packing.suffix}`);
  const local = bufferDecl(name, shape, decl.dtype, scope, 'temp');
  const byIndex = new Map(accesses.map((a, i) => [canonical(a.indices), packing.index(fp.local[i]!, spanned)] as const));
  const ranges = loopRanges(enclosing);
  const sync = scope === 'workgroup' ? [barrier] : [];
  return withBody(p, place((r) => {
    // The copy zero-fills positions outside the input, so a padding guard whose only job was to
    // keep this load in bounds, around a product that has the load as a factor, is now redundant:
    // dropping it lets the compute vectorize. (A guard with another fallback, like max-pooling's
    // lowest value, stays.)
    const unguarded = mapStmtExprs(withoutImpliedSelects(r), (e) => mapExpr(e, (x) => (x.kind === 'select' ? withoutPaddingGuard(x, buffer, decl.shape, fp.whole) : x)));
    const body = mapStmtExprs(unguarded, (e) =>
      mapExpr(e, (x) => (x.kind === 'load' && x.buffer === buffer ? load(name, byIndex.get(canonical(x.indices))!) : x)));
    const copy = boxNest(name, name, 'copy', shape, scope, (t) => {
      const at = packing.position(t);
      const g = fp.origin.map((o, d) => plus(o, at[d]!));
      boxRanges(name, shape, scope).forEach(([v, rg]) => ranges.set(v, rg));
      const cond = inBounds(g, decl.shape, ranges);
      const v = load(buffer, g);
      return store(name, t, cond ? { kind: 'select', cond, then: v, else: f32(0) } : v);
    }, packing.copyOrder?.(shape.length));
    return alloc(local, seq([copy, ...sync, body, ...sync]));
  }));
}

/** The ranges of the loop variables `boxNest` makes. */
function boxRanges(prefix: string, extent: readonly number[], scope: Scope): [string, readonly [number, number]][] {
  if (scope === 'workgroup') return [[`${prefix}.c`, [0, extent.reduce((a, b) => a * b, 1) - 1]]];
  return extent.map((e, d) => [`${prefix}.${d}`, [0, e - 1]]);
}

/**
 * True when the loops index the box densely: each loop variable appears in one dimension, and per
 * dimension the coefficients are the strides of a mixed-radix number (1, e0, e0*e1, ...).
 */
function denseBox(indices: readonly Expr[], loops: readonly ForStmt[]): boolean {
  const vars = new Set(loops.map((l) => l.var));
  const ext = new Map(loops.map((l) => [l.var, l.extent]));
  const seen = new Set<string>();
  for (const idx of indices) {
    const f = affineIn(idx, vars);
    if (!f) return false;
    const terms = [...f.coefs].sort((a, b) => a[1] - b[1]);
    let stride = 1;
    for (const [v, c] of terms) {
      if (c !== stride || seen.has(v)) return false;
      seen.add(v);
      stride *= ext.get(v)!;
    }
  }
  return true;
}

/**
 * True when an `if` between the top of `body` and the store may skip an element of the tile. A
 * tail guard that only says "this index is inside the output" skips nothing the write-back's own
 * bounds check would keep, so it does not count.
 */
function guardedStore(body: Stmt, target: Extract<Stmt, { kind: 'store' }>, shape: readonly number[]): boolean {
  const isBound = boundsOf(target.indices, shape);
  const implied = (c: Expr) => conjuncts(c).every(isBound);
  let found = false;
  const walk = (s: Stmt, guarded: boolean): void => {
    if (s === target) found ||= guarded;
    else if (s.kind === 'if') walk(s.then, guarded || !implied(s.cond));
    else if (s.kind === 'for' || s.kind === 'alloc') walk(s.body, guarded);
    else if (s.kind === 'seq') s.body.forEach((x) => walk(x, guarded));
  };
  walk(body, false);
  return found;
}

/** Factors of a product tree. */
function factors(e: Expr): Expr[] {
  return e.kind === 'binary' && e.op === 'mul' ? [...factors(e.a), ...factors(e.b)] : [e];
}

/**
 * `select(cond, ... * buffer[idx] * ..., 0)` without the conjuncts of `cond` that only keep that
 * load in bounds (`idx_d >= 0`, or `num >= 0` where idx_d = num / k, and `idx_d < shape_d`), which
 * the zero-filled copy makes redundant: where one fails the load reads a zero. Other conjuncts (a
 * transposed conv's stride test `num % k == 0`) stay. Unchanged when no conjunct is a bound.
 */
function withoutPaddingGuard(x: Extract<Expr, { kind: 'select' }>, buffer: string, shape: readonly number[], whole: readonly boolean[]): Expr {
  if (x.else.kind !== 'const' || x.else.value !== 0) return x;
  const loads = factors(x.then).filter((f): f is Extract<Expr, { kind: 'load' }> => f.kind === 'load' && f.buffer === buffer);
  const all = conjuncts(x.cond);
  let best: Expr[] | undefined;
  for (const ld of loads) {
    const idx = ld.indices.map((i) => canonical(i));
    // floor(num / k) >= 0 exactly when num >= 0 (k > 0).
    const numerators = ld.indices.map((i) => (i.kind === 'binary' && i.op === 'div' && i.b.kind === 'const' && i.b.value > 0 ? canonical(i.a) : undefined));
    const bound = (c: Expr): boolean => {
      if (c.kind !== 'cmp' || c.b.kind !== 'const') return false;
      const a = canonical(c.a);
      const d = idx.indexOf(a);
      // Only a boxed dimension holds the padding positions; a dimension kept whole does not.
      if (d >= 0 && !whole[d] && ((c.op === 'ge' && c.b.value <= 0) || (c.op === 'lt' && c.b.value >= shape[d]!))) return true;
      const n = numerators.indexOf(a);
      return n >= 0 && !whole[n] && c.op === 'ge' && c.b.value === 0;
    };
    const rest = all.filter((c) => !bound(c));
    if (!best || rest.length < best.length) best = rest;
  }
  if (!best || best.length === all.length) return x;
  return best.length ? select(allOf(best)!, x.then, x.else) : x.then;
}

/** Top-level statements of the program. */
function tops(p: Program): readonly Stmt[] {
  return p.body.kind === 'seq' ? p.body.body : [p.body];
}

function onlyStore(s: Stmt): Extract<Stmt, { kind: 'store' }> | undefined {
  const stores: Extract<Stmt, { kind: 'store' }>[] = [];
  walkStmt(s, (x) => {
    if (x.kind === 'store') stores.push(x);
  });
  return stores.length === 1 ? stores[0] : undefined;
}

/**
 * An epilogue nest that can move into the write-back: a perfect nest whose one store writes the
 * buffer element its loops name, from a value that reads that buffer only at the same element.
 */
function fusableEpilogue(nest: Stmt, buffer: BufferDecl): { vars: string[]; value: Expr } | undefined {
  const st = onlyStore(nest);
  if (!st || st.buffer !== buffer.name || st.accum !== 'assign') return undefined;
  const loops = collectLoops(nest);
  if (loops.some((l) => l.loopKind !== 'serial')) return undefined;
  if (!st.indices.every((e, d) => e.kind === 'var' && loops[d]?.var === e.name && loops[d]!.extent === buffer.shape[d])) return undefined;
  if (loops.length !== buffer.shape.length) return undefined;
  const own = canonical(st.indices);
  let selfRead = false, otherRead = false;
  forEachExpr(st.value, (x) => {
    if (x.kind === 'load' && x.buffer === buffer.name) (canonical(x.indices) === own ? (selfRead = true) : (otherRead = true));
  });
  if (!selfRead || otherRead) return undefined;
  return { vars: st.indices.map((e) => (e as { name: string }).name), value: st.value };
}

/**
 * Iterations of a parallel or GPU-bound loop around the cache run at once, each with its own tile
 * and its own write-back: the tiles must not overlap, or the write-backs race (the fuzzer found two
 * invocations adding into one element with a tile kept whole because its index was `(i * 3 + t) % 3`).
 */
function checkDisjoint(prim: string, around: readonly ForStmt[], fp: Footprint): void {
  const ranges = new Map(around.map((l) => [l.var, l.extent] as const));
  for (const l of around) {
    if (!(l.loopKind === 'parallel' || isGpuAxis(l.loopKind)) || !tilesOverlap(l, fp, ranges)) continue;
    throw new ScheduleError(prim, [l.var], `the tiles of the iterations of ${l.loopKind} loop ${l.var} overlap (${fp.extent.join('x')} elements each${fp.whole.some(Boolean) ? ', some dimensions kept whole because their index is not affine in the loops inside' : ''}), so their write-backs would race`, `place the cache inside a loop whose tile moves with ${l.var}, or where the output is indexed affinely`);
  }
}

/** Accumulate the output tile computed inside `at` in a scratch buffer and write it back once. */
export function cacheWrite(p: Program, buffer: string, scope: Scope, atName: string, ctx: ScheduleContext, order?: readonly number[]): Program {
  const prim = `cacheWrite(${buffer}, ${scope}, ${atName}${order ? `, order [${order.join(', ')}]` : ''})`;
  const decl = p.buffers.find((b) => b.name === buffer);
  const outputs = p.buffers.filter((b) => b.role === 'output').map((b) => b.name);
  if (!decl || decl.role !== 'output') throw new ScheduleError(prim, [], `${buffer} is not an output of this kernel`, `outputs: ${outputs.join(', ')}`);
  const rank = decl.shape.length, identity = decl.shape.map((_, d) => d);
  if (order && (order.length !== rank || identity.some((d) => !order.includes(d)))) {
    throw new ScheduleError(prim, [], `order [${order.join(', ')}] is not a permutation of ${buffer}'s ${rank} dimensions`, `a permutation of ${identity.join(', ')} (the last one is the register tile's vector)`);
  }
  const perm = order ?? identity;
  const site = findLoop(p, atName, prim);
  const stores: { st: Extract<Stmt, { kind: 'store' }>; loops: readonly ForStmt[] }[] = [];
  walkStmt(site.loop.body, (s, loops) => {
    if (s.kind === 'store' && s.buffer === buffer) stores.push({ st: s, loops });
  });
  const isUpdate = (s: Stmt) => s.kind === 'store' && s.buffer === buffer && s.accum !== 'assign';
  const hasReduction = collectLoops(p.body).some((l) => l.axis === 'reduce');
  const legal = () => {
    const ok = loopsEnclosing(p, (s) => (hasReduction ? isUpdate(s) : s.kind === 'store' && s.buffer === buffer));
    const fine = ok.filter((n) => {
      const st = findLoop(p, n, prim);
      return st.loop.axis === 'spatial' && !st.enclosing.some((l) => l.axis === 'reduce');
    });
    return `legal positions: ${fine.join(', ') || 'none'}`;
  };
  if (stores.length === 0) throw new ScheduleError(prim, [atName], `nothing inside ${atName} writes ${buffer}: the cache would sit outside its producer`, legal());
  if (stores.length > 1) throw new ScheduleError(prim, [atName], `${stores.length} stores to ${buffer} inside ${atName}`, 'place the cache inside one nest');
  const { st, loops } = stores[0]!;
  if (hasReduction && st.accum === 'assign') throw new ScheduleError(prim, [atName], `${atName} is not in the nest that reduces into ${buffer}`, legal());
  const threads = site.enclosing.find((l) => l.loopKind.startsWith('thread'));
  if (scope === 'workgroup' && threads) {
    throw new ScheduleError(prim, [atName, threads.var], `${atName} is inside thread loop ${threads.var}; a workgroup accumulator there would be written back by every invocation`, 'place it outside the thread loops, or use scope local inside them');
  }
  // The write-back may assign finished values only when the tile is exactly what the loops
  // inside `at` computed, completely: no reduction loop outside, a dense box (no holes left by a
  // reorder or a fuse), no guard that skips some of its elements. Otherwise each visit holds a
  // partial result and the write-back accumulates into the output (BLAS's C += A_panel * B_panel),
  // which is sound for any box because untouched elements add the identity. The write-back of an
  // inner partial cache adds such identities over its whole box, which may reach past what this
  // visit computes: its sums are partial too.
  const partial = [...site.enclosing, site.loop].some((l) => l.axis === 'reduce') || !denseBox(st.indices, loops) || guardedStore(site.loop.body, st, decl.shape)
    || [...site.enclosing, site.loop, ...loops].some((l) => writeBackOf(l) !== undefined);
  if (partial && st.accum === 'assign') {
    throw new ScheduleError(prim, [atName], `the tile of ${buffer} inside ${atName} is not a dense, unguarded box, and ${buffer} is not a reduction that could accumulate partial tiles`, 'place the cache where the inner loops index the output directly');
  }
  if (loadsOf(site.loop.body, buffer).length) throw new ScheduleError(prim, [atName], `${buffer} is also read inside ${atName}`, 'cache a buffer that the nest only accumulates into');
  checkPlacement(prim, site, scope, 'accumulator');
  const sharedBy = collectLoops(site.loop.body).find((l) => l.loopKind === 'parallel');
  if (sharedBy) throw new ScheduleError(prim, [atName, sharedBy.var], `parallel loop ${sharedBy.var} inside ${atName} would share the accumulator`, 'place the cache inside the parallel loop');
  const fp = footprint([st.indices], relaxedLoops(site, scope, loops), decl.shape);
  checkSize(prim, atName, fp.extent, ctx);
  checkDisjoint(prim, [...site.enclosing, site.loop], fp);
  // transform
  const name = freshName(p, `${buffer}.${scope === 'local' ? 'local' : 'shared'}`);
  // The tile's dimensions in `order`: the last one is what a register tile vectorizes.
  const tileShape = perm.map((d) => fp.extent[d]!);
  const unpermute = (t: readonly Expr[]) => identity.map((d) => t[perm.indexOf(d)]!);
  const local = bufferDecl(name, tileShape, decl.dtype, scope, 'temp');
  const localIdx = perm.map((d) => fp.local[0]![d]!);
  const redirected = mapStmt(site.loop.body, (s) => (s === st || (s.kind === 'store' && s.buffer === buffer) ? store(name, localIdx, s.kind === 'store' ? s.value : f32(0), st.accum) : s));
  const body = withoutTailGuards(redirected, { tile: local, outputIndex: st.indices, outputShape: decl.shape, around: [...site.enclosing, site.loop], buffers: allBuffers(p) });
  const init = st.accum === 'assign' ? [] : [boxNest(`${name}.i`, name, 'init', tileShape, scope, (t) => store(name, t, reductionIdentity(st.accum as 'sum', decl.dtype)))];
  const top = tops(p);
  const nestIndex = top.findIndex((t) => collectLoops(t).some((l) => l.var === atName));
  const epi = partial ? undefined : top.slice(nestIndex + 1).map((t, i) => ({ i: i + nestIndex + 1, f: fusableEpilogue(t, decl) })).find((x) => x.f);
  const ranges = loopRanges([...site.enclosing, site.loop]);
  const writeBack = boxNest(`${name}.w`, name, 'writeBack', tileShape, scope, (t) => {
    const pos = unpermute(t);
    const g = fp.origin.map((o, d) => plus(o, pos[d]!));
    boxRanges(`${name}.w`, tileShape, scope).forEach(([v, r]) => ranges.set(v, r));
    const acc = load(name, t);
    const value = epi
      ? substitute(mapExpr(epi.f!.value, (x) => (x.kind === 'load' && x.buffer === buffer ? acc : x)), new Map(epi.f!.vars.map((v, d) => [v, g[d]!])))
      : acc;
    const cond = inBounds(g, decl.shape, ranges);
    const out = store(buffer, g, value, partial ? st.accum : 'assign');
    return cond ? ifThen(cond, out) : out;
  });
  const sync = scope === 'workgroup' ? [barrier] : [];
  const staged = alloc(local, seq([...init, ...sync, body, ...sync, writeBack]));
  let next = replaceLoop(p.body, atName, (l) => withLoop(l, { body: staged }));
  // The write-back now assigns every element once, complete: the separate initialisation and,
  // when it moved into the write-back, the epilogue nest are dead.
  const newTops = next.kind === 'seq' ? next.body : [next];
  const dead = new Set<number>();
  if (st.accum !== 'assign' && !partial) {
    newTops.forEach((t, i) => {
      const only = onlyStore(t);
      if (i !== nestIndex && only && only.buffer === buffer && only.accum === 'assign' && only.value.kind === 'const' && i < nestIndex) dead.add(i);
    });
  }
  if (epi) dead.add(epi.i);
  if (dead.size) next = seq(newTops.filter((_, i) => !dead.has(i)));
  return withBody(p, next);
}

// --- trace steps ---

const SCOPES = ['local', 'workgroup'] as const satisfies readonly Scope[];

export interface CacheReadStep {
  readonly prim: 'cacheRead';
  readonly buffer: string;
  readonly scope: Scope;
  readonly at: string;
}

export interface CacheWriteStep {
  readonly prim: 'cacheWrite';
  readonly buffer: string;
  readonly scope: Scope;
  readonly at: string;
  /** The tile's dimensions in this order (absent: the output's); the last is a register tile's vector. */
  readonly order?: readonly number[];
}

export const CACHE_READ: PrimitiveDef<CacheReadStep, [buffer: string, scope: Scope, at: string]> = {
  prim: 'cacheRead',
  schema: stepFields('cacheRead', { buffer: FIELD.buffer, scope: z.enum(SCOPES), at: FIELD.loop }),
  step: (buffer, scope, at) => ({ prim: 'cacheRead', buffer, scope, at }),
  args: (s) => [s.buffer, s.scope, s.at],
  apply: (p, s, ctx) => cacheRead(p, s.buffer, s.scope, s.at, ctx),
};

export const CACHE_WRITE: PrimitiveDef<CacheWriteStep, [buffer: string, scope: Scope, at: string, order?: number[]]> = {
  prim: 'cacheWrite',
  schema: stepFields('cacheWrite', { buffer: FIELD.buffer, scope: z.enum(SCOPES), at: FIELD.loop, order: FIELD.ints.optional() })
    .transform((s) => CACHE_WRITE.step(s.buffer, s.scope, s.at, s.order)),
  step: (buffer, scope, at, order) => ({ prim: 'cacheWrite', buffer, scope, at, ...(order ? { order: [...order] } : {}) }),
  args: (s) => (s.order ? [s.buffer, s.scope, s.at, [...s.order]] : [s.buffer, s.scope, s.at]),
  apply: (p, s, ctx) => cacheWrite(p, s.buffer, s.scope, s.at, ctx, s.order),
};
