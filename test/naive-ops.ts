/**
 * Naive reference implementations of every operator in the operator library, written by hand
 * from the operators' documented semantics and deliberately independent of loopsmith: nothing
 * here imports from ../ir. Each takes the operator's (fully specified) parameters and its input
 * tensors as flat row-major Float32Arrays keyed by input buffer name, and returns the output
 * tensor's shape and its row-major data. Accumulation is in JS doubles; transposed convolutions
 * are computed the scatter way (each input element adds into the outputs it touches), which is
 * independent of loopsmith's gather formulation.
 */

export type NaiveParams = Readonly<Record<string, number>>;
export type NaiveInputs = Readonly<Record<string, Float32Array>>;
export interface NaiveResult { shape: number[]; data: Float32Array }
export type NaiveOp = (p: NaiveParams, inputs: NaiveInputs) => NaiveResult;

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** A required integer parameter. */
function param(p: NaiveParams, name: string): number {
  const v = p[name];
  if (v === undefined || !Number.isInteger(v)) throw new Error(`naive op: missing or non-integer parameter '${name}'`);
  return v;
}

/** An input tensor, checked to hold exactly as many elements as `shape` says. */
function input(inputs: NaiveInputs, name: string, shape: readonly number[]): Float32Array {
  const a = inputs[name];
  if (!a) throw new Error(`naive op: missing input '${name}'`);
  if (a.length !== prod(shape)) throw new Error(`naive op: input '${name}' has ${a.length} elements, expected shape [${shape.join(', ')}] = ${prod(shape)}`);
  return a;
}

/** Row-major flat offset of `idx` in a tensor of shape `shape`. */
function offsetOf(shape: readonly number[], idx: readonly number[]): number {
  let off = 0;
  for (let d = 0; d < shape.length; d++) {
    const i = idx[d]!;
    if (i < 0 || i >= shape[d]!) throw new Error(`naive op: index ${i} out of range [0, ${shape[d]}) in dimension ${d}`);
    off = off * shape[d]! + i;
  }
  return off;
}

/** Calls `f` with every multi-index of `shape`, in row-major order. */
function forEachIndex(shape: readonly number[], f: (idx: number[]) => void): void {
  if (shape.some((s) => s <= 0)) return;
  const idx = shape.map(() => 0);
  for (;;) {
    f(idx.slice());
    let d = shape.length - 1;
    while (d >= 0) {
      idx[d]!++;
      if (idx[d]! < shape[d]!) break;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

const relu = (x: number) => (x > 0 ? x : 0);

// ---------------------------------------------------------------------------------------------
// Linear algebra
// ---------------------------------------------------------------------------------------------

function gemm(p: NaiveParams, inputs: NaiveInputs): NaiveResult {
  const m = param(p, 'm'), n = param(p, 'n'), k = param(p, 'k');
  const transA = param(p, 'transA'), transB = param(p, 'transB');
  const A = input(inputs, 'A', transA ? [k, m] : [m, k]);
  const B = input(inputs, 'B', transB ? [n, k] : [k, n]);
  const C = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let r = 0; r < k; r++) {
        const a = transA ? A[r * m + i]! : A[i * k + r]!;
        const b = transB ? B[j * k + r]! : B[r * n + j]!;
        acc += a * b;
      }
      C[i * n + j] = acc;
    }
  }
  return { shape: [m, n], data: C };
}

function gemmBiasRelu(p: NaiveParams, inputs: NaiveInputs): NaiveResult {
  const m = param(p, 'm'), n = param(p, 'n'), k = param(p, 'k');
  const A = input(inputs, 'A', [m, k]);
  const B = input(inputs, 'B', [k, n]);
  const bias = input(inputs, 'bias', [n]);
  const C = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let r = 0; r < k; r++) acc += A[i * k + r]! * B[r * n + j]!;
      C[i * n + j] = relu(acc + bias[j]!);
    }
  }
  return { shape: [m, n], data: C };
}

function batchMatmul(p: NaiveParams, inputs: NaiveInputs): NaiveResult {
  const b = param(p, 'b'), m = param(p, 'm'), n = param(p, 'n'), k = param(p, 'k');
  const A = input(inputs, 'A', [b, m, k]);
  const B = input(inputs, 'B', [b, k, n]);
  const C = new Float32Array(b * m * n);
  for (let t = 0; t < b; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let r = 0; r < k; r++) acc += A[(t * m + i) * k + r]! * B[(t * k + r) * n + j]!;
        C[(t * m + i) * n + j] = acc;
      }
    }
  }
  return { shape: [b, m, n], data: C };
}

function gemv(p: NaiveParams, inputs: NaiveInputs): NaiveResult {
  const m = param(p, 'm'), k = param(p, 'k');
  const A = input(inputs, 'A', [m, k]);
  const x = input(inputs, 'x', [k]);
  const y = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    let acc = 0;
    for (let r = 0; r < k; r++) acc += A[i * k + r]! * x[r]!;
    y[i] = acc;
  }
  return { shape: [m], data: y };
}

