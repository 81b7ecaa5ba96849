import assert from 'node:assert/strict';
import type { BenchRow } from '../cli/bench-results.js';
import { lowerWorkload, workload } from '../ir/ops/index.js';
import { applyTrace } from '../scheduler/apply.js';
import { Pipeline } from '../targets/pipeline.js';
import { openTarget } from '../targets/registry.js';
import { CTarget } from '../targets/c/target.js';
import { expertSchedules } from '../tuner/starting-points.js';
import { convGoals } from '../bench/conv-goals.js';
import { CONV_SUITE, ConvLayer, PREPACKED_ROW } from '../bench/conv-layers.js';
import { OpenBlas, convPeerShape } from '../bench/openblas.js';

describe('bench: the conv suite', () => {
  // Small shapes of every kind the im2col peer runs: its result is checked against loopsmith's reference, so a wrong index is a wrong_answer here.
  const kinds: [string, Record<string, number>][] = [
    ['conv2d', { n: 1, c: 6, h: 11, w: 9, k: 8, kh: 3, kw: 3, stride: 2, pad: 1 }],
    ['conv2d', { n: 1, c: 8, h: 7, w: 7, k: 4, kh: 1, kw: 1 }],
    ['grouped_conv2d', { n: 1, c: 8, h: 9, w: 9, k: 12, kh: 3, kw: 3, pad: 1, groups: 4 }],
    ['dilated_conv2d', { n: 1, c: 4, h: 12, w: 10, k: 4, kh: 3, kw: 3, pad: 2, dilation: 2 }],
    ['depthwise_conv2d', { n: 1, c: 6, h: 10, w: 10, multiplier: 2, kh: 3, kw: 3, stride: 2, pad: 1 }],
    ['conv2d_transpose', { n: 1, c: 6, h: 5, w: 6, k: 4, kh: 4, kw: 3, stride: 2, pad: 1, groups: 2 }],
  ];

  it('runs im2col + OpenBLAS (sgemm + col2im when transposed) right on every conv kind', async function () {
    this.timeout(240_000);
    const target = await openTarget('c', { settings: { minSeconds: 0, maxRepeats: 3, warmup: 0 } });
    assert.ok(target instanceof CTarget);
    const blas = await OpenBlas.open(target.compiler.command, target.cpu.flags);
    assert.equal(typeof blas, 'object', `OpenBLAS is needed for this test: ${String(blas)}`);
    const lib = blas as OpenBlas;
    try {
      const cpu = new Pipeline(target);
      for (const [op, params] of kinds) {
        const w = workload(op, params);
        const shape = convPeerShape(op, w.params);
        assert.notEqual(typeof shape, 'string', String(shape));
        const { run } = await lib.im2colConv(shape as Exclude<typeof shape, string>, 1, cpu, { key: w.key, unscheduled: lowerWorkload(w), flops: w.flops });
        assert.equal(run.status, 'ok', `${w.key}: ${run.status} ${run.note ?? ''}`);
      }
    } finally {
      await lib.close();
    }
    assert.match(String(convPeerShape('conv3d', { n: 1 })), /runs conv2d, .* not conv3d/);
  });

  it('has an expert CPU and GPU schedule for every layer, and each applies', () => {
    for (const l of CONV_SUITE) {
      const w = workload(l.op, l.params);
      for (const [style, target] of [['cpu', { style: 'cpu', lanes: 16, vectorRegisters: 32 }], ['gpu', { style: 'gpu', lanes: 1 }]] as const) {
        const experts = expertSchedules(w, target);
        assert.equal(experts.length, 1, `${l.label} ${style}`);
        applyTrace(lowerWorkload(w), experts[0]!.trace);
      }
    }
  });

  it('computes the speed targets from rows of one run: against oneDNN (geometric mean, every layer, 3x3 at its best), scaling, depthwise over naive', () => {
    const layers: ConvLayer[] = [
      { label: 'A', op: 'conv2d', params: { n: 1, c: 64, h: 8, w: 8, k: 64, kh: 3, kw: 3, pad: 1 } },
      { label: 'B', op: 'conv2d', params: { n: 1, c: 64, h: 8, w: 8, k: 64, kh: 1, kw: 1 } },
      { label: 'D', op: 'depthwise_conv2d', params: { n: 1, c: 144, h: 8, w: 8, multiplier: 1, kh: 3, kw: 3, pad: 1 } },
    ];
    const r = (layer: string, kind: BenchRow['kind'], kernel: string, gflops: number | undefined, threads: number, median = 2e-3): BenchRow =>
      ({ section: 'conv-cpu', workload: layer, layer, kind, kernel, status: gflops === undefined ? 'wrong_answer' : 'ok', threads, ...(gflops !== undefined ? { gflops, stats: { runs: 3, median, min: median, max: median, p20: median, p80: median, mean: median, stddev: 0, spread: 0 } } : {}) });
    const rows = [
      r('A', 'loopsmith', 'loopsmith expert CPU conv2d', 120, 1), r('A', 'loopsmith', 'loopsmith tuned (records)', 150, 1),
      r('A', 'peer', 'oneDNN NCHW in and out (oneDNN 2.6)', 100, 1), r('A', 'peer', 'oneDNN at its best (oneDNN 2.6)', 200, 1), r('A', 'peer', 'im2col', 90, 1),
      r('B', 'loopsmith', 'loopsmith expert CPU conv2d', 80, 1), r('B', 'peer', 'oneDNN NCHW in and out (oneDNN 2.6)', 100, 1),
      r('D', 'loopsmith', 'loopsmith expert CPU depthwise_conv2d', 30, 1), r('D', 'peer', 'oneDNN NCHW in and out', 20, 1), r('D', 'baseline', 'naive', 10, 1),
      r('A', 'loopsmith', 'loopsmith expert CPU conv2d', 270, 2), r('A', 'peer', 'oneDNN NCHW in and out', 180, 2),
      r('B', 'loopsmith', 'loopsmith expert CPU conv2d', 100, 2), r('B', 'peer', 'oneDNN NCHW in and out', 190, 2),
      r('D', 'loopsmith', 'loopsmith expert CPU depthwise_conv2d', undefined, 2),
    ];
    const goals = convGoals({ rows, layers, threads: [1, 2], depthwiseRoofline: { gflops: 60, gbps: 50, label: 'test' } });
    const by = (what: string) => goals.find((g) => g.what === what)!;
    // 1 thread: loopsmith's best kernel per layer (A: the tuned 150) over oneDNN NCHW: 1.5, 0.8, 1.5.
    assert.ok(Math.abs(by('loopsmith >= 1.2x oneDNN NCHW in and out, geometric mean of 3 layers, 1 thread').value! - Math.cbrt(1.5 * 0.8 * 1.5)) < 1e-12);
    assert.deepEqual([by('loopsmith >= 0.9x oneDNN NCHW in and out on every layer, 1 thread').value, by('loopsmith >= 0.9x oneDNN NCHW in and out on every layer, 1 thread').note], [0.8, 'weakest: B']);
    assert.equal(by('loopsmith >= 0.9x oneDNN at its best, A, 1 thread').value, 0.75);
    assert.equal(goals.filter((g) => g.what.includes('at its best')).length, 2, 'only A is a dense 3x3 layer (1 and 2 threads)');
    assert.equal(by('loopsmith >= 0.9x oneDNN at its best, A, 2 threads').met, false, 'no oneDNN row: not met');
    // Scaling: A 270 / 150 = 1.8 (met), B 100 / 80 = 1.25, D's 2-thread kernel was wrong (not met).
    assert.deepEqual(['A', 'B', 'D'].map((l) => by(`loopsmith 2 threads >= 1.8x 1 thread, ${l}`)).map((g) => [g.value, g.met]), [[1.8, true], [1.25, false], [undefined, false]]);
    assert.equal(by('expert >= 4x the naive loop nest, D, 1 thread').value, 3);
    assert.match(by('expert >= 4x the naive loop nest, D, 1 thread').note!, /50% of its bandwidth roofline/);
  });

  it('a kernel tuned with its weights packed at load counts against oneDNN at its best only (which reorders its weights outside the time too)', () => {
    const layers: ConvLayer[] = [{ label: 'A', op: 'conv2d', params: { n: 1, c: 64, h: 8, w: 8, k: 64, kh: 3, kw: 3, pad: 1 } }];
    const r = (kind: BenchRow['kind'], kernel: string, gflops: number): BenchRow =>
      ({ section: 'conv-cpu', workload: 'A', layer: 'A', kind, kernel, status: 'ok', threads: 1, gflops });
    const rows = [
      r('loopsmith', 'loopsmith expert CPU conv2d', 120), r('loopsmith', 'loopsmith tuned (records)', 150), r('loopsmith', `${PREPACKED_ROW} (records)`, 190),
      r('peer', 'oneDNN NCHW in and out (oneDNN 2.6)', 100), r('peer', 'oneDNN at its best (oneDNN 2.6)', 200),
    ];
    const goals = convGoals({ rows, layers, threads: [1] });
    const by = (what: string) => goals.find((g) => g.what === what)!;
    assert.equal(by('loopsmith >= 1.2x oneDNN NCHW in and out, geometric mean of 1 layers, 1 thread').value, 1.5, 'NCHW in and out: the tuned 150, not the prepacked 190');
    assert.deepEqual([by('loopsmith >= 0.9x oneDNN at its best, A, 1 thread').value, by('loopsmith >= 0.9x oneDNN at its best, A, 1 thread').note], [0.95, 'weights packed at load (prepack)']);
  });
});
