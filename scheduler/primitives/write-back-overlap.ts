import { Expr, freeVars, int, substitute } from '../../ir/expr.js';
import { ForStmt, Stmt, walkStmt } from '../../ir/loop.js';

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
    const box = loops.filter((x) => x.role?.kind === 'cacheBox' && x.role.stage === 'writeBack');
    const buffer = box[0]?.role?.kind === 'cacheBox' ? box[0].role.buffer : undefined;
    if (!buffer || s.buffer === buffer) return;
    const boxVars = new Map(box.map((x) => [x.var, int(0)] as const));
    // Per output dimension, the box loop its index runs over (the tile's dimensions may be permuted: cacheWrite's order).
    const extent = s.indices.map((e) => {
      const vars = new Set(freeVars(e));
      return box.find((x) => vars.has(x.var))?.extent ?? 1;
    });
    const ranges = new Map(loops.filter((x) => !boxVars.has(x.var)).map((x) => [x.var, x.extent] as const));
    // The origin: the stored index with the box loops at their first iteration.
    const origin = s.indices.map((e) => substitute(e, boxVars));
    if (tilesOverlap(l, { origin, extent }, ranges)) found = buffer;
  });
  return found;
}