function bilinear(p: NaiveParams, inputs: NaiveInputs): NaiveResult {
  const N = param(p, 'n'), I = param(p, 'i'), J = param(p, 'j'), O = param(p, 'o');
  const X1 = input(inputs, 'X1', [N, I]);
  const W = input(inputs, 'W', [O, I, J]);
  const X2 = input(inputs, 'X2', [N, J]);
  const Y = new Float32Array(N * O);
  for (let b = 0; b < N; b++) {
    for (let o = 0; o < O; o++) {
      let acc = 0;
      for (let i = 0; i < I; i++) {
        for (let j = 0; j < J; j++) acc += X1[b * I + i]! * W[(o * I + i) * J + j]! * X2[b * J + j]!;
      }
      Y[b * O + o] = acc;
    }
  }
  return { shape: [N, O], data: Y };
}

// ---------------------------------------------------------------------------------------------
// Convolution (N-d, NC<spatial> layout)
// ---------------------------------------------------------------------------------------------

interface ConvDesc {
  n: number; c: number; k: number;
  spatial: number[]; kernel: number[];
  stride: number; pad: number; dilation: number; groups: number;
}

const DIMS: Record<number, readonly string[]> = { 1: ['w'], 2: ['h', 'w'], 3: ['d', 'h', 'w'] };

function convDesc(rank: number, p: NaiveParams): ConvDesc {
  const dims = DIMS[rank]!;
  return {
    n: param(p, 'n'), c: param(p, 'c'), k: param(p, 'k'),
    spatial: dims.map((d) => param(p, d)), kernel: dims.map((d) => param(p, `k${d}`)),
    stride: param(p, 'stride'), pad: param(p, 'pad'), dilation: param(p, 'dilation'), groups: param(p, 'groups'),
  };
}

/**
 * Direct convolution: Y[n, k, o...] = sum over the input channels of k's group and every kernel
 * tap r of X[n, ci, o*stride - pad + r*dilation] * W[k, ci - group*cpg, r], out-of-range input
 * positions reading as zero. W is [k, c/groups, kernel...].
 */
interface ConvEpi { bias: boolean; residual: boolean; act: 'none' | 'relu' | 'relu6' }

function convForward(s: ConvDesc, inputs: NaiveInputs, biasRelu: boolean, epi?: ConvEpi): NaiveResult {
  const cpg = s.c / s.groups, kpg = s.k / s.groups;
  const out = s.spatial.map((x, i) => Math.floor((x + 2 * s.pad - s.dilation * (s.kernel[i]! - 1) - 1) / s.stride) + 1);
  const xShape = [s.n, s.c, ...s.spatial];
  const wShape = [s.k, cpg, ...s.kernel];
  const yShape = [s.n, s.k, ...out];
  const X = input(inputs, 'X', xShape);
  const W = input(inputs, 'W', wShape);
  const bias = biasRelu || epi?.bias ? input(inputs, 'bias', [s.k]) : undefined;
  const R = epi?.residual ? input(inputs, 'R', yShape) : undefined;
  const Y = new Float32Array(prod(yShape));
  forEachIndex(yShape, (yi) => {
    const [b, ko] = [yi[0]!, yi[1]!];
    const o = yi.slice(2);
    const g = Math.floor(ko / kpg);
    let acc = 0;
    for (let cc = 0; cc < cpg; cc++) {
      const ci = g * cpg + cc;
      forEachIndex(s.kernel, (r) => {
        const pos = o.map((ov, d) => ov * s.stride - s.pad + r[d]! * s.dilation);
        if (pos.some((x, d) => x < 0 || x >= s.spatial[d]!)) return;
        acc += X[offsetOf(xShape, [b, ci, ...pos])]! * W[offsetOf(wShape, [ko, cc, ...r])]!;
      });
    }
    if (epi) {
      let v = acc + (bias ? bias[ko]! : 0) + (R ? R[offsetOf(yShape, yi)]! : 0);
      if (epi.act !== 'none') v = Math.max(v, 0);
      if (epi.act === 'relu6') v = Math.min(v, 6);
      Y[offsetOf(yShape, yi)] = v;
      return;
    }
    Y[offsetOf(yShape, yi)] = bias ? relu(acc + bias[ko]!) : acc;
  });
  return { shape: yShape, data: Y };
}

/**
 * Transposed convolution (PyTorch semantics, output_padding 0), computed by scattering: every
 * input element X[n, ci, x...] times every weight W[ci, kk, r...] adds into
 * Y[n, group*kpg + kk, x*stride - pad + r*dilation] when that position is inside the output.
 * W is [c, k/groups, kernel...].
 */
