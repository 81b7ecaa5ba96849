import { int, substitute } from '../ir/expr.js';
import { Stmt, isGpuAxis, mapStmt, mapStmtExprs } from '../ir/loop.js';
import { Program, withBody } from '../ir/program.js';

/**
 * Loops of extent 1 (a tiling level a schedule left at 1) become their body with the variable at 0,
 * so that an index over them is a constant: a register tile whose rows are named by such loops
 * and by unrolled ones is still a register tile. Loops bound to the GPU grid and cooperative
 * copies stay (they say how invocations are laid out), and so do parallel loops (the emitted code
 * shows the schedule's threads even where a small shape leaves one iteration).
 */
export function dropUnitLoops(p: Program): Program {
  const zero = (s: Stmt): Stmt => {
    if (s.kind !== 'for' || s.extent !== 1 || isGpuAxis(s.loopKind) || s.loopKind === 'cooperative' || s.loopKind === 'parallel') return s;
    const at0 = new Map([[s.var, int(0)]]);
    return mapStmtExprs(s.body, (e) => substitute(e, at0));
  };
  return withBody(p, mapStmt(p.body, zero));
}
