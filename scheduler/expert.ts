import { Params, lowerWorkload, workload as lookup } from '../ir/ops/index.js';
import { Program } from '../ir/program.js';
import { MAX_UNROLLED_STATEMENTS } from './code-size.js';
import { findLoop } from './locate.js';
import { Schedule } from './schedule.js';
import { Trace } from './trace.js';
import { AVX512_UNIT, VectorUnit, accumulatorBudget } from './vector-unit.js';

/** The largest divisor of `extent` not above `want`: a tile size that splits the loop whole. */
export const fit = (want: number, extent: number) => {
  let f = Math.min(want, extent);
  while (extent % f !== 0) f--;
  return f;
};

const gemm = (m: number, n: number, k: number): Program => lowerWorkload(lookup('gemm', { m, n, k }));

/**
 * Unrolled copies an expert gives one register tile's update: half the code-size cap, so the
 * tile's init, write-back and the other nests fit beside it. Only kernels wider than any of the
 * suite's (31 x 31 depthwise, 32 columns on the GPU) reach it.
 */
const EXPERT_UNROLL_BUDGET = MAX_UNROLLED_STATEMENTS / 2;

/**
 * Hand-written GEMM schedule for CPUs, BLAS-style: a parallel loop over row blocks, a packed
 * kc x nc panel of B per block, and an mr x nr register tile of C (nr = one or two vectors,
 * mr rows unrolled, as many as the vector registers hold: 8 x 2 on AVX-512, 4 x 2 on AVX2) updated by
 * rank-1 steps along k. Block sizes shrink to divide small problems.
 */
