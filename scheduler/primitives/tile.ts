import { Program } from '../../ir/program.js';
import { ScheduleError } from '../errors.js';
import { TailStrategy } from '../trace.js';
import { reorder } from './reorder.js';
import { split } from './split.js';

/** Splits 2 or 3 nested loops by one factor each and orders all outer parts before all inner parts. */
export function tile(p: Program, loops: readonly string[], factors: readonly number[], tail: TailStrategy): Program {
  const prim = `tile(${loops.join(', ')})`;
  if (loops.length < 2 || loops.length > 3) throw new ScheduleError(prim, loops, `tile takes 2 or 3 loops, got ${loops.length}`, 'use split for one loop');
  if (factors.length !== loops.length) throw new ScheduleError(prim, loops, `${factors.length} factors for ${loops.length} loops`, 'give one factor per loop');
  const split2 = loops.reduce((q, l, i) => split(q, l, [factors[i]!], tail), p);
  return reorder(split2, [...loops.map((l) => `${l}.0`), ...loops.map((l) => `${l}.1`)]);
}
