import { MAX_TIMING_FACTOR, WARMING_RATIO } from '../stats.js';

/**
 * The timed part of a measurement, in C: shared by the kernel harness (harness.ts) and the peers'
 * (bench/c/peer-harness.h includes it as ls-timing.h), so loopsmith's kernels and the libraries they
 * are compared with are timed by one rule. Its TypeScript twin, for the WebGPU runner, is
 * `warmingRuns` in targets/stats.ts (same constants).
 *
 * `ls_time` runs `warmup` untimed calls, then timed calls until `min_seconds` were measured (at
 * least 3, at most `max_repeats`). A kernel still warming up by then (the median of the first half
 * of its timed runs more than WARMING_RATIO x that of the rest: first-touch page faults, an
 * allocator settling, a thread pool starting) has that half counted as warm-up and is timed
 * further, until it is steady or MAX_TIMING_FACTOR x min_seconds went into timing. It prints
 * `,"warming":<runs dropped>,"times":[...]` (the runs kept), to be placed inside a JSON object.
 */
export const TIMING_LOOP_C = `
static int ls_cmp_seconds(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double ls_median(const double *t, long n, double *scratch) {
  memcpy(scratch, t, (size_t)n * sizeof *t);
  qsort(scratch, (size_t)n, sizeof *t, ls_cmp_seconds);
  return n % 2 ? scratch[n / 2] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
}
static int ls_time(void (*run)(void *), void *ctx, double min_seconds, long max_repeats, long warmup) {
  long cap = max_repeats > 1 ? max_repeats : 1;
  double *t = (double *)malloc(2 * (size_t)cap * sizeof *t); /* the cast: C++ peers include this too */
  if (!t) return 4;
  double *scratch = t + cap;
  for (long i = 0; i < warmup; i++) run(ctx);
  long n = 0, first = 0;
  double kept = 0, spent = 0;
  while (n < cap) {
    double t0 = ls_now();
    run(ctx);
    double dt = ls_now() - t0;
    t[n++] = dt;
    kept += dt;
    spent += dt;
    if (n - first < 3 || kept < min_seconds) continue;
    long half = (n - first) / 2;
    if (spent >= ${MAX_TIMING_FACTOR} * min_seconds || ls_median(t + first, half, scratch) <= ${WARMING_RATIO} * ls_median(t + first + half, n - first - half, scratch)) break;
    for (long i = first; i < first + half; i++) kept -= t[i];
    first += half;
  }
  printf(",\\"warming\\":%ld,\\"times\\":[", first);
  for (long i = first; i < n; i++) printf("%s%.9f", i > first ? "," : "", t[i]);
  printf("]");
  free(t);
  return 0;
}
`;
