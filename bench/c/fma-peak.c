/* The CPU's fp32 arithmetic peak: every thread runs CHAINS independent chains of vector FMAs (enough
 * to cover the FMA latency times the number of FMA units), with nothing loaded or stored in the
 * loop. VBYTES is the vector width in bytes; compiled with the C target's compiler and flags.
 * usage: fma-peak threads iterations repeats     prints {"flopsPerRun":..,"times":[..],"check":..} */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef VBYTES
#define VBYTES 64
#endif
typedef float vf __attribute__((vector_size(VBYTES)));
#define LANES (VBYTES / 4)

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

#ifndef CHAINS
#define CHAINS 16
#endif
/* CHAINS independent chains cover the FMA latency times the number of FMA units; each chain, m and
 * c hold one vector register each, so CHAINS + 2 must not exceed the register file (16 on AVX2: a
 * spilled chain waits on a store and a load every step and the "peak" falls by a third).
 * m is not a compile-time constant, so no chain can be folded (without -ffast-math the compiler may not
 * reassociate either); |m| < 1 keeps the values bounded. */
static float chains(long iters, float m0, float c0) {
  vf m = (vf){0} + m0, c = (vf){0} + c0;
  vf a[CHAINS];
#pragma GCC unroll 64
  for (int j = 0; j < CHAINS; j++) a[j] = c + (float)j;
  for (long i = 0; i < iters; i++) {
#pragma GCC unroll 64
    for (int j = 0; j < CHAINS; j++) a[j] = a[j] * m + c;
  }
  vf s = a[0];
#pragma GCC unroll 64
  for (int j = 1; j < CHAINS; j++) s += a[j];
  float r = 0;
  for (int l = 0; l < LANES; l++) r += s[l];
  return r;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: %s threads iterations repeats\n", argv[0]); return 2; }
  int threads = atoi(argv[1]);
  long iters = atol(argv[2]), repeats = atol(argv[3]);
  float m = 0.999f + (float)(argc - 4), c = 1e-3f; /* argc is 4 here: m = 0.999 the compiler cannot see */
  double check = 0; /* printed, so no chain is dead code */
  printf("{\"lanes\":%d,\"threads\":%d,\"flopsPerRun\":%.0f,\"times\":[", LANES, threads, 2.0 * CHAINS * LANES * (double)iters * threads);
  for (long r = -1; r < repeats; r++) { /* r = -1: warm-up (clock ramp, thread start) */
    double t0 = now();
#pragma omp parallel num_threads(threads) reduction(+ : check)
    check += chains(iters, m, c);
    double dt = now() - t0;
    if (r >= 0) printf("%s%.9f", r ? "," : "", dt);
  }
  printf("],\"check\":%.6e}\n", check);
  return 0;
}
