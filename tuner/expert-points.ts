import { Workload } from '../ir/ops/index.js';
import { Step, Trace } from '../scheduler/trace.js';
import { Point, ScheduleSpace } from './space.js';

const splitOf = (t: Trace, loop: string) => t.steps.find((s): s is Extract<Step, { prim: 'split' }> => s.prim === 'split' && s.loop === loop);

/**
 * The point of the space that schedules what the channel-vectorized CPU conv2d expert schedules
 * (scheduler/expert.ts): a register tile of kb channels by owr columns holding the whole reduction,
 * weights packed per channel block, the input padded once. With it the search continues from the
 * expert instead of only measuring it: its neighbours are one decision away. Undefined for other
 * experts, or when the point would not schedule the same steps (a padded run, which the space's
 * exact splits cannot express).
 */
export function expertPoint(w: Workload, space: ScheduleSpace, expert: Trace): Point | undefined {
  if (w.op.name !== 'conv2d' || space.target.style !== 'cpu') return undefined;
  const k = splitOf(expert, 'k'), ow = splitOf(expert, 'ow');
  if (!k || !ow || k.factors.length !== 1 || ow.factors.length !== 1 || k.tail !== 'requireDivisible' || ow.tail !== 'requireDivisible') return undefined;
  const packsW = expert.steps.some((s) => s.prim === 'layout' && s.buffer === 'W' && s.at === 'k.0');
  const padsX = expert.steps.some((s) => s.prim === 'layout' && s.buffer === 'X' && s.at === undefined && !s.dims);
  if (!packsW) return undefined;
  const point: Point = {
    factors: { n: [1, 1], k: [1, k.factors[0]!], oh: [1, 1], ow: [1, ow.factors[0]!], rc: [1], rh: [1], rw: [1] },
    order: ['n.0', 'k.0', 'oh.0', 'ow.0', 'n.1', 'k.1', 'oh.1', 'ow.1', 'rc.0', 'rh.0', 'rw.0', 'rc.1', 'rh.1', 'rw.1', 'n.2', 'oh.2', 'ow.2', 'k.2'],
    unroll: 1, vectorize: 1, parallel: 1, cacheWrite: 2, cacheRead: { X: 0, W: 0 }, pack: { X: padsX ? 1 : 0, W: 2 },
  };
  if (!space.contains(point) || !space.withinBudgets(point)) return undefined;
  // The same decisions, with the space's three-level names for the register tile's loops (on one thread the space leaves out the parallel loop, which changes nothing there).
  const serial = space.target.threads <= 1;
  const decisions = (t: Trace, rename: boolean) => t.steps.filter((s) => s.prim !== 'split' && s.prim !== 'reorder' && !(serial && s.prim === 'parallel'))
    .map((s) => (rename ? JSON.stringify(s).replace(/"(k|ow)\.2"/g, '"$1.1"') : JSON.stringify(s))).sort();
  const mine = decisions(space.toTrace(point, w.key), true), theirs = decisions(expert, false);
  return mine.length === theirs.length && mine.every((s, i) => s === theirs[i]) ? point : undefined;
}
