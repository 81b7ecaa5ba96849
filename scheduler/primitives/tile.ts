import { z } from '../../ir/schema.js';
import { Program } from '../../ir/program.js';
import { ScheduleError } from '../errors.js';
import { FIELD, PrimitiveDef, stepFields } from '../primitive.js';
import { reorder } from './reorder.js';
import { TAIL_STRATEGIES, TailStrategy, split } from './split.js';

/** Splits 2 or 3 nested loops by one factor each and orders all outer parts before all inner parts. */
export function tile(p: Program, loops: readonly string[], factors: readonly number[], tail: TailStrategy): Program {
  const prim = `tile(${loops.join(', ')})`;
  if (loops.length < 2 || loops.length > 3) throw new ScheduleError(prim, loops, `tile takes 2 or 3 loops, got ${loops.length}`, 'use split for one loop');
  if (factors.length !== loops.length) throw new ScheduleError(prim, loops, `${factors.length} factors for ${loops.length} loops`, 'give one factor per loop');
  const split2 = loops.reduce((q, l, i) => split(q, l, [factors[i]!], tail), p);
  return reorder(split2, [...loops.map((l) => `${l}.0`), ...loops.map((l) => `${l}.1`)]);
}

export interface TileStep {
  readonly prim: 'tile';
  readonly loops: readonly string[];
  readonly factors: readonly number[];
  readonly tail: TailStrategy;
}

export const TILE: PrimitiveDef<TileStep, [loops: readonly string[], factors: readonly number[], tail?: TailStrategy]> = {
  prim: 'tile',
  schema: stepFields('tile', { loops: FIELD.loops, factors: FIELD.ints, tail: z.enum(TAIL_STRATEGIES) }),
  step: (loops, factors, tail = 'guard') => ({ prim: 'tile', loops, factors, tail }),
  args: (s) => [s.loops, s.factors, s.tail],
  apply: (p, s) => tile(p, s.loops, s.factors, s.tail),
  decision: { field: 'factors', get: (s) => s.factors, set: (s, v) => ({ ...s, factors: [...v] }) },
};
