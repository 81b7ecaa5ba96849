import { Step } from '../../../scheduler/trace.js';
import { Action } from '../actions.js';
import { Draft, MAX_UNROLL_DEPTH, Point } from '../point.js';
import { Placement, SpaceRule } from '../rule.js';

export interface AnnotateOptions {
  /** CPU: the innermost loop may become a vector, the outermost a parallel loop. */
  readonly vectorize: boolean;
  readonly parallel: boolean;
  /** Threads the kernel may use: a parallel loop only pays with more than one. */
  readonly threads: number;
}

/** Unrolled copies multiply: the unrolled body stays at most this many copies, so code stays compilable. */
const MAX_UNROLLED_COPIES = 64;
/** Stride phases unrolled besides: 2^6 for a 3-d transposed convolution of stride 2 (7 of 8 copies fold away). */
const MAX_PHASE_COPIES = 64;
/** Longest loop worth a vector annotation (longer ones are better split first). */
const MAX_VECTOR_EXTENT = 64;

/**
 * MetaSchedule's parallelize-vectorize-unroll rule: unroll the innermost loops (a depth), and on
 * the CPU vectorize the innermost loop and run the outermost spatial loop in parallel.
 */
export function parallelVectorizeUnroll(o: AnnotateOptions): SpaceRule {
  const switches = [...(o.vectorize ? ['vectorize' as const] : []), ...(o.parallel ? ['parallel' as const] : [])];
  return {
    phase: 'annotations',
    kinds: ['unroll', 'toggle'],
    actions: [{ kind: 'unroll', delta: 1 }, { kind: 'unroll', delta: -1 }, ...switches.map((s): Action => ({ kind: 'toggle', switch: s }))],
    choices: (MAX_UNROLL_DEPTH + 1) * 2 ** switches.length,
    sample(r: () => number, draft: Draft) {
      draft.unroll = r() < 0.7 ? 1 : Math.floor(r() * (MAX_UNROLL_DEPTH + 1));
      if (o.vectorize) draft.vectorize = 1;
      if (o.parallel && o.threads > 1) draft.parallel = 1;
    },
    apply(p: Point, a: Action) {
      if (a.kind === 'unroll') {
        const u = p.unroll + a.delta;
        return u < 0 || u > MAX_UNROLL_DEPTH ? undefined : { ...p, unroll: u };
      }
      return a.kind === 'toggle' ? { ...p, [a.switch]: p[a.switch] ? 0 : 1 } : undefined;
    },
    steps(at: Placement): Step[] {
      const { point: p } = at;
      const last = p.order[p.order.length - 1]!;
      const vectorized = o.vectorize && p.vectorize === 1 && !at.isReduce(last) && at.extent(last) > 1 && at.extent(last) <= MAX_VECTOR_EXTENT;
      const isVector = (i: number) => vectorized && i === p.order.length - 1;
      const inner = p.order.filter((x, i) => !isVector(i) && at.extent(x) > 1 && !at.bound.has(x));
      const unrolled = new Set<string>();
      let copies = 1;
      for (const x of p.unroll > 0 ? inner.slice(-p.unroll).reverse() : []) {
        if (copies * at.extent(x) > MAX_UNROLLED_COPIES) break;
        copies *= at.extent(x);
        unrolled.add(x);
      }
      // Stride phases (nest.phases): an output axis' innermost level as long as the stride is
      // always unrolled, then a kernel axis' innermost level as long as the stride when the
      // output axes of its guard have their innermost level unrolled in whole phases: each copy's
      // guard is then a constant and the dead taps fold away. Unrolled where nothing folds, the
      // copies would only multiply the code.
      const { nest } = at;
      const phaseLoop = (x: string) => !unrolled.has(x) && nest.isPhaseLoop(x, at.extent(x));
      const fixed = (x: string) => {
        const { stride, with: others } = nest.phases.get(nest.tiledLoop(x).axis.name)!;
        return others.filter((o) => nest.axis(o).axis === 'spatial').every((o) => {
          const l = nest.loop(o, nest.axis(o).levels - 1);
          return unrolled.has(l) && at.extent(l) % stride === 0;
        });
      };
      let phaseCopies = 1;
      const addPhase = (x: string) => {
        if (phaseCopies * at.extent(x) > MAX_PHASE_COPIES) return;
        phaseCopies *= at.extent(x);
        unrolled.add(x);
      };
      for (const x of [...inner].reverse()) if (!at.isReduce(x) && phaseLoop(x)) addPhase(x);
      for (const x of [...inner].reverse()) if (at.isReduce(x) && phaseLoop(x) && fixed(x)) addPhase(x);
      const steps: Step[] = [...p.order].reverse().filter((x) => unrolled.has(x)).map((loop) => ({ prim: 'unroll', loop }));
      if (vectorized) steps.push({ prim: 'vectorize', loop: last });
      if (o.parallel && p.parallel && o.threads > 1) {
        const outer = p.order.findIndex((x, i) => at.extent(x) > 1 && !unrolled.has(x) && !isVector(i));
        // Threads inside the register tile's `at` would share one accumulator: then no parallel loop.
        const limit = at.accumulatorAt === undefined ? p.order.length : p.order.indexOf(at.accumulatorAt);
        if (outer >= 0 && outer <= limit && !at.isReduce(p.order[outer]!)) steps.push({ prim: 'parallel', loop: p.order[outer]! });
      }
      return steps;
    },
  };
}
