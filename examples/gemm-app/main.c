/* Uses the generated kernel like any C function and checks it against a plain triple loop. */
#include <math.h>
#include <stdio.h>
#include "kernels/gemm128.h"

#define N 128
static float A[N * N], B[N * N], C[N * N];

int main(void) {
  for (int i = 0; i < N * N; i++) {
    A[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    B[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
  }
  gemm128(A, B, C);
  double worst = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      double s = 0;
      for (int k = 0; k < N; k++) s += (double)A[i * N + k] * B[k * N + j];
      double e = fabs(s - C[i * N + j]);
      if (e > worst) worst = e;
    }
  printf("gemm128: max abs error %.3g\n", worst);
  return worst < 1e-3 ? 0 : 1;
}
