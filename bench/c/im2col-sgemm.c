/* conv2d (batch 1, NCHW, stride 1) as frameworks run it on CPUs without a direct kernel: im2col
 * into a (c*kh*kw) x (oh*ow) matrix, then one cblas_sgemm with the [k][c*kh*kw] weights. The
 * im2col is inside the timed run: it is part of the convolution.
 * usage: im2col-sgemm c h w k kh kw pad seed out min-seconds max-repeats warmup */
#include "peer-harness.h" /* first: it sets _POSIX_C_SOURCE */
#include <cblas.h>

struct conv { int c, h, w, k, kh, kw, pad, oh, ow; float *X, *W, *col, *Y; };

static void run(void *p) {
  struct conv *v = p;
  const int n = v->oh * v->ow;
  for (int c = 0; c < v->c; c++)
    for (int r = 0; r < v->kh; r++)
      for (int s = 0; s < v->kw; s++) {
        float *row = v->col + ((size_t)(c * v->kh + r) * v->kw + s) * n;
        for (int y = 0; y < v->oh; y++) {
          const int iy = y + r - v->pad;
          for (int x = 0; x < v->ow; x++) {
            const int ix = x + s - v->pad;
            row[y * v->ow + x] = iy >= 0 && iy < v->h && ix >= 0 && ix < v->w ? v->X[((size_t)c * v->h + iy) * v->w + ix] : 0.0f;
          }
        }
      }
  const int depth = v->c * v->kh * v->kw;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, v->k, n, depth, 1.0f, v->W, depth, v->col, n, 0.0f, v->Y, n);
}

int main(int argc, char **argv) {
  if (argc != 13) { fprintf(stderr, "usage: %s c h w k kh kw pad seed out min-seconds max-repeats warmup\n", argv[0]); return 2; }
  struct conv v = { atoi(argv[1]), atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]), 0, 0, 0, 0, 0, 0 };
  unsigned long long seed = strtoull(argv[8], 0, 10);
  v.oh = v.h + 2 * v.pad - v.kh + 1;
  v.ow = v.w + 2 * v.pad - v.kw + 1;
  const size_t xs = (size_t)v.c * v.h * v.w, ws = (size_t)v.k * v.c * v.kh * v.kw;
  v.X = peer_alloc(xs);
  v.W = peer_alloc(ws);
  v.col = peer_alloc((size_t)v.c * v.kh * v.kw * v.oh * v.ow);
  v.Y = peer_alloc((size_t)v.k * v.oh * v.ow);
  /* buffer positions 0 (X) and 1 (W), as in the lowered conv2d */
  peer_fill(v.X, xs, (uint32_t)(seed * 7919ull + 0));
  peer_fill(v.W, ws, (uint32_t)(seed * 7919ull + 1));
  return peer_measure(run, &v, v.Y, (size_t)v.k * v.oh * v.ow, argv[9], atof(argv[10]), atol(argv[11]), atol(argv[12]));
}
