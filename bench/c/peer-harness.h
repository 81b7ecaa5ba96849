/* What every peer binary shares with loopsmith's C harness: the seeded input generator (mulberry32,
 * as ir/random.ts), the output file for the checker, warm-up and timed repeats printed as JSON. */
#ifndef LOOPSMITH_PEER_HARNESS_H
#define LOOPSMITH_PEER_HARNESS_H
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef PEER_NO_OPENBLAS
char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);
#endif

static void peer_fill(float *p, size_t n, uint32_t a) {
  for (size_t i = 0; i < n; i++) {
    a += 0x6d2b79f5u;
    uint32_t t = a;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    p[i] = (float)((double)(t ^ (t >> 14)) / 4294967296.0 * 2.0 - 1.0);
  }
}

static float *peer_alloc(size_t floats) { return (float *)aligned_alloc(64, (floats * 4 + 63) / 64 * 64); }

/* ls_time: the timing loop of loopsmith's own harness (targets/c/timing-loop.ts), written beside the
 * peer's build by bench/peer-timing.ts, so peers and kernels are timed by one rule. */
#include "ls-timing.h"

/* The output for the checker (bench/peer-run.ts reads it back); 3 when it cannot be written. */
static int peer_write(const char *path, const float *out, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return 3;
  const int ok = fwrite(out, sizeof(float), n, f) == n;
  return fclose(f) == 0 && ok ? 0 : 3;
}

#ifndef PEER_NO_OPENBLAS
/* Runs once and writes `out` (floats) for the checker, then `warmup` untimed runs, then timed runs
 * until `min_seconds` were measured (at least 3, at most `max_repeats`; a peer still getting faster
 * is timed further, as loopsmith's kernels are). */
static int peer_measure(void (*run)(void *), void *ctx, const float *out, size_t n, const char *path, double min_seconds, long max_repeats, long warmup) {
  run(ctx);
  if (peer_write(path, out, n)) return 3;
  printf("{\"core\":\"%s\",\"config\":\"%s\",\"threads\":%d", openblas_get_corename(), openblas_get_config(), openblas_get_num_threads());
  int status = ls_time(run, ctx, min_seconds, max_repeats, warmup);
  printf("}\n");
  return status;
}
#endif
#endif
