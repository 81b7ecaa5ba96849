import { Expr, allOf, mapExpr } from '../../ir/expr.js';
import { canonical } from '../../ir/hash.js';
import { Interval, bounds, loopRanges } from '../../ir/interval.js';
import { BufferDecl, ForStmt, Stmt, ifThen, mapChildren, store } from '../../ir/loop.js';

/** The conjuncts of a condition, `a && b && c` as [a, b, c]. */
export function conjuncts(c: Expr): Expr[] {
  return c.kind === 'logic' && c.op === 'and' ? [...conjuncts(c.a), ...conjuncts(c.b)] : [c];
}

/**
 * True when conjunct `c` only says that index `idx` lies inside `shape` (`idx_d < shape_d`,
 * `idx_d >= 0`): a split's tail guard on an output element has this form.
 */
export function boundsOf(idx: readonly Expr[], shape: readonly number[]): (c: Expr) => boolean {
  const dims = idx.map((e) => canonical(e));
  return (c) => {
    if (c.kind !== 'cmp' || c.b.kind !== 'const') return false;
    const d = dims.indexOf(canonical(c.a));
    if (d < 0) return false;
    return (c.op === 'lt' && c.b.value >= shape[d]!) || (c.op === 'ge' && c.b.value <= 0);
  };
}

/**
 * `select(c, a, b)` as `a` wherever an enclosing `if` already holds every conjunct of `c`. A padded
 * split guards an element's loads and its store with the same test; once the store's `if` is known
 * to hold, the loads are plain factors again, which is what a layout's padding-guard removal needs.
 */
export function withoutImpliedSelects(s: Stmt, held: ReadonlySet<string> = new Set()): Stmt {
  if (s.kind === 'if') {
    const inner = new Set([...held, ...conjuncts(s.cond).map((c) => canonical(c))]);
    const t = withoutImpliedSelects(s.then, inner);
    return t === s.then ? s : ifThen(s.cond, t);
  }
  if (s.kind !== 'store') return mapChildren(s, (c) => withoutImpliedSelects(c, held));
  if (held.size === 0) return s;
  const drop = (e: Expr) => mapExpr(e, (x) => (x.kind === 'select' && conjuncts(x.cond).every((c) => held.has(canonical(c))) ? x.then : x));
  const idx = s.indices.map(drop), v = drop(s.value);
  return v === s.value && idx.every((e, i) => e === s.indices[i]) ? s : store(s.buffer, idx, v, s.accum);
}

/** True when every index stays inside `shape` over the loop ranges. */
function inside(indices: readonly Expr[], shape: readonly number[] | undefined, ranges: ReadonlyMap<string, Interval>): boolean {
  return !!shape && indices.every((i, d) => {
    const b = bounds(i, ranges);
    return !!b && b[0] >= 0 && b[1] < shape[d]!;
  });
}

/**
 * True when every load in `e` reads inside its buffer over the loop ranges, or sits in the taken
 * branch of a select that tests all of `dropped` (so it is not evaluated where they fail).
 */
function loadsSafe(e: Expr, dropped: readonly string[], ranges: ReadonlyMap<string, Interval>, bufs: ReadonlyMap<string, BufferDecl>, held: ReadonlySet<string> = new Set()): boolean {
  switch (e.kind) {
    case 'const':
    case 'var':
      return true;
    case 'load': {
      if (!e.indices.every((i) => loadsSafe(i, dropped, ranges, bufs, held))) return false;
      return dropped.every((c) => held.has(c)) || inside(e.indices, bufs.get(e.buffer)?.shape, ranges);
    }
    case 'select': {
      const inThen = new Set([...held, ...conjuncts(e.cond).map((c) => canonical(c))]);
      return loadsSafe(e.cond, dropped, ranges, bufs, held) && loadsSafe(e.then, dropped, ranges, bufs, inThen) && loadsSafe(e.else, dropped, ranges, bufs, held);
    }
    case 'binary':
    case 'cmp':
    case 'logic':
      return loadsSafe(e.a, dropped, ranges, bufs, held) && loadsSafe(e.b, dropped, ranges, bufs, held);
    case 'unary':
    case 'not':
    case 'cast':
      return loadsSafe(e.a, dropped, ranges, bufs, held);
  }
}

/** Where cacheWrite redirected an output's store into its tile: what the tail-guard removal needs to know. */
export interface Redirect {
  /** The scratch tile, and the output element its store stood for. */
  readonly tile: BufferDecl;
  readonly outputIndex: readonly Expr[];
  readonly outputShape: readonly number[];
  /** Loops around the region being rewritten. */
  readonly around: readonly ForStmt[];
  readonly buffers: ReadonlyMap<string, BufferDecl>;
}

/**
 * Drops, from the `if` around a store into the tile, the conjuncts that only keep the output
 * element inside the output (a padded split's tail guard). Past the output's edge the tile then
 * holds values nobody reads: the write-back keeps its own bounds test. Dropped only when the tile
 * position and every load of the value stay in bounds there, so a register tile's updates run
 * without a branch and a tail tile costs what a full one does.
 */
export function withoutTailGuards(s: Stmt, r: Redirect, loops: readonly ForStmt[] = []): Stmt {
  if (s.kind !== 'if') return mapChildren(s, (c) => withoutTailGuards(c, r, s.kind === 'for' ? [...loops, s] : loops));
  const t = withoutTailGuards(s.then, r, loops);
  const kept = t === s.then ? s : ifThen(s.cond, t);
  if (t.kind !== 'store' || t.buffer !== r.tile.name) return kept;
  const isBound = boundsOf(r.outputIndex, r.outputShape);
  const all = conjuncts(s.cond);
  const dropped = all.filter(isBound);
  if (dropped.length === 0) return kept;
  const ranges = loopRanges([...r.around, ...loops]);
  const names = dropped.map((c) => canonical(c));
  if (!inside(t.indices, r.tile.shape, ranges) || ![...t.indices, t.value].every((e) => loadsSafe(e, names, ranges, r.buffers))) return kept;
  const rest = allOf(all.filter((c) => !isBound(c)));
  return rest ? ifThen(rest, t) : t;
}
