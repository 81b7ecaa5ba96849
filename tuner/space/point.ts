import { check, fields, nonNegativeInt, positiveInt, z } from '../../ir/schema.js';
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

const bit = z.union([z.literal(0), z.literal(1)], { error: 'must be 0 or 1' });
const setting = z.union([z.literal(0), z.literal(1), z.literal(2)], { error: 'must be 0, 1 or 2' });

/** A point as records store it (which space it belongs to is the space's `contains`). */
export const POINT_SCHEMA: z.ZodType<Point> = fields({
  factors: z.record(z.string(), z.array(positiveInt)),
  order: z.array(z.string()),
  unroll: nonNegativeInt,
  vectorize: bit,
  parallel: bit,
  cacheWrite: setting,
  cacheRead: z.record(z.string(), bit),
  // Absent in points from before packs existed: none.
  pack: z.record(z.string(), setting).optional(),
}).transform(({ pack, ...rest }) => (pack === undefined ? rest : { ...rest, pack }));

/** The shape of a point read from JSON, or what is wrong with it. */
export function parsePoint(raw: unknown): Point | { problem: string } {
  const r = check(POINT_SCHEMA, raw, 'point');
  return r.ok ? r.value : { problem: r.problem };
}
