import { Step } from '../../../scheduler/trace.js';
import { Action } from '../actions.js';
import { MainNest } from '../nest.js';
import { Draft, Point } from '../point.js';
import { Placement, SpaceRule } from '../rule.js';

/** The axis of the innermost loop when it is spatial and longer than 1: what a vector runs along. */
export function vectorAxis(at: Placement): string | undefined {
  const last = at.point.order[at.point.order.length - 1]!;
  return at.point.vectorize && !at.isReduce(last) && at.extent(last) > 1 ? at.nest.tiledLoop(last).axis.name : undefined;
}

/**
 * Cache write: the output tile accumulates in registers and is written back once, either just
 * outside the register tile (1) or also outside the reduction loops directly around it (2: the
 * whole reduction stays in registers, as in a BLAS micro-kernel or a direct convolution). The
 * tile's dimension along the vector axis goes last, so that each row is one vector.
 */
export function cacheWrite(nest: MainNest): SpaceRule {
  return {
    phase: 'caches',
    kinds: ['cacheWrite'],
    actions: [{ kind: 'cacheWrite' }],
    choices: 3,
    sample(r: () => number, draft: Draft) {
      const x = r();
      draft.cacheWrite = x < 0.4 ? 1 : x < 0.7 ? 2 : 0;
    },
    apply(p: Point, a: Action) {
      return a.kind === 'cacheWrite' ? { ...p, cacheWrite: ((p.cacheWrite + 1) % 3) as 0 | 1 | 2 } : undefined;
    },
    steps(at: Placement): Step[] {
      const { order } = at.point;
      // A stride phase loop outside reduction loops is not part of the tile: each of its copies
      // holds a register tile of its own (the register-tile rule's transposed convolutions).
      const firstRegister = order.findIndex((x) => !at.isReduce(x) && at.level(x) === 2 && at.extent(x) > 1 && !nest.isPhaseCopy(order, x, at.extent(x)));
      if (!at.point.cacheWrite || firstRegister <= 0) return [];
      let i = firstRegister - 1;
      if (at.point.cacheWrite === 2) {
        // Back over the reductions (and loops of extent 1), never past a loop bound to the GPU grid:
        // a local accumulator must stay inside the thread loops.
        let j = i;
        while (j >= 0 && !at.bound.has(order[j]!) && (at.isReduce(order[j]!) || at.extent(order[j]!) === 1)) j--;
        if (j >= 0 && !(at.bound.has(order[j]!) && order.slice(j + 1, firstRegister).some((x) => at.bound.has(x)))) i = j;
      }
      const v = vectorAxis(at), d = v === undefined ? undefined : nest.dimOf(nest.output, v), rank = nest.rank(nest.output);
      const dims = Array.from({ length: rank }, (_, x) => x);
      const tileOrder = d !== undefined && d !== rank - 1 ? [...dims.filter((x) => x !== d), d] : undefined;
      at.accumulatorAt = order[i]!;
      return [{ prim: 'cacheWrite', buffer: nest.output, scope: 'local', at: order[i]!, ...(tileOrder ? { order: tileOrder } : {}) }];
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
      return nest.inputs.filter((i) => at.point.cacheRead[i] && !at.point.pack?.[i]).map((buffer) => ({ prim: 'cacheRead', buffer, scope, at: packAt }));
    },
  };
}

/**
 * Pack (CPU): an input copied blocked along the vector axis when that axis indexes one of its
 * dimensions other than the last (conv2d weights [K][C][R][S] under a vector over output channels
 * become [K/kb][C][R][S][kb], so every weight load is one contiguous vector); an input the vector
 * axis does not index, blocked along the register tile's other axis instead (GEMM's A as
 * [M/mr][K][mr], a 1x1 conv's weights under a vector of columns as [K/mr][C][1][1][mr]: the tile's
 * broadcasts for one step of the reduction are neighbours, as in a BLIS micro-panel); otherwise as it is,
 * zero-padded (no padding test left on its loads). Setting 1 packs once before the nest; setting 2
 * packs each block of the vector axis' outer loop inside that loop, so that the copy runs in the
 * loop's threads and is read back from cache (the packed weights of a 1024-channel 3x3 layer are
 * 38 MB: packed before the nest they cost more than the convolution). Takes precedence over the
 * input's cacheRead. A constant input (prepack) packed before the nest is packed once, at load.
 */
export function packInputs(nest: MainNest): SpaceRule {
  return {
    phase: 'caches',
    kinds: ['pack'],
    actions: nest.inputs.map((input): Action => ({ kind: 'pack', input })),
    choices: 3 ** nest.inputs.length,
    sample(r: () => number, draft: Draft) {
      // A constant input packed before the nest is packed once, at load (codegen/prepare.ts): free
      // per call, so drawn far more often than a pack every call pays for.
      draft.pack = Object.fromEntries(nest.inputs.map((i) => {
        const x = r();
        return [i, nest.constants.has(i) ? (x < 0.5 ? 1 : x < 0.6 ? 2 : 0) : x < 0.15 ? 1 : x < 0.3 ? 2 : 0] as const;
      }));
    },
    apply(p: Point, a: Action) {
      return a.kind === 'pack' ? { ...p, pack: { ...p.pack, [a.input]: (((p.pack?.[a.input] ?? 0) + 1) % 3) as 0 | 1 | 2 } } : undefined;
    },
    steps(at: Placement): Step[] {
      const v = vectorAxis(at), order = at.point.order;
      // The register tile's other axis: its innermost spatial loop of the last level before the vector.
      const tileLoop = v === undefined ? undefined : [...order.slice(0, -1)].reverse().find((x) => at.level(x) === 2 && !at.isReduce(x) && at.extent(x) > 1);
      const outerOf = (axis: string) => order.find((x) => at.level(x) === 0 && !at.isReduce(x) && at.nest.tiledLoop(x).axis.name === axis && at.extent(x) > 1);
      return nest.inputs.filter((i) => at.point.pack?.[i]).map((buffer): Step => {
        const block = blockFor(buffer, v, order[order.length - 1]!) ?? (tileLoop === undefined ? undefined : blockFor(buffer, at.nest.tiledLoop(tileLoop).axis.name, tileLoop));
        if (!block) return { prim: 'layout', buffer };
        const outer = outerOf(block.axis);
        const where = at.point.pack![buffer] === 2 && outer !== undefined ? { at: outer } : {};
        return { prim: 'layout', buffer, dims: [block.dim], factors: [at.extent(block.loop)], ...where };
      });

      function blockFor(buffer: string, axis: string | undefined, loop: string): { axis: string; dim: number; loop: string } | undefined {
        const dim = axis === undefined ? undefined : nest.blockDimOf(buffer, axis);
        return dim !== undefined ? { axis: axis!, dim, loop } : undefined;
      }
    },
  };
}
