import { z } from '../../ir/schema.js';
import { Expr, add, f32, int, lt, mapExpr, mul, select, substitute, usesVar, variable } from '../../ir/expr.js';
import { BufferDecl, Stmt, forLoop, ifThen, mapStmt, mapStmtExprs, store } from '../../ir/loop.js';
import { Program, allBuffers, withBody } from '../../ir/program.js';
import { checkSplitDepth } from '../code-limits.js';
import { ScheduleError } from '../errors.js';
import { findLoop, freshName, replaceLoop } from '../locate.js';
import { FIELD, PrimitiveDef, stepFields } from '../primitive.js';

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Names of the loops a split of `v` into `n` levels creates, outermost first. */
export function splitNames(v: string, levels: number): string[] {
  return Array.from({ length: levels }, (_, i) => `${v}.${i}`);
}

function mentionsAny(e: Expr, vars: readonly string[]): boolean {
  return vars.some((v) => usesVar(e, v));
}

/**
 * Guards for a split whose factors do not divide the extent. `guard` wraps every statement under
 * the loop; `pad` guards only global loads (reading 0) and global stores, so arithmetic on scratch
 * runs at the padded width: sound only on spatial axes and before any cache under the loop.
 */
function guardBody(body: Stmt, cond: Expr, newVars: readonly string[], tail: TailStrategy, bufs: ReadonlyMap<string, BufferDecl>): Stmt {
  if (tail === 'guard') return mapStmt(body, (s) => (s.kind === 'store' ? ifThen(cond, s) : s));
  const isGlobal = (name: string) => bufs.get(name)?.scope === 'global';
  const guardLoads = (e: Expr) =>
    mapExpr(e, (x) => (x.kind === 'load' && isGlobal(x.buffer) && x.indices.some((i) => mentionsAny(i, newVars)) ? select(cond, x, f32(0)) : x));
  return mapStmt(body, (s) => {
    if (s.kind !== 'store') return s;
    const guarded = store(s.buffer, s.indices, guardLoads(s.value), s.accum);
    return isGlobal(s.buffer) && s.indices.some((i) => mentionsAny(i, newVars)) ? ifThen(cond, guarded) : guarded;
  });
}

function scratchUses(body: Stmt, newVars: readonly string[], bufs: ReadonlyMap<string, BufferDecl>): string | undefined {
  let hit: string | undefined;
  mapStmtExprs(body, (e) => {
    mapExpr(e, (x) => {
      if (x.kind === 'load' && bufs.get(x.buffer)?.scope !== 'global' && x.indices.some((i) => mentionsAny(i, newVars))) hit = x.buffer;
      return x;
    });
    return e;
  });
  mapStmt(body, (s) => {
    if (s.kind === 'store' && bufs.get(s.buffer)?.scope !== 'global' && s.indices.some((i) => mentionsAny(i, newVars))) hit = s.buffer;
    return s;
  });
  return hit;
}

