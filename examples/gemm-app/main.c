/* Uses the generated kernel like any C function and checks it against a plain triple loop. */
#include <math.h>
#include <stdio.h>
#include "kernels/gemm128.h"
#include "kernels/gemm128_cpus.h"

#define N 128
static float A[N * N], B[N * N], C[N * N];

static double max_error(void) {
  double worst = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      double s = 0;
      for (int k = 0; k < N; k++) s += (double)A[i * N + k] * B[k * N + j];
      double e = fabs(s - C[i * N + j]);
      if (isnan(e)) return INFINITY; /* an element never written */
      if (e > worst) worst = e;
    }
  return worst;
}

int main(void) {
  for (int i = 0; i < N * N; i++) {
    A[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    B[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
  }
  gemm128(A, B, C);
  double worst = max_error();
  printf("gemm128: max abs error %.3g\n", worst);
  /* The multi-ISA kernel: the variant tuned for this CPU's ISA level, or the scalar fallback. */
  for (int i = 0; i < N * N; i++) C[i] = NAN;
  gemm128_cpus(A, B, C);
  double worst_cpus = max_error();
  printf("gemm128_cpus (%s variant): max abs error %.3g\n", gemm128_cpus_variant(), worst_cpus);
  return worst < 1e-3 && worst_cpus < 1e-3 ? 0 : 1;
}
