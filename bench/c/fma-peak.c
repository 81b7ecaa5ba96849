/* The CPU's fp32 arithmetic peak: every thread runs 16 independent chains of vector FMAs (enough
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

/* m is not a compile-time constant, so no chain can be folded (without -ffast-math the compiler may not
 * reassociate either); |m| < 1 keeps the values bounded. */
static float chains(long iters, float m0, float c0) {
  vf m = (vf){0} + m0, c = (vf){0} + c0;
  vf a0 = c, a1 = c + 1, a2 = c + 2, a3 = c + 3, a4 = c + 4, a5 = c + 5, a6 = c + 6, a7 = c + 7;
  vf a8 = c + 8, a9 = c + 9, a10 = c + 10, a11 = c + 11, a12 = c + 12, a13 = c + 13, a14 = c + 14, a15 = c + 15;
  for (long i = 0; i < iters; i++) {
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
    a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    a8 = a8 * m + c; a9 = a9 * m + c; a10 = a10 * m + c; a11 = a11 * m + c;
    a12 = a12 * m + c; a13 = a13 * m + c; a14 = a14 * m + c; a15 = a15 * m + c;
  }
  vf s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
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
  printf("{\"lanes\":%d,\"threads\":%d,\"flopsPerRun\":%.0f,\"times\":[", LANES, threads, 2.0 * 16 * LANES * (double)iters * threads);
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
