import { rng } from '../ir/random.js';

/** Up to this many relabellings the test enumerates them all (C(14, 7) = 3432 for two 7-round samples). */
const EXACT_LIMIT = 200_000;
/** Past it, this many relabellings drawn from a seeded generator. */
const SAMPLES = 20_000;

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/**
 * Two-sided permutation test of the difference of means of `a` and `b`: the fraction of
 * relabellings of the pooled values whose |mean difference| is at least the observed one. Exact
 * (every relabelling) when there are at most EXACT_LIMIT, else SAMPLES drawn with `seed`: the same
 * data always gives the same p-value.
 */
export function permutationPValue(a: readonly number[], b: readonly number[], seed = 1): number {
  const pooled = [...a, ...b], n = pooled.length, k = a.length;
  const total = pooled.reduce((x, y) => x + y, 0);
  // The mean difference of a relabelling is fixed by the sum of the values labelled `a`.
  const diff = (sumA: number) => Math.abs(sumA / k - (total - sumA) / (n - k));
  const observed = Math.abs(mean(a) - mean(b)) * (1 - 1e-12);
  if (binomial(n, k) <= EXACT_LIMIT) {
    let hits = 0, count = 0;
    const walk = (from: number, left: number, sum: number): void => {
      if (left === 0) {
        count++;
        if (diff(sum) >= observed) hits++;
        return;
      }
      for (let i = from; i <= n - left; i++) walk(i + 1, left - 1, sum + pooled[i]!);
    };
    walk(0, k, 0);
    return hits / count;
  }
  const r = rng(seed);
  const xs = [...pooled];
  let hits = 0;
  for (let s = 0; s < SAMPLES; s++) {
    // A partial Fisher-Yates shuffle: the first k places are a uniform draw of the `a` labels.
    let sum = 0;
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(r() * (n - i));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
      sum += xs[i]!;
    }
    if (diff(sum) >= observed) hits++;
  }
  // Counting the observed labelling itself keeps the estimate from ever being 0.
  return (hits + 1) / (SAMPLES + 1);
}
