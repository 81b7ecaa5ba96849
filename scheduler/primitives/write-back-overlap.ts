import { Expr, freeVars, int, substitute } from '../../ir/expr.js';
import { ForStmt, Stmt, walkStmt, writeBackOf } from '../../ir/loop.js';

/** Integer index arithmetic (floor division), as the IR means it; undefined for anything else. */
function evalIndex(e: Expr, env: ReadonlyMap<string, number>): number | undefined {
  switch (e.kind) {
    case 'const': return e.value;
    case 'var': return env.get(e.name);
    case 'binary': {
      const a = evalIndex(e.a, env), b = evalIndex(e.b, env);
      if (a === undefined || b === undefined) return undefined;
      switch (e.op) {
        case 'add': return a + b;
        case 'sub': return a - b;
        case 'mul': return a * b;
        case 'div': return b === 0 ? undefined : Math.floor(a / b);
        case 'mod': return b === 0 ? undefined : a - b * Math.floor(a / b);
        case 'min': return Math.min(a, b);
        case 'max': return Math.max(a, b);
      }
    }
    // eslint-disable-next-line no-fallthrough
    default: return undefined;
  }
}

/** A tile: where it starts in each dimension (expressions of the loops around it) and its extent there. */
export interface Tile {
  readonly origin: readonly Expr[];
  readonly extent: readonly number[];
}

/** Samples of the other variables: every one at 0, at its last value, and at a few values between. */
function environments(vars: readonly string[], ranges: ReadonlyMap<string, number>): Map<string, number>[] {
  const pick = (k: number) => new Map(vars.map((v, i) => {
    const n = ranges.get(v) ?? 1;
    return [v, k === 0 ? 0 : k === 1 ? n - 1 : (7919 * (i + 1) * k) % n] as const;
  }));
  return [0, 1, 2, 3].map(pick);
}

const MAX_ITERATIONS = 512;

/**
 * Do the tiles of different iterations of `l` overlap? Iterations of a parallel or GPU-bound loop
 * run at once, each writing its tile back: overlapping tiles race (two invocations adding into
 * one element lose an update). Decided by evaluating the origins for every iteration of `l` (the
 * first 512) at a few values of the other loops, which also covers the non-affine indices that
 * fusing makes (`f / 7`, `f % 7`). `ranges`: the extents of the other loops the origins use.
 */
export function tilesOverlap(l: ForStmt, tile: Tile, ranges: ReadonlyMap<string, number>): boolean {
  if (l.extent === 1) return false;
  const others = [...new Set(tile.origin.flatMap((o) => [...freeVars(o)]))].filter((v) => v !== l.var);
  const n = Math.min(l.extent, MAX_ITERATIONS);
  for (const env of environments(others, ranges)) {
    const boxes: number[][] = [];
    for (let i = 0; i < n; i++) {
      env.set(l.var, i);
      const o = tile.origin.map((e) => evalIndex(e, env));
      if (o.some((x) => x === undefined)) return true;
      boxes.push(o as number[]);
    }
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const apart = tile.extent.some((e, d) => Math.abs(boxes[i]![d]! - boxes[j]![d]!) >= e);
        if (!apart) return true;
      }
    }
  }
  return false;
}

/**
 * A cache's write-back inside `l` whose tiles for different iterations of `l` overlap (see
 * tilesOverlap): the scratch buffer's name, or undefined. The tile is what the write-back nest
 * stores: its indices with the box loops at 0, and the box loops' extents.
 */
export function overlappingWriteBack(l: ForStmt): string | undefined {
  let found: string | undefined;
  walkStmt(l.body, (s: Stmt, loops: readonly ForStmt[]) => {
    if (found || s.kind !== 'store') return;
    const box = loops.filter((x) => writeBackOf(x) !== undefined);
    const buffer = box[0] && writeBackOf(box[0]);
    if (!buffer || s.buffer === buffer) return;
    const boxVars = new Map(box.map((x) => [x.var, int(0)] as const));
    // Per output dimension, how far its index runs over the box loops: one box loop's extent (the
    // tile's dimensions may be permuted: cacheWrite's order), or else the span of the index over
    // them (a workgroup's flat loop, `origin + (flat / stride) % e`; nested write-backs).
    const extent = s.indices.map((e) => {
      const vars = new Set(freeVars(e));
      const inside = box.filter((x) => vars.has(x.var));
      if (inside.length === 0) return 1;
      if (inside.length === 1 && inside[0]!.role?.kind === 'cacheBox') return inside[0]!.extent;
      return spanOver(e, inside);
    });
    const ranges = new Map(loops.filter((x) => !boxVars.has(x.var)).map((x) => [x.var, x.extent] as const));
    // The origin: the stored index with the box loops at their first iteration.
    const origin = s.indices.map((e) => substitute(e, boxVars));
    if (tilesOverlap(l, { origin, extent }, ranges)) found = buffer;
  });
  return found;
}

/** max - min + 1 of index `e` over the box loops (the other variables at 0): the tile's extent in its dimension. */
function spanOver(e: Expr, box: readonly ForStmt[]): number {
  let lo = Infinity, hi = -Infinity;
  const visit = (i: number, env: Map<string, number>): void => {
    if (i === box.length) {
      const v = evalIndex(e, env);
      if (v === undefined) { lo = -Infinity; hi = Infinity; return; }
      lo = Math.min(lo, v); hi = Math.max(hi, v);
      return;
    }
    for (let k = 0; k < box[i]!.extent; k++) visit(i + 1, env.set(box[i]!.var, k));
  };
  const free = [...freeVars(e)].filter((v) => !box.some((x) => x.var === v));
  visit(0, new Map(free.map((v) => [v, 0] as const)));
  return Number.isFinite(hi - lo) ? hi - lo + 1 : Number.MAX_SAFE_INTEGER;
}
