/** Integer factorization helpers for tiling decisions. */

export function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d * d <= n; d++) {
    if (n % d === 0) {
      out.push(d);
      if (d * d !== n) out.push(n / d);
    }
  }
  return out.sort((a, b) => a - b);
}

export function smallestPrime(n: number): number | undefined {
  if (n < 2) return undefined;
  for (let p = 2; p * p <= n; p++) if (n % p === 0) return p;
  return n;
}

/** Number of ordered ways to write n as a product of k positive factors. */
export function orderedFactorizations(n: number, k: number): number {
  if (k === 1) return 1;
  let total = 0;
  for (const d of divisors(n)) total += orderedFactorizations(n / d, k - 1);
  return total;
}
