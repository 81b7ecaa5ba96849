import { add, mul, relu, variable } from '../expr.js';
import { at, compute, placeholder, reduceAxis } from '../te.js';
import { OpSpec, flag, prepack, size } from './spec.js';

const constant = (p: Readonly<Record<string, number>>) => p.prepack === 1;

const n = (p: Readonly<Record<string, number>>, k: string) => p[k]!;

export const gemm: OpSpec = {
  name: 'gemm',
  summary: 'C[m,n] = sum_k A[m,k] * B[k,n]; transA/transB read A as [k,m] or B as [n,k]',
  family: 'linear',
  params: [size('m', 'rows of C'), size('n', 'columns of C'), size('k', 'reduction length'), flag('transA', 'A stored as [k, m]'), flag('transB', 'B stored as [n, k]'), prepack('B')],
  build: (p) => {
    const [M, N, K] = [n(p, 'm'), n(p, 'n'), n(p, 'k')];
    const A = placeholder('A', p.transA ? [K, M] : [M, K]);
    const B = placeholder('B', p.transB ? [N, K] : [K, N], 'f32', constant(p));
    const k = reduceAxis('k', K);
    const kv = variable('k');
    return compute({
      name: 'C', shape: [M, N], axisNames: ['i', 'j'], inputs: [A, B],
      body: (i, j) => mul(p.transA ? at(A, kv, i) : at(A, i, kv), p.transB ? at(B, j, kv) : at(B, kv, j)),
      reduce: { op: 'sum', axes: [k] },
    });
  },
  flops: (p) => 2 * n(p, 'm') * n(p, 'n') * n(p, 'k'),
  example: { m: 8, n: 12, k: 6, transA: 0, transB: 0 },
};

export const gemmBiasRelu: OpSpec = {
  name: 'gemm_bias_relu',
  summary: 'C[m,n] = relu(sum_k A[m,k] * B[k,n] + bias[n]): GEMM with a fused epilogue',
  family: 'linear',
  params: [size('m', 'rows of C'), size('n', 'columns of C'), size('k', 'reduction length'), prepack('B and bias')],
  build: (p) => {
    const [M, N, K] = [n(p, 'm'), n(p, 'n'), n(p, 'k')];
    const A = placeholder('A', [M, K]), B = placeholder('B', [K, N], 'f32', constant(p)), bias = placeholder('bias', [N], 'f32', constant(p));
    const k = reduceAxis('k', K);
    const kv = variable('k');
    return compute({
      name: 'C', shape: [M, N], axisNames: ['i', 'j'], inputs: [A, B, bias],
      body: (i, j) => mul(at(A, i, kv), at(B, kv, j)),
      reduce: { op: 'sum', axes: [k] },
      epilogue: (acc, _i, j) => relu(add(acc, at(bias, j))),
    });
  },
  flops: (p) => 2 * n(p, 'm') * n(p, 'n') * n(p, 'k') + 2 * n(p, 'm') * n(p, 'n'),
  example: { m: 7, n: 9, k: 5 },
};

export const batchMatmul: OpSpec = {
  name: 'batch_matmul',
  summary: 'C[b,m,n] = sum_k A[b,m,k] * B[b,k,n]',
  family: 'linear',
  params: [size('b', 'batch'), size('m', 'rows of each C'), size('n', 'columns of each C'), size('k', 'reduction length')],
  build: (p) => {
    const [Bt, M, N, K] = [n(p, 'b'), n(p, 'm'), n(p, 'n'), n(p, 'k')];
    const A = placeholder('A', [Bt, M, K]), B = placeholder('B', [Bt, K, N]);
    const kv = variable('k');
    return compute({
      name: 'C', shape: [Bt, M, N], axisNames: ['b', 'i', 'j'], inputs: [A, B],
      body: (b, i, j) => mul(at(A, b, i, kv), at(B, b, kv, j)),
      reduce: { op: 'sum', axes: [reduceAxis('k', K)] },
    });
  },
  flops: (p) => 2 * n(p, 'b') * n(p, 'm') * n(p, 'n') * n(p, 'k'),
  example: { b: 3, m: 5, n: 6, k: 4 },
};

export const gemv: OpSpec = {
  name: 'gemv',
  summary: 'y[m] = sum_k A[m,k] * x[k]',
  family: 'linear',
  params: [size('m', 'rows of A'), size('k', 'columns of A'), prepack('A')],
  build: (p) => {
    const [M, K] = [n(p, 'm'), n(p, 'k')];
    const A = placeholder('A', [M, K], 'f32', constant(p)), x = placeholder('x', [K]);
    const kv = variable('k');
    return compute({
      name: 'y', shape: [M], axisNames: ['i'], inputs: [A, x],
      body: (i) => mul(at(A, i, kv), at(x, kv)),
      reduce: { op: 'sum', axes: [reduceAxis('k', K)] },
    });
  },
  flops: (p) => 2 * n(p, 'm') * n(p, 'k'),
  example: { m: 9, k: 7 },
};

export const bilinear: OpSpec = {
  name: 'bilinear',
  summary: 'Y[n,o] = sum_{i,j} X1[n,i] * W[o,i,j] * X2[n,j]',
  family: 'linear',
  params: [size('n', 'batch'), size('i', 'features of X1'), size('j', 'features of X2'), size('o', 'output features'), prepack('W')],
  build: (p) => {
    const [N, I, J, O] = [n(p, 'n'), n(p, 'i'), n(p, 'j'), n(p, 'o')];
    const X1 = placeholder('X1', [N, I]), W = placeholder('W', [O, I, J], 'f32', constant(p)), X2 = placeholder('X2', [N, J]);
    const iv = variable('ri'), jv = variable('rj');
    return compute({
      name: 'Y', shape: [N, O], axisNames: ['b', 'o'], inputs: [X1, W, X2],
      body: (b, o) => mul(mul(at(X1, b, iv), at(W, o, iv, jv)), at(X2, b, jv)),
      reduce: { op: 'sum', axes: [reduceAxis('ri', I), reduceAxis('rj', J)] },
    });
  },
  flops: (p) => 3 * n(p, 'n') * n(p, 'i') * n(p, 'j') * n(p, 'o'),
  example: { n: 3, i: 4, j: 5, o: 2 },
};
