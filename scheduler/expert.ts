import { Params, lowerWorkload, workload as lookup } from '../ir/ops/index.js';
import { Program } from '../ir/program.js';
import { findLoop } from './locate.js';
import { Schedule } from './schedule.js';
import { Trace } from './trace.js';

const fit = (want: number, extent: number) => {
  let f = Math.min(want, extent);
  while (extent % f !== 0) f--;
  return f;
};

const gemm = (m: number, n: number, k: number): Program => lowerWorkload(lookup('gemm', { m, n, k }));

/**
 * Hand-written GEMM schedule for CPUs, BLAS-style: a parallel loop over row blocks, a packed
 * kc x nc panel of B per block, and an mr x nr register tile of C (nr lanes vectorized, mr rows
 * unrolled) updated by rank-1 steps along k. Block sizes shrink to divide small problems.
 */
export function expertCpuGemm(m: number, n: number, k: number, workload?: string): Trace {
  const mr = fit(8, m), nr = fit(32, n);
  const mc = fit(64, m) - (fit(64, m) % mr || 0), nc = fit(256, n), kc = fit(256, k);
  return new Schedule(gemm(m, n, k), workload)
    .split('i', [mc / mr, mr], 'requireDivisible')
    .split('j', [nc / nr, nr], 'requireDivisible')
    .split('k', [kc], 'requireDivisible')
    .reorder(['i.0', 'j.0', 'k.0', 'i.1', 'j.1', 'k.1', 'i.2', 'j.2'])
    .cacheWrite('C', 'local', 'j.1')
    .cacheRead('B', 'local', 'k.0')
    .unroll('i.2')
    .vectorize('j.2')
    .parallel('i.0')
    .trace;
}

/**
 * Hand-written GEMM schedule for GPUs: workgroup tiles of C, A and B staged through workgroup
 * memory one k-block at a time, and a per-invocation register tile.
 */
export function expertGpuGemm(m: number, n: number, k: number, workload?: string): Trace {
  const ri = fit(4, m), rj = fit(4, n);
  const ti = fit(8, m / ri), tj = fit(8, n / rj), kc = fit(16, k);
  return new Schedule(gemm(m, n, k), workload)
    .split('i', [ti, ri], 'requireDivisible')
    .split('j', [tj, rj], 'requireDivisible')
    .split('k', [kc], 'requireDivisible')
    .reorder(['i.0', 'j.0', 'i.1', 'j.1', 'k.0', 'k.1', 'i.2', 'j.2'])
    .bind('i.0', 'workgroup.y')
    .bind('j.0', 'workgroup.x')
    .bind('i.1', 'thread.y')
    .bind('j.1', 'thread.x')
    .cacheWrite('C', 'local', 'j.1')
    .cacheRead('A', 'workgroup', 'k.0')
    .cacheRead('B', 'workgroup', 'k.0')
    .unroll('i.2')
    .unroll('j.2')
    .trace;
}

/**
 * GEMM for GPUs that run invocations as SIMD lanes of a CPU (Mesa lavapipe, SwiftShader) or that
 * punish barriers: no workgroup memory; lanes run along rows of C, so every load of B is uniform
 * across the workgroup (one load and a broadcast), and each invocation keeps a 2 x 16 register tile.
 */
export function expertGpuGemmRegisters(m: number, n: number, k: number, workload?: string): Trace {
  const ri = fit(2, m), rj = fit(16, n), ti = fit(32, m / ri);
  return new Schedule(gemm(m, n, k), workload)
    .split('i', [ti, ri], 'requireDivisible')
    .split('j', [rj], 'requireDivisible')
    .reorder(['i.0', 'j.0', 'i.1', 'k', 'i.2', 'j.1'])
    .bind('i.0', 'workgroup.x')
    .bind('j.0', 'workgroup.y')
    .bind('i.1', 'thread.x')
    .cacheWrite('C', 'local', 'i.1')
    .unroll('i.2')
    .unroll('j.1')
    .trace;
}

/**
 * conv2d (NCHW) for GPUs, in the same spirit: one output pixel per invocation along the fused
 * spatial axis, a register tile of 16 output channels, so every weight load is uniform.
 */
export function expertGpuConv2d(params: Params, workload?: string): Trace {
  const s = new Schedule(lowerWorkload(lookup('conv2d', params)), workload);
  const extent = (loop: string) => findLoop(s.program, loop, 'expertGpuConv2d').loop.extent;
  const t = fit(64, extent('oh') * extent('ow')), rk = fit(16, extent('k'));
  return s
    .fuse('oh', 'ow')
    .split('oh.ow.fused', [t], 'requireDivisible')
    .split('k', [rk], 'requireDivisible')
    .reorder(['oh.ow.fused.0', 'k.0', 'oh.ow.fused.1', 'rc', 'rh', 'rw', 'k.1'])
    .bind('oh.ow.fused.0', 'workgroup.x')
    .bind('k.0', 'workgroup.y')
    .bind('oh.ow.fused.1', 'thread.x')
    .cacheWrite('Y', 'local', 'oh.ow.fused.1')
    .unroll('k.1')
    .trace;
}

/**
 * conv2d (NCHW) for CPUs, as TVM's x86 schedules and oneDNN do it: vectorized along output
 * channels. The weights are packed once as [K/kb][C][R][S][kb] (contiguous vector loads) and the
 * input once as a zero-padded copy (no padding tests inside); each register tile holds kb output
 * channels (one or two vectors of `lanes`) by up to 7-8 output columns, updated by broadcasting one
 * input value per column against the packed weights; parallel over channel blocks. When the output
 * channels are not a multiple of the lanes, the older row-vectorized schedule.
 */
export function expertCpuConv2d(params: Params, workload?: string, lanes = 16): Trace {
  const s = new Schedule(lowerWorkload(lookup('conv2d', params)), workload);
  const ow = findLoop(s.program, 'ow', 'expertCpuConv2d').loop.extent, k = findLoop(s.program, 'k', 'expertCpuConv2d').loop.extent;
  if (k % lanes !== 0) return rowVectorizedConv2d(s, ow, k);
  const kb = k % (2 * lanes) === 0 ? 2 * lanes : lanes;
  const owr = fit(kb > lanes ? 7 : 8, ow);
  return s
    .split('k', [kb], 'requireDivisible')
    .split('ow', [owr], 'requireDivisible')
    .reorder(['n', 'k.0', 'oh', 'ow.0', 'rc', 'rh', 'rw', 'ow.1', 'k.1'])
    .layout('W', [0], [kb])
    .layout('X')
    .cacheWrite('Y', 'local', 'ow.0', [0, 2, 3, 1])
    .unroll('ow.1')
    .vectorize('k.1')
    .parallel('k.0')
    .trace;
}

/**
 * A register tile of up to 8 output channels by one output row (vectorized along the row), and
 * per input channel a zero-padded copy of the input rows it reads; parallel over channel blocks.
 */
function rowVectorizedConv2d(s: Schedule, ow: number, k: number): Trace {
  let kr = Math.min(8, k);
  while (k % kr !== 0 || kr * ow > 512) kr--;
  return s
    .split('k', [kr], 'requireDivisible')
    .split('ow', [ow], 'requireDivisible')
    .reorder(['n', 'k.0', 'oh', 'ow.0', 'rc', 'rh', 'rw', 'k.1', 'ow.1'])
    .cacheWrite('Y', 'local', 'ow.0')
    .cacheRead('X', 'local', 'rc')
    .unroll('k.1')
    .vectorize('ow.1')
    .parallel('k.0')
    .trace;
}
