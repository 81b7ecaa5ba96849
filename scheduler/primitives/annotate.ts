import { z } from '../../ir/schema.js';
import { usesVar } from '../../ir/expr.js';
import { ForStmt, GPU_AXES, GpuAxis, LoopKind, Stmt, collectLoops, walkStmt, withLoop } from '../../ir/loop.js';
import { Program, withBody } from '../../ir/program.js';
import { checkUnrolledSize } from '../code-limits.js';
import { ScheduleContext } from '../context.js';
import { ScheduleError } from '../errors.js';
import { overlappingWriteBack } from './write-back-overlap.js';
import { LoopSite, findLoop, hasLoopInside, replaceLoop } from '../locate.js';
import { FIELD, PrimitiveDef, stepFields } from '../primitive.js';
import { split } from './split.js';

function setKind(p: Program, site: LoopSite, kind: LoopKind): Program {
  return withBody(p, replaceLoop(p.body, site.loop.var, (l) => withLoop(l, { loopKind: kind })));
}

function requireSerial(prim: string, l: ForStmt): void {
  if (l.loopKind !== 'serial') throw new ScheduleError(prim, [l.var], `${l.var} is already ${l.loopKind}`, 'annotate each loop once');
}

/** Scratch buffers whose scope encloses the loop: one copy shared by all of its iterations. */
function enclosingAllocs(p: Program, name: string): { name: string; scope: string }[] {
  const out: { name: string; scope: string }[] = [];
  const walk = (s: Stmt, allocs: { name: string; scope: string }[]): boolean => {
    if (s.kind === 'for' && s.var === name) {
      out.push(...allocs);
      return true;
    }
    if (s.kind === 'alloc') return walk(s.body, [...allocs, { name: s.buffer.name, scope: s.buffer.scope }]);
    if (s.kind === 'for') return walk(s.body, allocs);
    if (s.kind === 'if') return walk(s.then, allocs);
    if (s.kind === 'seq') return s.body.some((x) => walk(x, allocs));
    return false;
  };
  walk(p.body, []);
  return out;
}

/** Enclosing scratch buffers that the loop writes: sharing those between iterations races. */
function writtenEnclosingAllocs(p: Program, l: ForStmt): { name: string; scope: string }[] {
  const written = new Set<string>();
  walkStmt(l.body, (s) => {
    if (s.kind === 'store') written.add(s.buffer);
  });
  return enclosingAllocs(p, l.var).filter((a) => written.has(a.name));
}

function storesUsing(l: ForStmt): { all: number; indexed: number } {
  let all = 0, indexed = 0;
  walkStmt(l.body, (s) => {
    if (s.kind !== 'store') return;
    all++;
    if (s.indices.some((i) => usesVar(i, l.var))) indexed++;
  });
  return { all, indexed };
}

export function vectorize(p: Program, name: string, ctx: ScheduleContext): Program {
  const prim = `vectorize(${name})`;
  const site = findLoop(p, name, prim);
  const l = site.loop;
  requireSerial(prim, l);
  if (hasLoopInside(l.body)) {
    const inner = collectLoops(l.body).map((x) => x.var);
    throw new ScheduleError(prim, [name, ...inner], `${name} is not innermost (it contains ${inner.join(', ')})`, `vectorize an innermost loop, or reorder ${name} inside`);
  }
  if (l.axis === 'reduce') {
    throw new ScheduleError(prim, [name], `${name} is a reduction loop: its lanes would race on one accumulator`, 'split the reduction and vectorize a spatial loop, or cacheWrite the output and vectorize a spatial loop of the tile');
  }
  const { all, indexed } = storesUsing(l);
  if (indexed < all) throw new ScheduleError(prim, [name], `a store inside ${name} does not depend on it, so every lane would write the same element`, 'vectorize a loop that indexes the stored element');
  if (l.extent > ctx.maxVectorLanes) {
    throw new ScheduleError(prim, [name], `extent ${l.extent} is more than ${ctx.maxVectorLanes} lanes`, `split ${name} by the vector width first and vectorize the inner loop`);
  }
  return setKind(p, site, 'vectorized');
}

