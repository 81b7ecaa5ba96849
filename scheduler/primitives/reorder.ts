import { forEachExpr } from '../../ir/expr.js';
import { ForStmt, Stmt, walkStmt, withLoop } from '../../ir/loop.js';
import { Program, withBody } from '../../ir/program.js';
import { canonical } from '../../ir/hash.js';
import { ScheduleError } from '../errors.js';
import { LoopSite, findLoop, perfectChain, replaceLoop } from '../locate.js';
import { FIELD, PrimitiveDef, stepFields } from '../primitive.js';

/**
 * A store that reads its own buffer at other indices carries a dependence between iterations:
 * reordering the loops around it could change what it reads.
 */
function carriedDependence(body: Stmt): string | undefined {
  let found: string | undefined;
  walkStmt(body, (s) => {
    if (s.kind !== 'store') return;
    const own = canonical(s.indices);
    forEachExpr(s.value, (e) => {
      if (e.kind === 'load' && e.buffer === s.buffer && canonical(e.indices) !== own) found = s.buffer;
    });
  });
  return found;
}

/** Puts the named loops in the given order, in the positions they occupy in one perfect nest. */
export function reorder(p: Program, names: readonly string[]): Program {
  const prim = `reorder(${names.join(', ')})`;
  if (new Set(names).size !== names.length) throw new ScheduleError(prim, names, 'a loop is named twice', 'name each loop once');
  const sites: LoopSite[] = names.map((n) => findLoop(p, n, prim));
  const byDepth = [...sites].sort((a, b) => a.enclosing.length - b.enclosing.length);
  const outer = byDepth[0]!;
  const chain = perfectChain(outer.loop);
  const innermost = byDepth[byDepth.length - 1]!;
  const reach = chain.findIndex((l) => l.var === innermost.loop.var);
  const notOnChain = sites.filter((s) => !chain.slice(0, reach + 1).some((l) => l.var === s.loop.var));
  if (reach < 0 || notOnChain.length > 0) {
    const ok = chain.map((l) => l.var).join(', ');
    throw new ScheduleError(prim, names, `${(notOnChain[0] ?? innermost).loop.var} is not in the perfect nest below ${outer.loop.var}`,
      `loops that can be reordered with ${outer.loop.var}: ${ok} (reorder before cacheRead/cacheWrite splits a nest)`);
  }
  const dep = carriedDependence(outer.loop);
  if (dep) throw new ScheduleError(prim, names, `${dep} reads itself at other indices inside ${outer.loop.var}, a dependence the reorder could break`, 'keep these loops in program order');
  // transform
  const segment = chain.slice(0, reach + 1);
  const wanted = names.map((n) => segment.find((l) => l.var === n)!);
  let k = 0;
  const order: ForStmt[] = segment.map((l) => (names.includes(l.var) ? wanted[k++]! : l));
  const lanes = order.slice(0, -1).find((l) => l.loopKind === 'vectorized') ?? (chain.length > segment.length && order.some((l) => l.loopKind === 'vectorized') ? order.find((l) => l.loopKind === 'vectorized') : undefined);
  if (lanes) throw new ScheduleError(prim, names, `the new order puts loops inside vectorized loop ${lanes.var}`, 'reorder before vectorizing; a vectorized loop stays innermost');
  const innerBody = segment[segment.length - 1]!.body;
  const nest = order.reduceRight<Stmt>((b, l) => withLoop(l, { body: b }), innerBody);
  return withBody(p, replaceLoop(p.body, outer.loop.var, () => nest));
}

export interface ReorderStep {
  readonly prim: 'reorder';
  readonly loops: readonly string[];
}

export const REORDER: PrimitiveDef<ReorderStep, [loops: readonly string[]]> = {
  prim: 'reorder',
  schema: stepFields('reorder', { loops: FIELD.loops }),
  step: (loops) => ({ prim: 'reorder', loops }),
  args: (s) => [s.loops],
  apply: (p, s) => reorder(p, s.loops),
};
