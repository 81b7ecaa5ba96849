import { Expr } from './expr.js';
import { ForStmt } from './loop.js';

/** Closed integer range [lo, hi]. */
export type Interval = readonly [number, number];

export function loopRanges(loops: readonly ForStmt[]): Map<string, Interval> {
  return new Map(loops.map((l) => [l.var, [0, l.extent - 1] as const]));
}

/**
 * Bounds of an integer expression when each variable ranges over its interval; undefined when the
 * expression is not integer arithmetic this analysis understands. Used to prove guards redundant.
 */
export function bounds(e: Expr, ranges: ReadonlyMap<string, Interval>): Interval | undefined {
  switch (e.kind) {
    case 'const':
      return Number.isInteger(e.value) ? [e.value, e.value] : undefined;
    case 'var':
      return ranges.get(e.name);
    case 'binary': {
      const a = bounds(e.a, ranges), b = bounds(e.b, ranges);
      if (!a || !b) return undefined;
      switch (e.op) {
        case 'add': return [a[0] + b[0], a[1] + b[1]];
        case 'sub': return [a[0] - b[1], a[1] - b[0]];
        case 'mul': {
          const c = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]];
          return [Math.min(...c), Math.max(...c)];
        }
        case 'div':
          if (b[0] !== b[1] || b[0] <= 0) return undefined;
          return [Math.floor(a[0] / b[0]), Math.floor(a[1] / b[0])];
        case 'mod':
          if (b[0] !== b[1] || b[0] <= 0) return undefined;
          if (a[0] >= 0 && a[1] < b[0]) return a;
          return [0, b[0] - 1];
        case 'min': return [Math.min(a[0], b[0]), Math.min(a[1], b[1])];
        case 'max': return [Math.max(a[0], b[0]), Math.max(a[1], b[1])];
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** True when `0 <= e < n` holds for every value of the variables. */
export function provablyWithin(e: Expr, n: number, ranges: ReadonlyMap<string, Interval>): boolean {
  const b = bounds(e, ranges);
  return b !== undefined && b[0] >= 0 && b[1] < n;
}
