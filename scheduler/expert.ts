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
