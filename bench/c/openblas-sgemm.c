/* OpenBLAS cblas_sgemm under the same protocol as loopsmith's kernels: inputs from the same
 * seeded generator, output written for the checker, warm-up, then timed repeats printed as JSON.
 * usage: openblas-sgemm m n k seed out min-seconds max-repeats warmup */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

char *openblas_get_corename(void);
int openblas_get_num_threads(void);

static void fill(float *p, size_t n, uint32_t a) {
  for (size_t i = 0; i < n; i++) {
    a += 0x6d2b79f5u;
    uint32_t t = a;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    p[i] = (float)((double)(t ^ (t >> 14)) / 4294967296.0 * 2.0 - 1.0);
  }
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
  if (argc != 9) { fprintf(stderr, "usage: %s m n k seed out min-seconds max-repeats warmup\n", argv[0]); return 2; }
  int m = atoi(argv[1]), n = atoi(argv[2]), k = atoi(argv[3]);
  unsigned long long seed = strtoull(argv[4], 0, 10);
  double min_seconds = atof(argv[6]);
  long max_repeats = atol(argv[7]), warmup = atol(argv[8]);
  float *A = aligned_alloc(64, ((size_t)m * k * 4 + 63) / 64 * 64), *B = aligned_alloc(64, ((size_t)k * n * 4 + 63) / 64 * 64), *C = aligned_alloc(64, ((size_t)m * n * 4 + 63) / 64 * 64);
  /* buffer positions 0 and 1, as in the lowered GEMM */
  fill(A, (size_t)m * k, (uint32_t)(seed * 7919ull + 0));
  fill(B, (size_t)k * n, (uint32_t)(seed * 7919ull + 1));
#define RUN cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, A, k, B, n, 0.0f, C, n)
  RUN;
  FILE *out = fopen(argv[5], "wb");
  if (!out || fwrite(C, sizeof(float), (size_t)m * n, out) != (size_t)m * n) return 3;
  fclose(out);
  for (long i = 0; i < warmup; i++) RUN;
  printf("{\"core\":\"%s\",\"threads\":%d,\"times\":[", openblas_get_corename(), openblas_get_num_threads());
  double total = 0;
  for (long r = 0; r < max_repeats && (total < min_seconds || r < 3); r++) {
    double t0 = now();
    RUN;
    double dt = now() - t0;
    total += dt;
    printf("%s%.9f", r ? "," : "", dt);
  }
  printf("]}\n");
  return 0;
}
