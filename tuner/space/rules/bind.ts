import { Program } from '../../../ir/program.js';
import { defaultGpuTrace } from '../../../scheduler/default-schedules.js';
import { Step } from '../../../scheduler/trace.js';
import { MainNest } from '../nest.js';
import { Point, levelExtents } from '../point.js';
import { Placement, SpaceRule } from '../rule.js';
import { SpaceTarget } from '../target.js';
import { OrderLayout } from './order.js';

const WORKGROUP = ['workgroup.x', 'workgroup.y', 'workgroup.z'] as const;
const THREAD = ['thread.x', 'thread.y', 'thread.z'] as const;

/** The spatial axes bound to x, y, z (innermost first): at most three with more than one element. */
export function gridAxes(nest: MainNest): string[] {
  return nest.spatial.filter((a) => a.extent > 1).slice(-3).reverse().map((a) => a.name);
}

/**
 * The GPU's layout: [unbound spatial loops, workgroup loops, thread loops, then a free part]. Only
 * the free part (the reduction's loops and the register levels) is searched, since binding fixes
 * the rest.
 */
export function gridLayout(nest: MainNest, bound: readonly string[]): OrderLayout {
  const searched = [...nest.reduce.flatMap((a) => [nest.loop(a.name, 0), nest.loop(a.name, 1)]), ...nest.spatial.map((a) => nest.loop(a.name, 2))];
  const free = new Set(searched);
  const unbound = nest.spatial.filter((a) => !bound.includes(a.name)).flatMap((a) => [0, 1, 2].map((l) => nest.loop(a.name, l))).filter((x) => !free.has(x));
  const outer = [...bound].reverse();
  const fixed = [...unbound, ...outer.map((a) => nest.loop(a, 0)), ...outer.map((a) => nest.loop(a, 1))];
  return {
    searched,
    searchedPart: (order) => order.slice(order.length - searched.length),
    whole: (part) => [...fixed, ...part],
  };
}

/** Binding: levels 0 and 1 of the grid axes become workgroups and threads, within the device's limits. */
export function bindToGrid(nest: MainNest, bound: readonly string[], target: SpaceTarget): SpaceRule {
  return {
    phase: 'loops',
    kinds: [],
    actions: [],
    choices: 1,
    sample() {},
    apply() {
      return undefined;
    },
    within(p: Point) {
      const threads = bound.map((a) => levelExtents(nest, p, a)[1]!);
      return threads.reduce((x, y) => x * y, 1) <= target.maxInvocations && threads.every((t, i) => t <= target.maxWorkgroupDim[i]!);
    },
    steps(at: Placement): Step[] {
      return bound.flatMap((a, i): Step[] => {
        const [wg, th] = [nest.loop(a, 0), nest.loop(a, 1)];
        at.bound.add(wg).add(th);
        return [{ prim: 'bind', loop: wg, axis: WORKGROUP[i]! }, { prim: 'bind', loop: th, axis: THREAD[i]! }];
      });
    },
    // The other nests (initialisation, epilogue) get the default one-invocation-per-element binding.
    finish(scheduled: Program): readonly Step[] {
      return defaultGpuTrace(scheduled).steps;
    },
  };
}
