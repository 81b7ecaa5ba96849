import { Params, lowerWorkload, workload as lookup } from '../ir/ops/index.js';
import { blockOf, inputLayoutOf, layoutOf } from '../ir/ops/layout.js';
import { fit } from './expert.js';
import { findLoop } from './locate.js';
import { Schedule } from './schedule.js';
import { Trace } from './trace.js';
import { VectorUnit, accumulatorBudget } from './vector-unit.js';


/**
 * Hand-written CPU schedules for a convolution whose activations are channel-blocked (nchw8c,
 * nchw16c: output axes n, ko, oh, ow, ki), oneDNN's direct-convolution shape: a register tile of a
 * run of output columns by one block of output channels (ki, the vector), the weights packed once
 * at load with ki innermost (one vector load per tap and input channel), parallel over channel
 * blocks.
 *
 * - dense (groups 1; reduction split rco, rci): each input channel is broadcast and multiplied by
 *   the weight vector into every column of the tile; the whole reduction loops around the tile,
 *   which stays in registers.
 * - depthwise (groups = c = k; one input channel per output channel): the input is read as vectors
 *   of the same block, each tap's weight vector times each column: bandwidth-bound, as depthwise
 *   layers are, with every load a full vector; the padded copy is made per channel block.
 *
 * Undefined for other layouts and group shapes (the search schedules those).
 */
export function expertCpuBlockedConv(params: Params, workload: string | undefined, unit: VectorUnit, op = 'conv2d_fused', opts: { channelBlocks?: 'one' | 'several' } = {}): Trace | undefined {
  const block = blockOf(layoutOf(params));
  if (block === undefined) return undefined;
  const depthwise = (params.groups ?? 1) === params.c && params.k === params.c && (params.groups ?? 1) > 1;
  if (!depthwise && (params.groups ?? 1) !== 1) return undefined;
  if (depthwise && opts.channelBlocks === 'several') return undefined;
  const s = new Schedule(lowerWorkload(lookup(op, params)), workload);
  const ow = findLoop(s.program, 'ow', 'expertCpuBlockedConv').loop.extent;
  // Accumulators: one vector per column of the tile; a block narrower than the vector still takes
  // one register each.
  const cols = fit(Math.min(depthwise ? 8 : 14, accumulatorBudget(unit, 1)), ow);
  s.split('ow', [cols], 'requireDivisible');
  let parallel = 'ko';
  if (depthwise) {
    // Each channel block's plane padded as it is reached (58 x 58 x 8 floats: in L2 while it is
    // read), 1.7x faster than one copy of the whole input (144 x 56 x 56 on AVX-512: 225 against 384 us).
    s.reorder(['n', 'ko', 'oh', 'ow.0', 'rc', 'rh', 'rw', 'ow.1', 'ki']);
    if ((params.pad ?? 0) > 0) s.layout('X', undefined, undefined, 'local', 'ko');
    s.layout('W', [1], [block]).cacheWrite('Y', 'local', 'ow.0').unroll('rh').unroll('rw');
  } else {
    // The taps innermost of the reduction with the padding tests on them (no padded copy): what the
    // search found for 128 x 28 x 28 in nchw16c (219 GFLOP/s on AVX-512) where a padded copy and
    // the taps outside the channels ran at 119.
    // The reduction over input channels is (rco, rci) when the input is in the same blocks, else
    // one loop rc (a stem reading the NCHW image).
    const rc = blockOf(inputLayoutOf(params)) === block && params.c! % block === 0 ? ['rco', 'rci'] : ['rc'];
    const blocks = opts.channelBlocks === 'several' ? outputBlocks(params.k! / block, cols, unit) : 1;
    if (opts.channelBlocks === 'several' && blocks === 1) return undefined;
    if (blocks > 1) {
      // Several blocks of output channels per tile: each broadcast input feeds that many FMAs (on
      // a 7 x 7 plane a tile of 7 columns by one block held 7 accumulators of 32 registers).
      s.split('ko', [blocks], 'requireDivisible');
      parallel = 'ko.0';
    }
    s.reorder(['n', parallel, 'oh', 'ow.0', ...rc, 'rh', 'rw', ...(blocks > 1 ? ['ko.1'] : []), 'ow.1', 'ki']);
    s.layout('W', [1], [block]).cacheWrite('Y', 'local', 'ow.0').unroll('rw');
    if (blocks > 1) s.unroll('ko.1');
  }
  return s
    .unroll('ow.1')
    .vectorize('ki')
    .parallel(parallel)
    .trace;
}

/**
 * Output-channel blocks per register tile beside `cols` columns: 4 or 2 where their accumulators
 * and weight vectors fit the registers and at least two tiles of blocks remain for the threads.
 */
function outputBlocks(kBlocks: number, cols: number, unit: VectorUnit): number {
  return [4, 2].find((f) => kBlocks % f === 0 && kBlocks / f >= 2 && cols * f <= accumulatorBudget(unit, f)) ?? 1;
}
