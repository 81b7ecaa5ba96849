import { InputError } from '../../ir/errors.js';
import { OpSpec, Params, Workload, workload } from '../../ir/ops/index.js';

type Rng = () => number;

/** Small enough that the reference executor and an unrolled kernel stay cheap. */
export const MAX_FLOPS = 400_000;

const PRIMES = new Set([2, 3, 5, 7, 11, 13, 17]);

/**
 * A value near `v`: odd and prime extents are drawn twice as often, since tails (guard, pad) and
 * vector remainders only appear when factors do not divide.
 */
function near(r: Rng, v: number, min: number): number {
  const lo = Math.max(min, 1), hi = Math.max(3, Math.ceil(v * 1.6));
  const pool: number[] = [];
  for (let x = lo; x <= hi; x++) pool.push(...(x % 2 === 1 || PRIMES.has(x) ? [x, x] : [x]));
  return pool[Math.floor(r() * pool.length)]!;
}

const oneOf = (r: Rng, xs: readonly number[]) => xs[Math.floor(r() * xs.length)]!;

/** One draw of every parameter of `op` around its example. */
function draw(r: Rng, op: OpSpec): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of op.params) {
    const v = op.example[p.name] ?? p.default ?? p.min;
    if (p.choices) out[p.name] = oneOf(r, p.choices);
    else if (p.name === 'pad') out[p.name] = r() < 0.7 ? oneOf(r, [1, 1, 2]) : 0;
    else if (p.name === 'stride') out[p.name] = oneOf(r, [1, 1, 2, 3]);
    else if (p.name === 'dilation') out[p.name] = oneOf(r, [1, 1, 2]);
    else if (p.name === 'groups') out[p.name] = oneOf(r, [1, 2, 3, v]);
    else if (r() < 0.25) out[p.name] = v;
    else out[p.name] = near(r, v, p.min);
  }
  return out;
}

/** The workload, or undefined when the parameters do not fit together or the problem is too large. */
export function tryWorkload(op: string, params: Params): Workload | undefined {
  try {
    const w = workload(op, params);
    return w.flops <= MAX_FLOPS ? w : undefined;
  } catch (e) {
    if (e instanceof InputError) return undefined;
    throw e;
  }
}

/** Random legal parameters around the op's example (the example itself when 30 draws do not fit). */
export function randomParams(r: Rng, op: OpSpec): Params {
  for (let i = 0; i < 30; i++) {
    const params = draw(r, op);
    if (tryWorkload(op.name, params)) return params;
  }
  return op.example;
}

/** Smaller variants of `params`, most aggressive first: what the shrinker tries. */
export function smallerParams(op: OpSpec, params: Params): Params[] {
  const out: Params[] = [];
  for (const p of op.params) {
    const v = params[p.name]!;
    const floor = p.name === 'stride' || p.name === 'dilation' || p.name === 'groups' ? 1 : p.min;
    for (const x of new Set([floor, Math.floor(v / 2), v - 1])) if (x >= floor && x < v) out.push({ ...params, [p.name]: x });
  }
  return out;
}
