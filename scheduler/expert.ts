import { Trace, Step, trace } from './trace.js';

const fit = (want: number, extent: number) => {
  let f = Math.min(want, extent);
  while (extent % f !== 0) f--;
  return f;
};

/**
 * Hand-written GEMM schedule for CPUs, BLAS-style: a parallel loop over row blocks, a packed
 * kc x nc panel of B per block, and an mr x nr register tile of C (nr lanes vectorized, mr rows
 * unrolled) updated by rank-1 steps along k. Block sizes shrink to divide small problems.
 */
export function expertCpuGemm(m: number, n: number, k: number, workload?: string): Trace {
  const mr = fit(8, m), nr = fit(32, n);
  const mc = fit(64, m) - (fit(64, m) % mr || 0), nc = fit(256, n), kc = fit(256, k);
  const steps: Step[] = [
    { prim: 'split', loop: 'i', factors: [mc / mr, mr], tail: 'requireDivisible' },
    { prim: 'split', loop: 'j', factors: [nc / nr, nr], tail: 'requireDivisible' },
    { prim: 'split', loop: 'k', factors: [kc], tail: 'requireDivisible' },
    { prim: 'reorder', loops: ['i.0', 'j.0', 'k.0', 'i.1', 'j.1', 'k.1', 'i.2', 'j.2'] },
    { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'j.1' },
    { prim: 'cacheRead', buffer: 'B', scope: 'local', at: 'k.0' },
    { prim: 'unroll', loop: 'i.2' },
    { prim: 'vectorize', loop: 'j.2' },
    { prim: 'parallel', loop: 'i.0' },
  ];
  return trace(steps, workload);
}

/**
 * Hand-written GEMM schedule for GPUs: workgroup tiles of C, A and B staged through workgroup
 * memory one k-block at a time, and a per-invocation register tile.
 */
export function expertGpuGemm(m: number, n: number, k: number, workload?: string): Trace {
  const ri = fit(4, m), rj = fit(4, n);
  const ti = fit(8, m / ri), tj = fit(8, n / rj), kc = fit(16, k);
  const steps: Step[] = [
    { prim: 'split', loop: 'i', factors: [ti, ri], tail: 'requireDivisible' },
    { prim: 'split', loop: 'j', factors: [tj, rj], tail: 'requireDivisible' },
    { prim: 'split', loop: 'k', factors: [kc], tail: 'requireDivisible' },
    { prim: 'reorder', loops: ['i.0', 'j.0', 'i.1', 'j.1', 'k.0', 'k.1', 'i.2', 'j.2'] },
    { prim: 'bind', loop: 'i.0', axis: 'workgroup.y' },
    { prim: 'bind', loop: 'j.0', axis: 'workgroup.x' },
    { prim: 'bind', loop: 'i.1', axis: 'thread.y' },
    { prim: 'bind', loop: 'j.1', axis: 'thread.x' },
    { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'j.1' },
    { prim: 'cacheRead', buffer: 'A', scope: 'workgroup', at: 'k.0' },
    { prim: 'cacheRead', buffer: 'B', scope: 'workgroup', at: 'k.0' },
    { prim: 'unroll', loop: 'i.2' },
    { prim: 'unroll', loop: 'j.2' },
  ];
  return trace(steps, workload);
}

/**
 * GEMM for GPUs that run invocations as SIMD lanes of a CPU (Mesa lavapipe, SwiftShader) or that
 * punish barriers: no workgroup memory; lanes run along rows of C, so every load of B is uniform
 * across the workgroup (one load and a broadcast), and each invocation keeps a 2 x 16 register tile.
 */
export function expertGpuGemmRegisters(m: number, n: number, k: number, workload?: string): Trace {
  const ri = fit(2, m), rj = fit(16, n), ti = fit(32, m / ri);
  void k;
  const steps: Step[] = [
    { prim: 'split', loop: 'i', factors: [ti, ri], tail: 'requireDivisible' },
    { prim: 'split', loop: 'j', factors: [rj], tail: 'requireDivisible' },
    { prim: 'reorder', loops: ['i.0', 'j.0', 'i.1', 'k', 'i.2', 'j.1'] },
    { prim: 'bind', loop: 'i.0', axis: 'workgroup.x' },
    { prim: 'bind', loop: 'j.0', axis: 'workgroup.y' },
    { prim: 'bind', loop: 'i.1', axis: 'thread.x' },
    { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'i.1' },
    { prim: 'unroll', loop: 'i.2' },
    { prim: 'unroll', loop: 'j.1' },
  ];
  return trace(steps, workload);
}

/**
 * conv2d (NCHW) for GPUs, in the same spirit: one output pixel per invocation along the fused
 * spatial axis, a register tile of 16 output channels, so every weight load is uniform.
 */
export function expertGpuConv2d(out: { n: number; k: number; oh: number; ow: number }, workload?: string): Trace {
  const pixels = out.oh * out.ow;
  const t = fit(64, pixels), rk = fit(16, out.k);
  const steps: Step[] = [
    { prim: 'fuse', outer: 'oh', inner: 'ow' },
    { prim: 'split', loop: 'oh.ow.fused', factors: [t], tail: 'requireDivisible' },
    { prim: 'split', loop: 'k', factors: [rk], tail: 'requireDivisible' },
    { prim: 'reorder', loops: ['oh.ow.fused.0', 'k.0', 'oh.ow.fused.1', 'rc', 'rh', 'rw', 'k.1'] },
    { prim: 'bind', loop: 'oh.ow.fused.0', axis: 'workgroup.x' },
    { prim: 'bind', loop: 'k.0', axis: 'workgroup.y' },
    { prim: 'bind', loop: 'oh.ow.fused.1', axis: 'thread.x' },
    { prim: 'cacheWrite', buffer: 'Y', scope: 'local', at: 'oh.ow.fused.1' },
    { prim: 'unroll', loop: 'k.1' },
  ];
  return trace(steps, workload);
}