export function unroll(p: Program, name: string, ctx: ScheduleContext, factor?: number): Program {
  const prim = factor === undefined ? `unroll(${name})` : `unroll(${name}, ${factor})`;
  const site = findLoop(p, name, prim);
  requireSerial(prim, site.loop);
  if (factor !== undefined) {
    if (!Number.isInteger(factor) || factor < 1) throw new ScheduleError(prim, [name], `factor ${factor} is not a positive integer`, `use a factor between 2 and ${site.loop.extent}`);
    if (factor < site.loop.extent) {
      const tail = site.loop.extent % factor === 0 ? 'requireDivisible' : 'guard';
      return unrollFully(split(p, name, [factor], tail), `${name}.1`, ctx, prim, name);
    }
  }
  return unrollFully(p, name, ctx, prim, name);
}

/** Unrolls `loop` fully; `prim` and `asked` (the loop the step named) are for messages. */
function unrollFully(p: Program, loop: string, ctx: ScheduleContext, prim: string, asked: string): Program {
  const site = findLoop(p, loop, prim);
  if (site.loop.extent > ctx.maxUnroll) {
    throw new ScheduleError(prim, [loop], `extent ${site.loop.extent} is more than ${ctx.maxUnroll} to unroll fully`, `unroll by a factor (e.g. unroll ${loop} 4) or split it first`);
  }
  const q = setKind(p, site, 'unrolled');
  // Unrolled loops multiply: the whole program's expanded size is what codegen must produce.
  checkUnrolledSize(q, loop, prim, asked);
  return q;
}

export function parallel(p: Program, name: string): Program {
  const prim = `parallel(${name})`;
  const site = findLoop(p, name, prim);
  const l = site.loop;
  requireSerial(prim, l);
  if (l.axis === 'reduce') throw new ScheduleError(prim, [name], `${name} is a reduction loop: threads would race on the accumulator`, 'parallelize a spatial loop');
  const outer = site.enclosing.find((x) => x.loopKind === 'parallel' || x.loopKind.includes('.'));
  if (outer) throw new ScheduleError(prim, [name, outer.var], `${name} is inside ${outer.loopKind} loop ${outer.var}`, 'one parallel loop per nest, outside the others');
  const inner = collectLoops(l.body).find((x) => x.loopKind === 'parallel');
  if (inner) throw new ScheduleError(prim, [name, inner.var], `${inner.var} inside ${name} is already parallel`, 'one parallel loop per nest');
  const shared = writtenEnclosingAllocs(p, l);
  if (shared.length) throw new ScheduleError(prim, [name], `scratch buffer ${shared[0]!.name} encloses ${name} and would be shared by its threads`, 'parallelize a loop outside the cache (its `at` loop or above)');
  const racing = overlappingWriteBack(l);
  if (racing) throw new ScheduleError(prim, [name], `the tiles that ${racing} writes back overlap between iterations of ${name}, so in parallel their write-backs would race`, 'parallelize a loop whose iterations write apart (the outer split loop of the output)');
  return parallelPacks(setKind(p, site, 'parallel'));
}

/**
 * The packs that run once before any loop (a padded input, weights packed before the nest) run
 * in parallel too, over their outermost loop longer than 1: each iteration copies its own
 * elements, so nothing races, and a serial copy in front of a parallel nest caps its scaling
 * (ResNet-18 conv2_x's padded input: 1.40x from 1 to 2 threads). Packs inside a loop are that
 * loop's threads' already.
 */
function parallelPacks(p: Program): Program {
  const names: string[] = [];
  walkStmt(p.body, (s, enclosing) => {
    if (s.kind !== 'for' || enclosing.length || s.role?.kind !== 'cacheBox' || s.role.stage !== 'copy') return;
    let l: ForStmt = s;
    while (l.extent === 1 && l.body.kind === 'for') l = l.body;
    if (l.extent > 1 && l.loopKind === 'serial') names.push(l.var);
  });
  return names.reduce((q, name) => withBody(q, replaceLoop(q.body, name, (l) => withLoop(l, { loopKind: 'parallel' }))), p);
}

/** The top-level nest (child of the program's sequence) that holds a loop. */
function topLevelNest(p: Program, name: string): Stmt {
  const tops = p.body.kind === 'seq' ? p.body.body : [p.body];
  return tops.find((t) => {
    let hit = false;
    walkStmt(t, (s) => {
      if (s.kind === 'for' && s.var === name) hit = true;
    });
    return hit;
  })!;
}

