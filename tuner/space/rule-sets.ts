import { MainNest } from './nest.js';
import { SpaceRule } from './rule.js';
import { SpaceStyle, SpaceTarget } from './target.js';
import { parallelVectorizeUnroll } from './rules/annotate.js';
import { bindToGrid, gridAxes, gridLayout } from './rules/bind.js';
import { cacheRead, cacheWrite, packInputs } from './rules/cache.js';
import { blasLayout, loopOrder } from './rules/order.js';
import { multiLevelTiling } from './rules/tiling.js';
import { registerTileKernels } from './rules/register-tile.js';
import { vectorUnitFor } from '../../scheduler/vector-unit.js';

export interface RuleSet {
  readonly rules: readonly SpaceRule[];
  /** The spatial axes bound to the GPU grid (x, y, z); none for a CPU. */
  readonly bound: readonly string[];
}

/**
 * The rules of each style, in order. Changing the order or the actions of a rule changes the
 * action list (and so the meaning of saved Q-models) and the traces of stored points: the
 * space-compat test pins both.
 */
const RULE_SETS: Record<SpaceStyle, (nest: MainNest, target: SpaceTarget) => RuleSet> = {
  cpu: (nest, target) => ({
    bound: [],
    rules: [
      // The register tile fits the vector register file (512 elements on AVX-512's 32 x 16 lanes, 128 on
      // AVX2's 16 x 8: the old fixed 512 let AVX2 tiles spill four times over).
      multiLevelTiling(nest, { registerBudget: registerFile(target), vectorLanes: target.lanes }),
      loopOrder(blasLayout(nest)),
      parallelVectorizeUnroll({ vectorize: true, parallel: true, threads: target.threads }),
      cacheWrite(nest),
      cacheRead(nest, 'local'),
      packInputs(nest),
      // Last, without moves: half the draws become a register-tile kernel (rules/register-tile.ts).
      registerTileKernels(nest, vectorUnitFor(target.lanes, target.vectorRegisters), target.threads),
    ],
  }),
  gpu: (nest, target) => {
    const bound = gridAxes(nest);
    return {
      bound,
      rules: [
        multiLevelTiling(nest, { registerBudget: 64 }),
        loopOrder(gridLayout(nest, bound)),
        bindToGrid(nest, bound, target),
        parallelVectorizeUnroll({ vectorize: false, parallel: false, threads: 1 }),
        cacheWrite(nest),
        cacheRead(nest, 'workgroup'),
      ],
    };
  },
};

function registerFile(target: SpaceTarget): number {
  const unit = vectorUnitFor(target.lanes, target.vectorRegisters);
  return unit.registers * unit.lanes;
}

export function ruleSet(nest: MainNest, target: SpaceTarget): RuleSet {
  return RULE_SETS[target.style](nest, target);
}
