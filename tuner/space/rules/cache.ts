import { Step } from '../../../scheduler/trace.js';
import { Action } from '../actions.js';
import { MainNest } from '../nest.js';
import { Draft, Point } from '../point.js';
import { Placement, SpaceRule } from '../rule.js';

/** Cache write: the output tile accumulates in registers, written back once, just outside the register tile. */
export function cacheWrite(nest: MainNest): SpaceRule {
  return {
    phase: 'caches',
    kinds: ['cacheWrite'],
    actions: [{ kind: 'cacheWrite' }],
    choices: 2,
    sample(r: () => number, draft: Draft) {
      draft.cacheWrite = r() < 0.7 ? 1 : 0;
    },
    apply(p: Point, a: Action) {
      return a.kind === 'cacheWrite' ? { ...p, cacheWrite: p.cacheWrite ? 0 : 1 } : undefined;
    },
    steps(at: Placement): Step[] {
      const { order } = at.point;
      const firstRegister = order.findIndex((x) => !at.isReduce(x) && at.level(x) === 2 && at.extent(x) > 1);
      return at.point.cacheWrite && firstRegister > 0 ? [{ prim: 'cacheWrite', buffer: nest.output, scope: 'local', at: order[firstRegister - 1]! }] : [];
    },
  };
}

/**
 * Cache read: an input's block for one step of the outer reduction is staged (packed in local
 * memory on the CPU, shared by the workgroup on the GPU) at the innermost outer-reduction loop.
 */
export function cacheRead(nest: MainNest, scope: 'local' | 'workgroup'): SpaceRule {
  return {
    phase: 'caches',
    kinds: ['cacheRead'],
    actions: nest.inputs.map((input): Action => ({ kind: 'cacheRead', input })),
    choices: 2 ** nest.inputs.length,
    sample(r: () => number, draft: Draft) {
      draft.cacheRead = Object.fromEntries(nest.inputs.map((i) => [i, r() < 0.3 ? 1 : 0] as const));
    },
    apply(p: Point, a: Action) {
      return a.kind === 'cacheRead' ? { ...p, cacheRead: { ...p.cacheRead, [a.input]: p.cacheRead[a.input] ? 0 : 1 } } : undefined;
    },
    steps(at: Placement): Step[] {
      const packAt = [...at.point.order].reverse().find((x) => at.isReduce(x) && at.level(x) === 0);
      if (!packAt) return [];
      return nest.inputs.filter((i) => at.point.cacheRead[i]).map((buffer) => ({ prim: 'cacheRead', buffer, scope, at: packAt }));
    },
  };
}
