import { Expr, forEachExpr } from '../ir/expr.js';
import { BufferDecl, ForStmt, Stmt, mapStmt, walkStmt, withLoop } from '../ir/loop.js';
import { Program, withBody } from '../ir/program.js';
import { registerTileShape } from '../scheduler/code-size.js';

function accessesOf(s: Stmt, name: string): (readonly Expr[])[] {
  const out: (readonly Expr[])[] = [];
  walkStmt(s, (x) => {
    if (x.kind === 'store' && x.buffer === name) out.push(x.indices);
    const exprs = x.kind === 'store' ? [...x.indices, x.value] : x.kind === 'if' ? [x.cond] : [];
    for (const e of exprs) forEachExpr(e, (y) => {
      if (y.kind === 'load' && y.buffer === name) out.push(y.indices);
    });
  });
  return out;
}

/**
 * The init and write-back dimension a loop of cacheWrite's runs over for tile `name`: this pass
 * unrolls those loops itself. (A cacheRead copy nest is not among them, so a packed input is only
 * promoted when its copy loops were unrolled by the schedule.)
 */
function boxDim(l: ForStmt, name: string): number | undefined {
  const r = l.role;
  return r?.kind === 'cacheBox' && r.buffer === name && r.stage !== 'copy' ? r.dim : undefined;
}

function containsLoop(loop: Stmt): boolean {
  let found = false;
  walkStmt(loop, (x) => {
    if (x !== loop && x.kind === 'for') found = true;
  });
  return found;
}

/**
 * Register promotion, part one (before unroll expansion): a small local tile whose accesses in the
 * compute are constant in every dimension but the last once unrolled loops are expanded, gets its
 * own initialisation and write-back loops unrolled too, with the last dimension vectorized. After
 * expansion every access names a fixed row, and the renderer gives each row its own variable.
 */
export function planRegisterTiles(p: Program): { program: Program; tiles: Set<string> } {
  const tiles = new Set<string>();
  let body = p.body;
  const candidates: BufferDecl[] = [];
  walkStmt(p.body, (s) => {
    if (s.kind === 'alloc' && s.buffer.scope === 'local') candidates.push(s.buffer);
  });
  for (const b of candidates) {
    // The scheduler's code-size count assumes the same shapes (scheduler/code-size.ts).
    if (!registerTileShape(b)) continue;
    // Loop variables that index the tile: every one but the last dimension's must be unrolled or a serial box loop.
    const unrolledOrBox = new Set<string>();
    const lastDim = b.shape.length - 1;
    let reshaped = false;
    walkStmt(body, (s) => {
      if (s.kind !== 'for') return;
      const dim = boxDim(s, b.name);
      // A box loop the schedule made parallel or bound to a GPU axis stays a loop: its rows are not constant.
      if (s.loopKind === 'unrolled' || (dim !== undefined && s.loopKind === 'serial')) unrolledOrBox.add(s.var);
      // A last-dimension box loop the schedule reordered outward (it now holds another loop)
      // cannot become one vector per row: the tile stays in memory.
      if (dim === lastDim && containsLoop(s)) reshaped = true;
    });
    if (reshaped) continue;
    const ok = accessesOf(body, b.name).every((idx) => idx.slice(0, -1).every((e) => {
      let fine = true;
      forEachExpr(e, (x) => {
        if (x.kind === 'var' && !unrolledOrBox.has(x.name)) fine = false;
      });
      return fine;
    }));
    if (!ok) continue;
    tiles.add(b.name);
    body = mapStmt(body, (s) => {
      if (s.kind !== 'for' || s.loopKind !== 'serial') return s;
      const d = boxDim(s, b.name);
      return d === undefined ? s : withLoop(s, { loopKind: d === lastDim ? 'vectorized' : 'unrolled' });
    });
  }
  return { program: withBody(p, body), tiles };
}