function convTranspose(s: ConvDesc, inputs: NaiveInputs): NaiveResult {
  const cpg = s.c / s.groups, kpg = s.k / s.groups;
  const out = s.spatial.map((x, i) => (x - 1) * s.stride - 2 * s.pad + s.dilation * (s.kernel[i]! - 1) + 1);
  const xShape = [s.n, s.c, ...s.spatial];
  const wShape = [s.c, kpg, ...s.kernel];
  const yShape = [s.n, s.k, ...out];
  const X = input(inputs, 'X', xShape);
  const W = input(inputs, 'W', wShape);
  const acc = new Float64Array(prod(yShape));
  forEachIndex(xShape, (xi) => {
    const [b, ci] = [xi[0]!, xi[1]!];
    const pos = xi.slice(2);
    const g = Math.floor(ci / cpg);
    const xv = X[offsetOf(xShape, xi)]!;
    for (let kk = 0; kk < kpg; kk++) {
      forEachIndex(s.kernel, (r) => {
        const o = pos.map((x, d) => x * s.stride - s.pad + r[d]! * s.dilation);
        if (o.some((v, d) => v < 0 || v >= out[d]!)) return;
        acc[offsetOf(yShape, [b, g * kpg + kk, ...o])] += xv * W[offsetOf(wShape, [ci, kk, ...r])]!;
      });
    }
  });
  return { shape: yShape, data: Float32Array.from(acc) };
}

const conv = (rank: number, biasRelu = false): NaiveOp => (p, inputs) => convForward(convDesc(rank, p), inputs, biasRelu);
const convFused: NaiveOp = (p, inputs) => convForward(convDesc(2, p), inputs, false, {
  bias: param(p, 'bias') === 1, residual: param(p, 'residual') === 1, act: (['none', 'relu', 'relu6'] as const)[param(p, 'act')]!,
});
const convT = (rank: number): NaiveOp => (p, inputs) => convTranspose(convDesc(rank, p), inputs);

/** Depthwise: groups = c, k = c * multiplier, W is [c*multiplier, 1, kh, kw]. */
function depthwiseConv2d(p: NaiveParams, inputs: NaiveInputs): NaiveResult {
  const n = param(p, 'n'), c = param(p, 'c'), h = param(p, 'h'), w = param(p, 'w'), mult = param(p, 'multiplier');
  const kh = param(p, 'kh'), kw = param(p, 'kw');
  const stride = param(p, 'stride'), pad = param(p, 'pad'), dil = param(p, 'dilation');
  const oh = Math.floor((h + 2 * pad - dil * (kh - 1) - 1) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - dil * (kw - 1) - 1) / stride) + 1;
  const K = c * mult;
  const X = input(inputs, 'X', [n, c, h, w]);
  const W = input(inputs, 'W', [K, 1, kh, kw]);
  const Y = new Float32Array(n * K * oh * ow);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let j = 0; j < mult; j++) {
        const ko = ch * mult + j;
        for (let y = 0; y < oh; y++) {
          for (let x = 0; x < ow; x++) {
            let acc = 0;
            for (let ry = 0; ry < kh; ry++) {
              for (let rx = 0; rx < kw; rx++) {
                const iy = y * stride - pad + ry * dil, ix = x * stride - pad + rx * dil;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += X[((b * c + ch) * h + iy) * w + ix]! * W[(ko * kh + ry) * kw + rx]!;
              }
            }
            Y[((b * K + ko) * oh + y) * ow + x] = acc;
          }
        }
      }
    }
  }
  return { shape: [n, K, oh, ow], data: Y };
}

// ---------------------------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------------------------

/**
 * Max pooling takes the maximum over the in-bounds taps only (padding is ignored; a window with
 * no in-bounds tap gives -Infinity). Average pooling sums the in-bounds taps and divides by the
 * whole window kh*kw (padding counts as zeros).
 */
function pool2d(kind: 'max' | 'avg'): NaiveOp {
  return (p, inputs) => {
    const n = param(p, 'n'), c = param(p, 'c'), h = param(p, 'h'), w = param(p, 'w');
    const kh = param(p, 'kh'), kw = param(p, 'kw'), stride = param(p, 'stride'), pad = param(p, 'pad');
    const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
    const ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
    const X = input(inputs, 'X', [n, c, h, w]);
    const Y = new Float32Array(n * c * oh * ow);
    for (let b = 0; b < n; b++) {
      for (let ch = 0; ch < c; ch++) {
        for (let y = 0; y < oh; y++) {
          for (let x = 0; x < ow; x++) {
            let best = -Infinity, sum = 0;
            for (let ry = 0; ry < kh; ry++) {
              for (let rx = 0; rx < kw; rx++) {
                const iy = y * stride - pad + ry, ix = x * stride - pad + rx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const v = X[((b * c + ch) * h + iy) * w + ix]!;
                best = Math.max(best, v);
                sum += v;
              }
            }
            Y[((b * c + ch) * oh + y) * ow + x] = kind === 'max' ? best : sum / (kh * kw);
          }
        }
      }
    }
    return { shape: [n, c, oh, ow], data: Y };
  };
}

