import { int, substitute, variable } from '../ir/expr.js';
import { Stmt, collectLoops, mapStmt, mapStmtExprs, seq, withLoop } from '../ir/loop.js';
import { Program, withBody } from '../ir/program.js';

/** Renames every loop inside `s` with a suffix, so that copies of a body keep loop names unique. */
function renameLoops(s: Stmt, suffix: string): Stmt {
  const names = collectLoops(s).map((l) => l.var);
  if (names.length === 0) return s;
  const map = new Map(names.map((n) => [n, variable(`${n}${suffix}`)]));
  const renamed = mapStmtExprs(s, (e) => substitute(e, map));
  return mapStmt(renamed, (x) => (x.kind === 'for' && map.has(x.var) ? withLoop(x, { var: `${x.var}${suffix}` }) : x));
}

/**
 * Unroll expansion: an `unrolled` loop becomes one copy of its body per iteration, with the loop
 * variable replaced by its value. Register tiles indexed by unrolled loops then have constant
 * indices, which is what lets a renderer keep them in registers.
 */
export function expandUnrolled(p: Program): Program {
  const body = mapStmt(p.body, (s) => {
    if (s.kind !== 'for' || s.loopKind !== 'unrolled') return s;
    const copies = Array.from({ length: s.extent }, (_, i) =>
      renameLoops(mapStmtExprs(s.body, (e) => substitute(e, new Map([[s.var, int(i)]]))), `~${s.var}=${i}`));
    return seq(copies);
  });
  return withBody(p, body);
}