export function split(p: Program, loopName: string, factors: readonly number[], tail: TailStrategy): Program {
  const shown = factors.length > 8 ? `${factors.slice(0, 8).join(', ')}, ... (${factors.length})` : factors.join(', ');
  const prim = `split(${loopName}, [${shown}], ${tail})`;
  const site = findLoop(p, loopName, prim), { loop } = site;
  // check
  if (factors.length === 0) throw new ScheduleError(prim, [loopName], 'no factors given', 'give one inner factor per extra level, e.g. [8] or [4, 8]');
  const bad = factors.find((f) => !Number.isInteger(f) || f < 1);
  if (bad !== undefined) throw new ScheduleError(prim, [loopName], `factor ${bad} is not a positive integer`, `factors must be integers between 1 and the extent ${loop.extent}`);
  const inner = product(factors);
  checkSplitDepth(prim, site, factors.length, loop.extent % inner !== 0 && tail !== 'requireDivisible');
  if (inner > loop.extent) {
    throw new ScheduleError(prim, [loopName], `factors multiply to ${inner}, more than the extent ${loop.extent} of ${loopName}`, `their product must be at most ${loop.extent}`);
  }
  if (loop.loopKind !== 'serial') {
    throw new ScheduleError(prim, [loopName], `${loopName} is already ${loop.loopKind}`, 'split loops before annotating them (vectorize, unroll, parallel, bind)');
  }
  const divisible = loop.extent % inner === 0;
  if (!divisible && tail === 'requireDivisible') {
    const divs = divisorsUpTo(loop.extent, loop.extent).filter((d) => d > 1 && d < loop.extent);
    throw new ScheduleError(prim, [loopName], `${inner} does not divide the extent ${loop.extent} of ${loopName}`, `use factors whose product divides ${loop.extent} (${divs.slice(0, 12).join(', ') || 'none'}), or tail 'guard'`);
  }
  if (!divisible && tail === 'pad' && loop.axis === 'reduce') {
    throw new ScheduleError(prim, [loopName], `padding reduction loop ${loopName} would feed padded terms into the reduction`, "use tail 'guard' or a factor that divides the extent");
  }
  const names = splitNames(loopName, factors.length + 1).map((n) => {
    const fresh = freshName(p, n);
    if (fresh !== n) throw new ScheduleError(prim, [loopName, n], `the name ${n} is taken`, 'rename by splitting a different loop');
    return n;
  });
  const bufs = allBuffers(p);
  if (!divisible && tail === 'pad') {
    const scratch = scratchUses(loop.body, [loopName], bufs);
    if (scratch) throw new ScheduleError(prim, [loopName], `padding ${loopName} would index scratch buffer ${scratch} beyond its extent`, "split before cacheRead/cacheWrite, or use tail 'guard'");
  }
  // transform
  const extents = [Math.ceil(loop.extent / inner), ...factors];
  // i = i.0 * (f1 * f2 ...) + i.1 * (f2 ...) + ... + i.n, built left to right.
  let recon: Expr | undefined;
  names.forEach((n, lvl) => {
    const stride = product(extents.slice(lvl + 1));
    const term = stride === 1 ? variable(n) : mul(variable(n), int(stride));
    recon = recon ? add(recon, term) : term;
  });
  let body = mapStmtExprs(loop.body, (e) => substitute(e, new Map([[loopName, recon!]])));
  if (!divisible) body = guardBody(body, lt(recon!, int(loop.extent)), names, tail, bufs);
  const nest = names.reduceRight<Stmt>((b, n, lvl) => forLoop(n, extents[lvl]!, b, loop.axis, 'serial', { kind: 'split', parent: loopName, level: lvl, levels: names.length }), body);
  return withBody(p, replaceLoop(p.body, loopName, () => nest));
}

export function divisorsUpTo(n: number, limit: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= Math.min(n, limit); d++) if (n % d === 0) out.push(d);
  return out;
}

// --- trace step ---

/** What a split does with the iterations past the extent when its factors do not divide it. */
export type TailStrategy = 'guard' | 'requireDivisible' | 'pad';
export const TAIL_STRATEGIES = ['guard', 'requireDivisible', 'pad'] as const satisfies readonly TailStrategy[];

export interface SplitStep {
  readonly prim: 'split';
  readonly loop: string;
  readonly factors: readonly number[];
  readonly tail: TailStrategy;
}

export const SPLIT: PrimitiveDef<SplitStep, [loop: string, factors: readonly number[], tail?: TailStrategy]> = {
  prim: 'split',
  schema: stepFields('split', { loop: FIELD.loop, factors: FIELD.ints, tail: z.enum(TAIL_STRATEGIES) }),
  step: (loop, factors, tail = 'guard') => ({ prim: 'split', loop, factors, tail }),
  args: (s) => [s.loop, s.factors, s.tail],
  apply: (p, s) => split(p, s.loop, s.factors, s.tail),
  decision: { field: 'factors', get: (s) => s.factors, set: (s, v) => ({ ...s, factors: [...v] }) },
};
