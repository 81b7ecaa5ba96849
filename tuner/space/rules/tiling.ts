import { Step } from '../../../scheduler/trace.js';
import { divisors, orderedFactorizations, smallestPrime } from '../../factors.js';
import { Action } from '../actions.js';
import { MainNest } from '../nest.js';
import { Draft, Point, levelExtents } from '../point.js';
import { Placement, SpaceRule } from '../rule.js';

export interface TilingOptions {
  /** Largest register tile (product of the spatial register levels). */
  readonly registerBudget: number;
  /** CPU: vector lanes the innermost register level should be a multiple of. */
  readonly vectorLanes?: number;
}

/**
 * Multi-level tiling: every axis of the main nest is split exactly (requireDivisible) into its
 * levels; a move shifts one prime factor between two levels of an axis.
 */
export function multiLevelTiling(nest: MainNest, o: TilingOptions): SpaceRule {
  const actions: Action[] = [];
  for (const a of nest.axes) for (let f = 0; f < a.levels; f++) for (let t = 0; t < a.levels; t++) if (f !== t) actions.push({ kind: 'move', axis: a.name, from: f, to: t });
  const innermost = nest.spatial.at(-1)?.name;
  return {
    phase: 'loops',
    kinds: ['move'],
    actions,
    choices: nest.axes.reduce((n, a) => n * orderedFactorizations(a.extent, a.levels), 1),
    sample(r: () => number, draft: Draft) {
      const factors: Record<string, number[]> = {};
      for (const a of nest.axes) {
        let left = a.extent;
        const fs: number[] = [];
        for (let l = a.levels - 1; l >= 1; l--) {
          const ds = divisors(left);
          // Register level of the innermost spatial axis: favour whole vectors.
          const vector = o.vectorLanes !== undefined && a.name === innermost && l === 2;
          // Register level of other spatial axes: a few rows, which unrolling turns into registers.
          const rows = a.axis === 'spatial' && l === 2 && !vector;
          const pool = vector ? ds.filter((d) => d % o.vectorLanes! === 0 && d <= 4 * o.vectorLanes!) : rows ? ds.filter((d) => d >= 2 && d <= 16) : [];
          const d = pool.length && r() < 0.7 ? pool[Math.floor(r() * pool.length)]! : ds[Math.floor(r() * ds.length)]!;
          fs.unshift(d);
          left /= d;
        }
        factors[a.name] = fs;
      }
      draft.factors = factors;
    },
    apply(p: Point, a: Action) {
      if (a.kind !== 'move') return undefined;
      const ext = levelExtents(nest, p, a.axis);
      const prime = smallestPrime(ext[a.from]!);
      if (!prime) return undefined;
      ext[a.from]! /= prime;
      ext[a.to]! *= prime;
      return { ...p, factors: { ...p.factors, [a.axis]: ext.slice(1) } };
    },
    within(p: Point) {
      // A stride phase outside the reduction is copies of the nest, each with its own tile.
      const tile = (a: { name: string }) => {
        const e = levelExtents(nest, p, a.name)[2]!;
        return nest.isPhaseCopy(p.order, nest.loop(a.name, 2), e) ? 1 : e;
      };
      return nest.spatial.reduce((n, a) => n * tile(a), 1) <= o.registerBudget;
    },
    steps(at: Placement): Step[] {
      return nest.axes.map((a) => ({ prim: 'split', loop: a.name, factors: [...at.point.factors[a.name]!], tail: 'requireDivisible' }));
    },
  };
}
