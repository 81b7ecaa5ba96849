/* Cache bandwidth at a working set: every thread streams y[i] = a * x[i] over its share of two
 * arrays of `floats` each (one read and one write per element, the traffic of a layer that reads
 * its input once and writes its output once), repeated; the arrays stay in whichever cache level
 * holds them. Compiled with the C target's compiler and flags.
 * usage: copy-bandwidth threads floats repeats     prints {"bytesPerRun":..,"times":[..]} */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: %s threads floats repeats\n", argv[0]); return 2; }
  const int threads = atoi(argv[1]), repeats = atoi(argv[3]);
  const long n = atol(argv[2]);
  float *x = aligned_alloc(64, (n * 4 + 63) / 64 * 64), *y = aligned_alloc(64, (n * 4 + 63) / 64 * 64);
  for (long i = 0; i < n; i++) { x[i] = (float)(i % 7); y[i] = 0; }
  omp_set_num_threads(threads);
  /* a is read at run time: the loop cannot be folded away. */
  volatile float av = 0.5f;
  const float a = av;
  /* Passes per timed run: enough that a run is long against the timer. */
  const int passes = (int)(2e8 / (8.0 * n)) + 1;
  printf("{\"bytesPerRun\":%.0f,\"times\":[", 8.0 * n * passes);
  for (int r = -2; r < repeats; r++) {
    const double t0 = now();
    for (int p = 0; p < passes; p++) {
#pragma omp parallel for schedule(static)
      for (long i = 0; i < n; i++) y[i] = a * x[i];
      x[p % n] += y[(p * 7) % n]; /* a dependence between passes */
    }
    const double dt = now() - t0;
    if (r >= 0) printf("%s%.9f", r ? "," : "", dt);
  }
  printf("],\"check\":%f}\n", (double)y[n / 2]);
  return 0;
}
