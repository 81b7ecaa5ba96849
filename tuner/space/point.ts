import { MainNest } from './nest.js';

/**
 * One point of the space: the decisions, not the IR. `factors[a]` are the inner factors of axis a
 * (level 1, 2, ...), whose product divides its extent; `order` is the loop order of the main nest
 * (the loops of the tiled nest); the rest are switches. A point becomes a trace with `toTrace`.
 * Points are stored in the records as this JSON, so the shape is part of the record format.
 */
export interface Point {
  readonly factors: Readonly<Record<string, readonly number[]>>;
  readonly order: readonly string[];
  readonly unroll: number;
  readonly vectorize: 0 | 1;
  readonly parallel: 0 | 1;
  /** 0: none; 1: just outside the register tile; 2: outside the reduction loops around it too (the whole reduction in registers). */
  readonly cacheWrite: 0 | 1 | 2;
  readonly cacheRead: Readonly<Record<string, 0 | 1>>;
  /**
   * CPU: inputs packed, blocked along the vector axis: 1 once before the nest, 2 per block of the
   * vector axis' outer loop (the pack then runs in that loop's threads and stays in cache). Absent
   * in points from before it existed: none.
   */
  readonly pack?: Readonly<Record<string, 0 | 1 | 2>>;
}

/** A point while the rules fill in their decisions. */
export type Draft = { -readonly [K in keyof Point]: Point[K] };

/** Unroll decisions count innermost loops; deeper unrolling multiplies code past what compiles well. */
export const MAX_UNROLL_DEPTH = 2;

/** Extents of each level of an axis under a point: level 0 is what the factors leave over. */
export function levelExtents(nest: MainNest, p: Point, axis: string): number[] {
  const f = p.factors[axis]!;
  return [nest.axis(axis).extent / f.reduce((x, y) => x * y, 1), ...f];
}

/** The extent of one loop of the tiled nest under a point. */
export function loopExtent(nest: MainNest, p: Point, loop: string): number {
  const t = nest.tiledLoop(loop);
  return levelExtents(nest, p, t.axis.name)[t.level]!;
}

type Json = Record<string, unknown>;
const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const isBit = (x: unknown): x is 0 | 1 => x === 0 || x === 1;
const isPosInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 1;
const isFactors = (x: unknown): x is Record<string, number[]> => isObj(x) && Object.values(x).every((f) => Array.isArray(f) && f.every(isPosInt));
const isNames = (x: unknown): x is string[] => Array.isArray(x) && x.every((n) => typeof n === 'string');
const isSwitches = (x: unknown): x is Record<string, 0 | 1> => isObj(x) && Object.values(x).every(isBit);

const isSettings = (x: unknown): x is Record<string, 0 | 1 | 2> => isObj(x) && Object.values(x).every((v) => v === 0 || v === 1 || v === 2);

/** The shape of a point read from JSON (which space it belongs to is the space's `contains`). */
export function parsePoint(raw: unknown): Point | { problem: string } {
  if (!isObj(raw)) return { problem: 'point is not an object' };
  const { factors, order, unroll, vectorize, parallel, cacheWrite, cacheRead, pack } = raw;
  if (!isFactors(factors)) return { problem: 'point.factors must map axes to lists of positive integers' };
  if (!isNames(order)) return { problem: 'point.order must be a list of loop names' };
  if (typeof unroll !== 'number' || !Number.isInteger(unroll) || unroll < 0) return { problem: 'point.unroll must be a non-negative integer' };
  if (!isBit(vectorize) || !isBit(parallel)) return { problem: 'point.vectorize and parallel must be 0 or 1' };
  if (cacheWrite !== 0 && cacheWrite !== 1 && cacheWrite !== 2) return { problem: 'point.cacheWrite must be 0, 1 or 2' };
  if (!isSwitches(cacheRead)) return { problem: 'point.cacheRead must map inputs to 0 or 1' };
  if (pack !== undefined && !isSettings(pack)) return { problem: 'point.pack must map inputs to 0, 1 or 2' };
  return { factors, order, unroll, vectorize, parallel, cacheWrite, cacheRead, ...(pack !== undefined ? { pack } : {}) };
}
