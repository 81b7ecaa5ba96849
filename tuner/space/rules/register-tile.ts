import { divisors } from '../../factors.js';
import { VectorUnit, accumulatorBudget } from '../../../scheduler/vector-unit.js';
import { MainNest } from '../nest.js';
import { Draft } from '../point.js';
import { SpaceRule } from '../rule.js';

/** How often a draw of the CPU space is a register-tile kernel rather than the generic draw. */
export const REGISTER_TILE_SHARE = 0.5;

/**
 * The axes a vector can run along: each indexes the output by itself, and either some input does
 * not depend on it (that input's value is then one broadcast per vector: conv2d's X for its output
 * channels, its W for its columns; GEMM's A for its columns), or every input that does indexes one
 * of its dimensions other than the last by it alone, so that the packing rule blocks it into
 * contiguous vectors (a depthwise layer's channels: X and W both blocked by the vector width, as
 * oneDNN's nChw16c).
 */
export function vectorCandidates(nest: MainNest, lanes: number): string[] {
  const out = nest.spatial.filter((a) => a.extent % lanes === 0 && nest.dimOf(nest.output, a.name) !== undefined
    && (nest.inputs.some((i) => !nest.uses(i, a.name)) || nest.inputs.every((i) => !nest.uses(i, a.name) || blockable(nest, i, a.name))));
  return out.map((a) => a.name);
}

/** An input laid out along `axis` by the packing rule. */
const blockable = (nest: MainNest, input: string, axis: string) => nest.blockDimOf(input, axis) !== undefined;

/**
 * The kernels a hand-written CPU schedule makes of a reduction (the experts of scheduler/expert.ts),
 * derived from the loop nest rather than from the operator's name: a register tile of one or two
 * vectors along a vector axis (output channels of a convolution, columns of a GEMM) by a run of
 * another output axis sized to the register file, holding the whole reduction; every loop outside
 * it at the outer level (the largest reduction optionally blocked for the cache), the inputs the
 * vector axis indexes packed per block of it inside the parallel loop, the others copied padded or
 * read as they are; the run unrolled. It owns no decision of its own and no move: with
 * REGISTER_TILE_SHARE it overwrites what the rules before it drew, so the search starts among the
 * kernels that reach the FMA units' speed, and its moves then walk from there.
 */
export function registerTileKernels(nest: MainNest, unit: VectorUnit, threads: number): SpaceRule {
  const candidates = vectorCandidates(nest, unit.lanes);
  return {
    phase: 'loops',
    kinds: [],
    actions: [],
    choices: 1,
    sample(r: () => number, draft: Draft) {
      if (!candidates.length || r() >= REGISTER_TILE_SHARE) return;
      const v = candidates[Math.floor(r() * candidates.length)]!;
      // The run: the innermost other axis that indexes the output (a convolution's columns, a GEMM's rows).
      const others = nest.spatial.filter((a) => a.name !== v && nest.dimOf(nest.output, a.name) !== undefined);
      const u = others.at(-1);
      const vExtent = nest.axis(v).extent;
      const vectors = [1, 2].filter((n) => vExtent % (n * unit.lanes) === 0);
      const nv = vectors[Math.floor(r() * vectors.length)]!;
      // Stride phases (a transposed convolution): each phased output axis other than the vector's
      // and the run's gets a level as long as the stride, the kernel axes iterate their phase
      // innermost, and the annotations unroll both, so every copy's guard is a constant and the
      // taps that land between input elements disappear (3 of 4 in 2-d, 7 of 8 in 3-d); the run
      // is a whole number of phases. The output phases usually go outside the reduction, each a
      // copy of the whole reduction nest with a register tile of its own (a 3-d layer of stride 2
      // then runs 14 columns x 2 vectors per phase: 162 GFLOP/s where phases inside one tile left
      // 4 columns x 1 vector, 60); sometimes they stay inside the tile, sharing its registers.
      const phase = (a: { name: string; extent: number }) => {
        const s = nest.phases.get(a.name)?.stride;
        return s !== undefined && a.extent % s === 0 ? s : 1;
      };
      const tilePhases = nest.spatial.filter((a) => a.name !== v && a.name !== u?.name).reduce((x, a) => x * phase(a), 1);
      const phasesOutside = tilePhases > 1 && r() < 0.75;
      const budget = Math.floor(accumulatorBudget(unit, nv) / nv / (phasesOutside ? 1 : tilePhases));
      const fits = u ? divisors(u.extent).filter((d) => d <= budget) : [1];
      const whole = fits.filter((d) => u && d % phase(u) === 0);
      const runs = whole.length ? whole : fits;
      // Long runs fill the register file: draw among the longer half of those that fit.
      const long = runs.slice(Math.floor(runs.length / 2));
      const run = long[Math.floor(r() * long.length)] ?? 1;
      const factors: Record<string, number[]> = {};
      for (const a of nest.spatial) factors[a.name] = [1, a.name === v ? nv * unit.lanes : a.name === u?.name ? run : phase(a)];
      // The reduction stays inside the tile; sometimes the longest one is blocked for the cache.
      const longest = [...nest.reduce].sort((a, b) => b.extent - a.extent)[0];
      for (const a of nest.reduce) {
        const blocks = divisors(a.extent).filter((d) => d >= 16 && d < a.extent);
        factors[a.name] = [phase(a) > 1 ? phase(a) : a === longest && blocks.length && r() < 0.3 ? blocks[Math.floor(r() * blocks.length)]! : a.extent];
      }
      draft.factors = factors;
      const level = (l: number, axes: readonly { name: string }[]) => axes.map((a) => nest.loop(a.name, l));
      const inner = nest.spatial.filter((a) => a.name !== v && a.name !== u?.name);
      const outside = phasesOutside ? inner.filter((a) => phase(a) > 1) : [];
      const tile = inner.filter((a) => !outside.includes(a));
      // The kernel axes' taps inside the channel loop (phased ones after the others: the channels
      // outermost keep each step's packed weights contiguous).
      const plain = nest.reduce.filter((a) => phase(a) === 1), phased = nest.reduce.filter((a) => phase(a) > 1);
      draft.order = [
        ...level(0, nest.spatial), ...level(1, nest.spatial), ...level(2, outside),
        ...level(0, plain), ...level(1, plain), ...level(0, phased), ...level(1, phased),
        ...level(2, tile), ...(u ? [nest.loop(u.name, 2)] : []), nest.loop(v, 2),
      ];
      draft.vectorize = 1;
      draft.parallel = threads > 1 ? 1 : 0;
      draft.cacheWrite = 2;
      // The run unrolled (its columns become registers); sometimes the innermost tap as well.
      draft.unroll = r() < 0.7 ? 1 : 2;
      draft.cacheRead = Object.fromEntries(nest.inputs.map((i) => [i, 0] as const));
      // Blocked per block of the vector axis (inside the parallel loop) unless the input is constant:
      // then as often once, before the nest, which runs at load (codegen/prepare.ts).
      draft.pack = Object.fromEntries(nest.inputs.map((i) => [i, blockable(nest, i, v) ? (nest.constants.has(i) && r() < 0.5 ? 1 : 2) : r() < 0.5 ? 1 : 0] as const));
    },
    apply() {
      return undefined;
    },
    steps() {
      return [];
    },
  };
}
