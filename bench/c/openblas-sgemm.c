/* OpenBLAS cblas_sgemm under the same protocol as loopsmith's kernels (peer-harness.h).
 * usage: openblas-sgemm m n k seed out min-seconds max-repeats warmup */
#include "peer-harness.h" /* first: it sets _POSIX_C_SOURCE */
#include <cblas.h>

struct gemm { int m, n, k; float *A, *B, *C; };

static void run(void *p) {
  struct gemm *g = p;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->m, g->n, g->k, 1.0f, g->A, g->k, g->B, g->n, 0.0f, g->C, g->n);
}

int main(int argc, char **argv) {
  if (argc != 9) { fprintf(stderr, "usage: %s m n k seed out min-seconds max-repeats warmup\n", argv[0]); return 2; }
  struct gemm g = { atoi(argv[1]), atoi(argv[2]), atoi(argv[3]), 0, 0, 0 };
  unsigned long long seed = strtoull(argv[4], 0, 10);
  g.A = peer_alloc((size_t)g.m * g.k);
  g.B = peer_alloc((size_t)g.k * g.n);
  g.C = peer_alloc((size_t)g.m * g.n);
  /* buffer positions 0 and 1, as in the lowered GEMM */
  peer_fill(g.A, (size_t)g.m * g.k, (uint32_t)(seed * 7919ull + 0));
  peer_fill(g.B, (size_t)g.k * g.n, (uint32_t)(seed * 7919ull + 1));
  return peer_measure(run, &g, g.C, (size_t)g.m * g.n, argv[5], atof(argv[6]), atol(argv[7]), atol(argv[8]));
}
