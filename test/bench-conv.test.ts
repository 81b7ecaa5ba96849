import assert from 'node:assert/strict';
import type { BenchRow } from '../cli/bench-results.js';
import { lowerWorkload, workload } from '../ir/ops/index.js';
import { applyTrace } from '../scheduler/apply.js';
import { Pipeline } from '../targets/pipeline.js';
import { openTarget } from '../targets/registry.js';
import { CTarget } from '../targets/c/target.js';
import { expertSchedules } from '../tuner/starting-points.js';
import { convGoals } from '../bench/conv-goals.js';
import { CONV_SUITE, ConvLayer } from '../bench/conv-layers.js';
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

  it('computes the speed targets from rows of one run: per wide 3x3 layer, the geometric mean, depthwise over naive, WebGPU over TF.js', () => {
    const layers: ConvLayer[] = [
      { label: 'A', op: 'conv2d', params: { n: 1, c: 64, h: 8, w: 8, k: 64, kh: 3, kw: 3, pad: 1 } },
      { label: 'B', op: 'conv2d', params: { n: 1, c: 3, h: 8, w: 8, k: 64, kh: 3, kw: 3, pad: 1 } },
      { label: 'D', op: 'depthwise_conv2d', params: { n: 1, c: 144, h: 8, w: 8, multiplier: 1, kh: 3, kw: 3, pad: 1 } },
    ];
    const r = (section: string, layer: string, kind: BenchRow['kind'], kernel: string, gflops: number | undefined, threads?: number): BenchRow =>
      ({ section, workload: layer, layer, kind, kernel, status: gflops === undefined ? 'wrong_answer' : 'ok', ...(gflops !== undefined ? { gflops } : {}), ...(threads !== undefined ? { threads } : {}) });
    const rows = [
      r('conv-cpu', 'A', 'loopsmith', 'loopsmith expert CPU conv2d', 120, 1), r('conv-cpu', 'A', 'peer', 'im2col', 100, 1),
      r('conv-cpu', 'B', 'loopsmith', 'loopsmith expert CPU conv2d', 90, 1), r('conv-cpu', 'B', 'peer', 'im2col', 100, 1),
      r('conv-cpu', 'D', 'loopsmith', 'loopsmith expert CPU depthwise_conv2d', 30, 1), r('conv-cpu', 'D', 'peer', 'im2col', 3, 1),
      r('conv-cpu', 'D', 'baseline', 'naive', 10, 1),
      r('conv-cpu', 'A', 'loopsmith', 'loopsmith expert CPU conv2d', undefined, 2), r('conv-cpu', 'A', 'peer', 'im2col', 100, 2),
    ];
    const goals = convGoals({ rows, layers, threads: [1, 2], depthwiseRoofline: { gflops: 60, gbps: 50, label: 'test' } });
    const by = (prefix: string) => goals.find((g) => g.what.startsWith(prefix))!;
    assert.deepEqual(goals.filter((g) => g.what.includes('>= 1.0x')).map((g) => [g.what, g.value, g.met]), [
      ['expert >= 1.0x im2col + OpenBLAS, A, 1 thread', 1.2, true],
      ['expert >= 1.0x im2col + OpenBLAS, A, 2 threads', undefined, false],
    ], 'only A is a 3x3 layer with >= 64 channels; a wrong kernel is not measured and does not meet the target');
    const gm = by('expert >= 1.1x im2col + OpenBLAS, geometric mean of 3 layers, 1 thread');
    assert.ok(Math.abs(gm.value! - Math.cbrt(1.2 * 0.9 * 10)) < 1e-12);
    assert.equal(by('expert >= 4x the naive').value, 3);
    assert.equal(by('expert >= 4x the naive').met, false);
    assert.match(by('expert >= 4x the naive').note!, /50% of its bandwidth roofline/);
  });
});
