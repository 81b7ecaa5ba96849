import { Step } from '../../../scheduler/trace.js';
import { Action } from '../actions.js';
import { MainNest } from '../nest.js';
import { Draft, Point } from '../point.js';
import { Placement, SpaceRule } from '../rule.js';

/**
 * Which part of the loop order is searched. A style may fix some loops (a GPU's bound loops) and
 * search the rest; `whole` places a searched part back among the fixed loops.
 */
export interface OrderLayout {
  /** The searched loops in their default order. */
  readonly searched: readonly string[];
  searchedPart(order: readonly string[]): string[];
  whole(searched: readonly string[]): string[];
}

/**
 * The CPU's layout: every loop is searched, starting from a BLAS-like order (outer blocks,
 * reduction blocks, middle blocks, reduction, register tile).
 */
export function blasLayout(nest: MainNest): OrderLayout {
  const at = (axes: typeof nest.axes, level: number) => axes.map((a) => nest.loop(a.name, level));
  const S = nest.spatial, R = nest.reduce;
  return {
    searched: [...at(S, 0), ...at(R, 0), ...at(S, 1), ...at(R, 1), ...at(S, 2)],
    searchedPart: (order) => [...order],
    whole: (searched) => [...searched],
  };
}

/** Loop order: points start from the layout's default; a move swaps two neighbours of the searched part. */
export function loopOrder(layout: OrderLayout): SpaceRule {
  const n = layout.searched.length;
  let orders = 1;
  for (let i = 2; i <= n; i++) orders *= i;
  return {
    phase: 'loops',
    kinds: ['swap'],
    actions: Array.from({ length: Math.max(0, n - 1) }, (_, at): Action => ({ kind: 'swap', at })),
    choices: orders,
    sample(_r: () => number, draft: Draft) {
      draft.order = layout.whole(layout.searched);
    },
    apply(p: Point, a: Action) {
      if (a.kind !== 'swap') return undefined;
      const part = layout.searchedPart(p.order);
      if (a.at + 1 >= part.length) return undefined;
      [part[a.at], part[a.at + 1]] = [part[a.at + 1]!, part[a.at]!];
      return { ...p, order: layout.whole(part) };
    },
    steps(at: Placement): Step[] {
      return [{ prim: 'reorder', loops: [...at.point.order] }];
    },
  };
}