export function expertCpuGemm(m: number, n: number, k: number, workload?: string, unit: VectorUnit = AVX512_UNIT): Trace {
  const nr = fit(2 * unit.lanes, n), vectors = Math.ceil(nr / unit.lanes);
  const mc = fit(64, m), nc = fit(256, n), kc = fit(256, k);
  const rows = Math.min(16, accumulatorBudget(unit, vectors)) / vectors;
  const mr = [8, 6, 4, 3, 2, 1].find((r) => r <= rows && mc % r === 0) ?? 1;
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
 * conv2d (NCHW) for GPUs, in the spirit of the register GEMM: each invocation holds a register tile
 * of a run of 7 (or up to 8) neighbouring output columns by 8 output channels; with the kernel's
 * columns unrolled the run's input windows overlap, so 7 + kw - 1 input loads feed 7 x kw x 8 FMAs,
 * and every weight load is uniform (channels along workgroups). Lanes run along the fused rows and
 * column runs. On lavapipe (conv2d 64x56x56 -> 64) this is ~3.8x the older tile of one pixel by 16
 * channels. Any 2-d convolution of the suite (`op`: grouped, dilated, transposed) has the same loops.
 */
export function expertGpuConv2d(params: Params, workload?: string, op = 'conv2d'): Trace {
  const s = new Schedule(lowerWorkload(lookup(op, params)), workload);
  const extent = (loop: string) => findLoop(s.program, loop, 'expertGpuConv2d').loop.extent;
  const ow = extent('ow');
  const run = ow % 7 === 0 ? 7 : fit(8, ow), rk = fit(8, extent('k'));
  const t = fit(64, extent('oh') * (ow / run));
  // The kernel's columns unrolled fully where the tile's copies fit the budget, else in parts.
  const rw = extent('rw'), part = Math.floor(EXPERT_UNROLL_BUDGET / (run * rk));
  return s
    .split('ow', [run], 'requireDivisible')
    .fuse('oh', 'ow.0')
    .split('oh.ow.0.fused', [t], 'requireDivisible')
    .split('k', [rk], 'requireDivisible')
    .reorder(['oh.ow.0.fused.0', 'k.0', 'oh.ow.0.fused.1', 'rc', 'rh', 'rw', 'ow.1', 'k.1'])
    .bind('oh.ow.0.fused.0', 'workgroup.x')
    .bind('k.0', 'workgroup.y')
    .bind('oh.ow.0.fused.1', 'thread.x')
    .cacheWrite('Y', 'local', 'oh.ow.0.fused.1')
    .unroll('ow.1')
    .unroll('k.1')
    .unroll('rw', rw <= part ? undefined : part)
    .trace;
}

/**
 * Depthwise conv2d for GPUs: each invocation computes a run of up to 8 neighbouring output columns of
 * one channel (their input windows overlap, so the unrolled taps share loads), lanes along the
 * fused row and column blocks, channels along workgroups (the weight loads are uniform).
 */
export function expertGpuDepthwise(params: Params, workload?: string): Trace {
  const s = new Schedule(lowerWorkload(lookup('depthwise_conv2d', params)), workload);
  const extent = (loop: string) => findLoop(s.program, loop, 'expertGpuDepthwise').loop.extent;
  const run = fit(8, extent('ow'));
  const t = fit(64, extent('oh') * (extent('ow') / run));
  return s
    .split('ow', [run], 'requireDivisible')
    .fuse('oh', 'ow.0')
    .split('oh.ow.0.fused', [t], 'requireDivisible')
    .reorder(['oh.ow.0.fused.0', 'k', 'oh.ow.0.fused.1', 'rc', 'rh', 'rw', 'ow.1'])
    .bind('oh.ow.0.fused.0', 'workgroup.x')
    .bind('k', 'workgroup.y')
    .bind('oh.ow.0.fused.1', 'thread.x')
    .cacheWrite('Y', 'local', 'oh.ow.0.fused.1')
    .unroll('ow.1')
    .unroll('rw')
    .trace;
}

/**
 * conv2d (NCHW) for CPUs, as TVM's x86 schedules and oneDNN do it: vectorized along output
 * channels. The weights are packed as [K/kb][C][R][S][kb] (contiguous vector loads), one block per
 * iteration of the parallel loop (in its thread, read back from cache), and a padded input once as
 * a zero-padded copy (no padding tests inside); each register tile holds kb output
 * channels (one or two vectors of `lanes`) by up to 7-8 output columns, updated by broadcasting one
 * input value per column against the packed weights; parallel over channel blocks. The tile is as
 * large as the vector registers hold (7 columns x 2 vectors on AVX-512; 8 or 7 columns x 1 vector
 * on AVX2), in padded runs where no run divides the row. When the output channels are not a
 * multiple of the lanes, the older row-vectorized schedule.
 */
export function expertCpuConv2d(params: Params, workload?: string, unit: VectorUnit = AVX512_UNIT, op = 'conv2d'): Trace {
  const lanes = unit.lanes;
  const s = new Schedule(lowerWorkload(lookup(op, params)), workload);
  const ow = findLoop(s.program, 'ow', 'expertCpuConv2d').loop.extent, k = findLoop(s.program, 'k', 'expertCpuConv2d').loop.extent;
  // A vector of output channels must stay inside one channel group: its lanes then read one input value.
  const kpg = k / (params.groups ?? 1);
  // Grouped 1x1 layers keep the general schedule: their panel would copy every group's channels for each block (0.81x vs 0.93x im2col).
  const pointwise = op === 'conv2d' && (params.kh ?? 1) === 1 && (params.kw ?? 1) === 1 ? pointwiseConv2d(s, unit, k, ow) : undefined;
  if (pointwise) return pointwise;
  if (kpg % lanes !== 0) return rowVectorizedConv2d(s, ow, k);
  if (op === 'conv2d_transpose' && (params.stride ?? 1) > 1) {
    const phased = stridePhases(s, params, ow, unit);
    if (phased) return phased;
  }
  // A short reduction (YOLO C1: 3 x 7 x 7) leaves the tile's write-back a large share of the work:
  // a tile of one vector of channels by `lanes` columns writes whole cache lines of each channel's row.
  const reduction = (params.c! / (params.groups ?? 1)) * (params.kh ?? 1) * (params.kw ?? 1);
  const lineTile = reduction < 256 && ow % lanes === 0;
  const { kb, owr, tail } = lineTile ? { kb: lanes, owr: lanes, tail: 'requireDivisible' as const } : channelTile(unit, kpg, ow);
  // Transposed convolutions keep their weights as [C][K/g][R][S]: the output channel is dimension 1.
  const kDim = op === 'conv2d_transpose' ? 1 : 0;
  const packed = s
    .split('k', [kb], 'requireDivisible')
    .split('ow', [owr], tail)
    .reorder(['n', 'k.0', 'oh', 'ow.0', 'rc', 'rh', 'rw', 'ow.1', 'k.1'])
    // Packed per channel block inside the parallel loop: each thread packs its own block and reads it back from cache.
    .layout('W', [kDim], [kb], 'local', 'k.0');
  // Unpadded layers have no padding tests to remove: a copy of the input would only cost time.
  const padded = (params.pad ?? 0) > 0 ? packed.layout('X') : packed;
  return padded
    .cacheWrite('Y', 'local', 'ow.0', [0, 2, 3, 1])
    .unroll('ow.1')
    .vectorize('k.1')
    .parallel('k.0')
    .trace;
}

/**
 * A 1x1 conv2d is a GEMM, Y[k][p] = W[k][c] X[c][p] over pixels p, whose B operand (the input) is
 * read along channels, each a whole image apart: read in place, every step of the reduction touches
 * a new cache line (ResNet-50's 1x1 layers ran at 0.6x im2col + OpenBLAS on AVX2). So the nest runs
 * over runs of output columns outside and channel blocks inside, and each run copies its input
 * panel (all channels x the run, contiguous) once for all the channel blocks; weights packed once
 * before the nest, parallel over output rows. Where a vector of columns divides the row, the tile
 * is GEMM's: a vector of columns by as many output channels as there are accumulators, one
 * broadcast weight each, contiguous input loads and output stores (the short reductions of
 * MobileNetV2's pointwise layer leave the write-back a large share: 0.55x -> ~1.0x on AVX2).
 * Otherwise the channel-vectorized tile, one vector of channels by up to 8 columns (it beat 2 x 4 on
 * AVX2: 61-65 vs 48-52 GFLOP/s).
 */
function pointwiseConv2d(s: Schedule, unit: VectorUnit, k: number, ow: number): Trace | undefined {
  if (ow % unit.lanes === 0) {
    const mr = [12, 8, 6, 4, 2, 1].find((r) => r <= accumulatorBudget(unit, 1) && k % r === 0)!;
    return s
      .split('k', [mr], 'requireDivisible')
      .split('ow', [unit.lanes], 'requireDivisible')
      .reorder(['n', 'oh', 'ow.0', 'k.0', 'rc', 'rh', 'rw', 'k.1', 'ow.1'])
      .layout('W', [0], [mr])
      .cacheRead('X', 'local', 'ow.0')
      .cacheWrite('Y', 'local', 'k.0')
      .unroll('k.1')
      .vectorize('ow.1')
      .parallel('oh')
      .trace;
  }
  if (k % unit.lanes !== 0) return undefined;
  const { kb, owr, tail } = channelTile(unit, k, ow, 1);
  return s
    .split('k', [kb], 'requireDivisible')
    .split('ow', [owr], tail)
    .reorder(['n', 'oh', 'ow.0', 'k.0', 'rc', 'rh', 'rw', 'ow.1', 'k.1'])
    .layout('W', [0], [kb])
    .cacheRead('X', 'local', 'ow.0')
    .cacheWrite('Y', 'local', 'k.0', [0, 2, 3, 1])
    .unroll('ow.1')
    .vectorize('k.1')
    .parallel('oh')
    .trace;
}

/**
 * The register tile of the channel-vectorized conv: one or two vectors of channels (kb) by a run of
 * owr output columns, the most accumulators the registers hold (runs of 7 or 8 at most: longer ones
 * gained nothing); on a tie the `prefer`red vector count (two by default, since each broadcast then
 * feeds two FMAs). With 16 registers (AVX2) one vector only: gcc folds a weight load into every FMA
 * of a two-vector tile, and one vector by 8 or 7 columns beat two by 4 in every 3x3 layer measured
 * (interleaved, 1 thread: ResNet-18 conv2_x 71 vs 61, conv3_x 61 vs 51, YOLO C8 65 vs 57, C2 65 vs
 * 44 GFLOP/s). Where no run of 5 or more divides the row, a padded run (`tail` 'pad': the last one
 * computes a few columns past the edge in scratch and stores only the real ones) with the least
 * waste: 13 columns as two runs of 7.
 */
function channelTile(unit: VectorUnit, kpg: number, ow: number, prefer: 1 | 2 = 2): { kb: number; owr: number; tail: 'requireDivisible' | 'pad' } {
  let best = { vectors: 1, owr: 1, tail: 'requireDivisible' as 'requireDivisible' | 'pad' };
  const counts = unit.registers < 32 ? [1] : prefer === 2 ? [2, 1] : [1, 2];
  for (const vectors of counts) {
    if (kpg % (vectors * unit.lanes) !== 0) continue;
    const cap = Math.min(vectors === 2 ? 7 : 8, Math.floor(accumulatorBudget(unit, vectors) / vectors), ow);
    let owr = fit(cap, ow), tail: 'requireDivisible' | 'pad' = 'requireDivisible';
    if (owr < 5 && cap >= 5) {
      const runs = Array.from({ length: cap - 4 }, (_, i) => cap - i);
      owr = runs.reduce((a, b) => (Math.ceil(ow / b) * b < Math.ceil(ow / a) * a ? b : a));
      tail = ow % owr === 0 ? 'requireDivisible' : 'pad';
    }
    if (vectors * owr > best.vectors * best.owr) best = { vectors, owr, tail };
  }
  return { kb: best.vectors * unit.lanes, owr: best.owr, tail: best.tail };
}

/**
 * A transposed conv2d with stride sd computes, for each output phase (oh mod sd, ow mod sd), only
 * the kernel taps of the matching phase; the others read nothing (their guard `(o + pad - r) mod sd
 * == 0` never holds). Splitting the output rows and columns and the kernel rows and columns by sd,
 * and unrolling the phases, makes each copy's guard a constant that codegen folds, so the dead
 * taps disappear (3 of 4 for stride 2) and the stride's division becomes plain loop variables. The
 * register tile is sd rows x owr column pairs x one vector of channels; the input is a zero-padded
 * copy, so no bounds test is left in the updates. Undefined when the strides
 * do not divide the kernel and the output.
 */
function stridePhases(s: Schedule, params: Params, ow: number, unit: VectorUnit): Trace | undefined {
  const lanes = unit.lanes;
  const sd = params.stride!, oh = findLoop(s.program, 'oh', 'expertCpuConv2d').loop.extent;
  if (params.kh! % sd !== 0 || params.kw! % sd !== 0 || oh % sd !== 0 || ow % sd !== 0) return undefined;
  const owr = fit(Math.max(1, Math.floor(accumulatorBudget(unit, 1) / (sd * sd))), ow / sd);
  return s
    .split('k', [lanes], 'requireDivisible')
    .split('oh', [sd], 'requireDivisible')
    .split('ow', [owr, sd], 'requireDivisible')
    .split('rh', [sd], 'requireDivisible')
    .split('rw', [sd], 'requireDivisible')
    .reorder(['n', 'k.0', 'oh.0', 'ow.0', 'rc', 'rh.0', 'rw.0', 'oh.1', 'rh.1', 'ow.1', 'ow.2', 'rw.1', 'k.1'])
    .layout('W', [1], [lanes], 'local', 'k.0')
    // A zero-padded input: the taps past its edges read zeros instead of testing bounds per update (DCGAN-style on AVX2: 38 -> 51 GFLOP/s).
    .layout('X')
    .cacheWrite('Y', 'local', 'ow.0', [0, 2, 3, 1])
    .unroll('oh.1')
    .unroll('rh.1')
    .unroll('ow.1')
    .unroll('ow.2')
    .unroll('rw.1')
    .vectorize('k.1')
    .parallel('k.0')
    .trace;
}

/**
 * Depthwise conv2d for CPUs: each channel's input once as a zero-padded copy, a register tile of
 * output rows by a row segment (vectorized along the row: two rows by four vectors, or up to eight
 * rows of fewer vectors), all nine taps unrolled so neighbouring rows share their input loads;
 * parallel over channels. It reads each input value
 * a few times from L1 and writes each output once: bandwidth-bound, as depthwise layers are.
 */
export function expertCpuDepthwise(params: Params, workload?: string, unit: VectorUnit = AVX512_UNIT, op = 'depthwise_conv2d'): Trace {
  const s = new Schedule(lowerWorkload(lookup(op, params)), workload);
  const extent = (loop: string) => findLoop(s.program, loop, 'expertCpuDepthwise').loop.extent;
  // The segment is whole vectors where some run of them divides the row (the C vectorizer leaves a
  // partial vector as a scalar loop over a tile in memory: 56 columns as 2 x 28 ran at 6 GFLOP/s on
  // AVX2, 8 rows x 8 at 9-14); a tile of few vectors takes more rows instead, up to 8 accumulators.
  const ow = extent('ow');
  const vectors = [4, 3, 2, 1].find((v) => ow % (v * unit.lanes) === 0);
  const seg = vectors ? vectors * unit.lanes : fit(4 * unit.lanes, ow);
  const rows = fit(Math.max(2, Math.floor(8 / (vectors ?? 4))), extent('oh'));
  s.split('oh', [rows], 'requireDivisible')
    .split('ow', [seg], 'requireDivisible')
    .reorder(['n', 'k', 'oh.0', 'ow.0', 'rc', 'rh', 'rw', 'oh.1', 'ow.1'])
    .layout('X')
    .cacheWrite('Y', 'local', 'ow.0')
    .unroll('oh.1');
  // Every tap unrolled where the tile's copies fit the budget; a larger kernel keeps its rows a loop.
  if (rows * extent('rh') * extent('rw') <= EXPERT_UNROLL_BUDGET) s.unroll('rh');
  return s
    .unroll('rw')
    .vectorize('ow.1')
    .parallel('k')
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
