/* conv2d (batch 1, NCHW) as frameworks run it on CPUs without a direct kernel (Caffe, PyTorch's
 * slow path): per channel group, im2col into a (c/g*kh*kw) x (oh*ow) matrix and one cblas_sgemm
 * with that group's [k/g][c/g*kh*kw] weights; a 1x1 stride-1 unpadded conv skips im2col (the input
 * is the matrix). Transposed conv2d is the adjoint: one sgemm per group into columns
 * (k/g*kh*kw) x (h*w) with the [c/g][k/g*kh*kw] weights transposed, then col2im adds the columns
 * into the zeroed output. Everything is inside the timed run: it is part of the convolution.
 * usage: im2col-sgemm c h w k kh kw stride pad dilation groups transposed seed out min-seconds max-repeats warmup */
#include "peer-harness.h" /* first: it sets _POSIX_C_SOURCE */
#include <cblas.h>
#include <string.h>

struct conv { int c, h, w, k, kh, kw, stride, pad, dil, groups, transposed, oh, ow; float *X, *W, *col, *Y; };

/* Input position of output o at kernel tap r, or -1 in the padding. */
static inline int tap(const struct conv *v, int o, int r, int extent) {
  const int i = o * v->stride - v->pad + r * v->dil;
  return i >= 0 && i < extent ? i : -1;
}

static void forward(struct conv *v) {
  const int cpg = v->c / v->groups, kpg = v->k / v->groups, n = v->oh * v->ow, depth = cpg * v->kh * v->kw;
  const int direct = v->kh == 1 && v->kw == 1 && v->stride == 1 && v->pad == 0;
  for (int g = 0; g < v->groups; g++) {
    const float *X = v->X + (size_t)g * cpg * v->h * v->w;
    const float *col = X;
    if (!direct) {
      for (int c = 0; c < cpg; c++)
        for (int r = 0; r < v->kh; r++)
          for (int s = 0; s < v->kw; s++) {
            float *row = v->col + ((size_t)(c * v->kh + r) * v->kw + s) * n;
            for (int y = 0; y < v->oh; y++) {
              const int iy = tap(v, y, r, v->h);
              for (int x = 0; x < v->ow; x++) {
                const int ix = tap(v, x, s, v->w);
                row[y * v->ow + x] = iy >= 0 && ix >= 0 ? X[((size_t)c * v->h + iy) * v->w + ix] : 0.0f;
              }
            }
          }
      col = v->col;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kpg, n, depth, 1.0f, v->W + (size_t)g * kpg * depth, depth, col, n, 0.0f, v->Y + (size_t)g * kpg * n, n);
  }
}

static void transposed(struct conv *v) {
  const int cpg = v->c / v->groups, kpg = v->k / v->groups, n = v->h * v->w, rows = kpg * v->kh * v->kw;
  memset(v->Y, 0, sizeof(float) * (size_t)v->k * v->oh * v->ow);
  for (int g = 0; g < v->groups; g++) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rows, n, cpg, 1.0f, v->W + (size_t)g * cpg * rows, rows, v->X + (size_t)g * cpg * n, n, 0.0f, v->col, n);
    for (int k = 0; k < kpg; k++)
      for (int r = 0; r < v->kh; r++)
        for (int s = 0; s < v->kw; s++) {
          const float *row = v->col + ((size_t)(k * v->kh + r) * v->kw + s) * n;
          float *Y = v->Y + (size_t)(g * kpg + k) * v->oh * v->ow;
          for (int y = 0; y < v->h; y++) {
            const int oy = tap(v, y, r, v->oh);
            if (oy < 0) continue;
            for (int x = 0; x < v->w; x++) {
              const int ox = tap(v, x, s, v->ow);
              if (ox >= 0) Y[(size_t)oy * v->ow + ox] += row[y * v->w + x];
            }
          }
        }
  }
}

static void run(void *p) {
  struct conv *v = p;
  if (v->transposed) transposed(v);
  else forward(v);
}

int main(int argc, char **argv) {
  if (argc != 17) { fprintf(stderr, "usage: %s c h w k kh kw stride pad dilation groups transposed seed out min-seconds max-repeats warmup\n", argv[0]); return 2; }
  struct conv v = { 0 };
  int *fields[] = { &v.c, &v.h, &v.w, &v.k, &v.kh, &v.kw, &v.stride, &v.pad, &v.dil, &v.groups, &v.transposed };
  for (int i = 0; i < 11; i++) *fields[i] = atoi(argv[i + 1]);
  unsigned long long seed = strtoull(argv[12], 0, 10);
  if (v.transposed) {
    v.oh = (v.h - 1) * v.stride - 2 * v.pad + v.dil * (v.kh - 1) + 1;
    v.ow = (v.w - 1) * v.stride - 2 * v.pad + v.dil * (v.kw - 1) + 1;
  } else {
    v.oh = (v.h + 2 * v.pad - v.dil * (v.kh - 1) - 1) / v.stride + 1;
    v.ow = (v.w + 2 * v.pad - v.dil * (v.kw - 1) - 1) / v.stride + 1;
  }
  const size_t xs = (size_t)v.c * v.h * v.w, ws = (size_t)v.k * (v.c / v.groups) * v.kh * v.kw;
  const size_t cols = v.transposed ? (size_t)(v.k / v.groups) * v.kh * v.kw * v.h * v.w : (size_t)(v.c / v.groups) * v.kh * v.kw * v.oh * v.ow;
  v.X = peer_alloc(xs);
  v.W = peer_alloc(ws);
  v.col = peer_alloc(cols);
  v.Y = peer_alloc((size_t)v.k * v.oh * v.ow);
  /* buffer positions 0 (X) and 1 (W), as in the lowered conv2d */
  peer_fill(v.X, xs, (uint32_t)(seed * 7919ull + 0));
  peer_fill(v.W, ws, (uint32_t)(seed * 7919ull + 1));
  return peer_measure(run, &v, v.Y, (size_t)v.k * v.oh * v.ow, argv[13], atof(argv[14]), atol(argv[15]), atol(argv[16]));
}