// ---------------------------------------------------------------------------------------------

/** Where element (b, ch, y, x) of an [n, c, h, w] tensor lies in each layout (0 nchw, 1 nhwc, 2 nchw8c, 3 nchw16c). */
function offsetIn(layout: number, [, c, h, w]: readonly number[], b: number, ch: number, y: number, x: number): number {
  if (layout === 1) return ((b * h! + y) * w! + x) * c! + ch;
  if (layout === 2 || layout === 3) {
    const blk = layout === 2 ? 8 : 16;
    return (((b * (c! / blk) + Math.floor(ch / blk)) * h! + y) * w! + x) * blk + (ch % blk);
  }
  return ((b * c! + ch) * h! + y) * w! + x;
}

/** `a` of NCHW dims `dims` from layout `from` to layout `to`. */
function relaid(a: Float32Array, dims: readonly number[], from: number, to: number): Float32Array {
  const [n, c, h, w] = dims as [number, number, number, number];
  const out = new Float32Array(a.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    out[offsetIn(to, dims, b, ch, y, x)] = a[offsetIn(from, dims, b, ch, y, x)]!;
  }
  return out;
}

function layoutShape(layout: number, [n, c, h, w]: readonly number[]): number[] {
  if (layout === 1) return [n!, h!, w!, c!];
  if (layout === 2 || layout === 3) { const blk = layout === 2 ? 8 : 16; return [n!, c! / blk, h!, w!, blk]; }
  return [n!, c!, h!, w!];
}

function layoutAware(op: NaiveOp, shapes: (p: NaiveParams) => Record<string, readonly number[]>): NaiveOp {
  return (p, inputs) => {
    const layout = p.layout ?? 0;
    // conv2d_fused's xlayout: X in a layout of its own (1 + its number), the rest in `layout`.
    const xLayout = p.xlayout ? p.xlayout - 1 : layout;
    if (layout === 0 && xLayout === 0) return op(p, inputs);
    const nchw = shapes(p); // NCHW shapes of the activation inputs
    const converted = { ...inputs };
    for (const [name, dims] of Object.entries(nchw)) if (inputs[name]) converted[name] = relaid(inputs[name]!, dims, name === 'X' ? xLayout : layout, 0);
    const r = op({ ...p, layout: 0, xlayout: 0 }, converted);
    return { shape: layoutShape(layout, r.shape), data: relaid(r.data, r.shape, 0, layout) };
  };
}

const convOut = (p: NaiveParams, x: number, k: number) => Math.floor((x + 2 * param(p, 'pad') - param(p, 'dilation') * (k - 1) - 1) / param(p, 'stride')) + 1;
const fusedShapes = (p: NaiveParams) => ({
  X: [param(p, 'n'), param(p, 'c'), param(p, 'h'), param(p, 'w')],
  R: [param(p, 'n'), param(p, 'k'), convOut(p, param(p, 'h'), param(p, 'kh')), convOut(p, param(p, 'w'), param(p, 'kw'))],
});
const poolShapes = (p: NaiveParams) => ({ X: [param(p, 'n'), param(p, 'c'), param(p, 'h'), param(p, 'w')] });

/** Every operator's naive implementation, by op name. */
export const NAIVE_OPS: Readonly<Record<string, NaiveOp>> = {
  gemm,
  gemm_bias_relu: gemmBiasRelu,
  batch_matmul: batchMatmul,
  gemv,
  bilinear,
  conv1d: conv(1),
  conv2d: conv(2),
  conv3d: conv(3),
  grouped_conv2d: conv(2),
  dilated_conv2d: conv(2),
  conv2d_bias_relu: conv(2, true),
  conv2d_fused: layoutAware(convFused, fusedShapes),
  depthwise_conv2d: depthwiseConv2d,
  conv1d_transpose: convT(1),
  conv2d_transpose: convT(2),
  conv3d_transpose: convT(3),
  max_pool2d: layoutAware(pool2d('max'), poolShapes),
  avg_pool2d: layoutAware(pool2d('avg'), poolShapes),
  // The identity on the elements: X in layout `from`, Y in `layout`.
  relayout: (p, inputs) => {
    const dims = [param(p, 'n'), param(p, 'c'), param(p, 'h'), param(p, 'w')];
    const from = p.from ?? 0, to = p.layout ?? 1;
    const X = input(inputs, 'X', layoutShape(from, dims));
    return { shape: layoutShape(to, dims), data: relaid(X, dims, from, to) };
  },
};