export function bind(p: Program, name: string, axis: GpuAxis): Program {
  const prim = `bind(${name}, ${axis})`;
  const site = findLoop(p, name, prim);
  const l = site.loop;
  requireSerial(prim, l);
  if (l.axis === 'reduce') throw new ScheduleError(prim, [name], `${name} is a reduction loop: invocations would race on the accumulator`, 'bind spatial loops; reduce inside each invocation');
  const taken = collectLoops(topLevelNest(p, name)).find((x) => x.loopKind === axis);
  if (taken) {
    const used = new Set(collectLoops(topLevelNest(p, name)).map((x) => x.loopKind));
    const free = (['workgroup.x', 'workgroup.y', 'workgroup.z', 'thread.x', 'thread.y', 'thread.z'] as const).filter((a) => !used.has(a));
    throw new ScheduleError(prim, [name, taken.var], `${axis} is already bound to ${taken.var} in this nest`, `free axes: ${free.join(', ') || 'none'}; fuse loops to bind more`);
  }
  const allocs = writtenEnclosingAllocs(p, l);
  const local = allocs.find((a) => a.scope === 'local');
  if (local) throw new ScheduleError(prim, [name], `register/local buffer ${local.name} encloses ${name}: each invocation would hold and write back the whole tile`, 'place cacheWrite/cacheRead with scope local inside the thread loops');
  let inner: string | undefined;
  walkStmt(l.body, (x) => {
    if (x.kind === 'alloc' && x.buffer.scope === 'workgroup') inner = x.buffer.name;
  });
  if (inner) throw new ScheduleError(prim, [name], `workgroup buffer ${inner} is inside ${name}; its tile was sized without this binding`, 'bind loops before cacheRead/cacheWrite with scope workgroup');
  const wg = allocs.find((a) => a.scope === 'workgroup');
  if (wg && axis.startsWith('workgroup')) throw new ScheduleError(prim, [name], `workgroup buffer ${wg.name} encloses ${name}`, 'bind workgroup axes outside workgroup caches');
  const racing = overlappingWriteBack(l);
  if (racing) throw new ScheduleError(prim, [name], `the tiles that ${racing} writes back overlap between iterations of ${name}, so bound to ${axis} their write-backs would race`, `bind a loop whose iterations write apart (the split loops of the output), or cache inside the loop you bind`);
  return setKind(p, site, axis);
}

// --- trace steps ---

export interface VectorizeStep {
  readonly prim: 'vectorize';
  readonly loop: string;
}

export const VECTORIZE: PrimitiveDef<VectorizeStep, [loop: string]> = {
  prim: 'vectorize',
  schema: stepFields('vectorize', { loop: FIELD.loop }),
  step: (loop) => ({ prim: 'vectorize', loop }),
  args: (s) => [s.loop],
  apply: (p, s, ctx) => vectorize(p, s.loop, ctx),
};

/** Without `factor` a full unroll; the trace then has no `factor` field at all. */
export interface UnrollStep {
  readonly prim: 'unroll';
  readonly loop: string;
  readonly factor?: number;
}

export const UNROLL: PrimitiveDef<UnrollStep, [loop: string, factor?: number]> = {
  prim: 'unroll',
  schema: stepFields('unroll', { loop: FIELD.loop, factor: FIELD.positiveInt.optional() }).transform((s) => UNROLL.step(s.loop, s.factor)),
  step: (loop, factor) => (factor === undefined ? { prim: 'unroll', loop } : { prim: 'unroll', loop, factor }),
  args: (s) => (s.factor === undefined ? [s.loop] : [s.loop, s.factor]),
  apply: (p, s, ctx) => unroll(p, s.loop, ctx, s.factor),
  decision: { field: 'factor', get: (s) => (s.factor === undefined ? undefined : [s.factor]), set: (s, v) => ({ ...s, factor: v[0]! }) },
};

export interface ParallelStep {
  readonly prim: 'parallel';
  readonly loop: string;
}

export const PARALLEL: PrimitiveDef<ParallelStep, [loop: string]> = {
  prim: 'parallel',
  schema: stepFields('parallel', { loop: FIELD.loop }),
  step: (loop) => ({ prim: 'parallel', loop }),
  args: (s) => [s.loop],
  apply: (p, s) => parallel(p, s.loop),
};

export interface BindStep {
  readonly prim: 'bind';
  readonly loop: string;
  readonly axis: GpuAxis;
}

export const BIND: PrimitiveDef<BindStep, [loop: string, axis: GpuAxis]> = {
  prim: 'bind',
  schema: stepFields('bind', { loop: FIELD.loop, axis: z.enum(GPU_AXES) }),
  step: (loop, axis) => ({ prim: 'bind', loop, axis }),
  args: (s) => [s.loop, s.axis],
  apply: (p, s) => bind(p, s.loop, s.axis),
};
