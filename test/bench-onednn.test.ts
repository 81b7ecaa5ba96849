/** The oneDNN peer computes what loopsmith's reference computes, for every kind of convolution it runs, under both contracts. */
import assert from 'node:assert/strict';
import { lowerWorkload, workload } from '../ir/ops/index.js';
import { CTarget } from '../targets/c/target.js';
import { Pipeline } from '../targets/pipeline.js';
import { ONEDNN_MODES, OneDnn, OneDnnRun, OneDnnShape, oneDnnShape } from '../bench/onednn.js';

const CASES: [string, Record<string, number>][] = [
  ['conv1d', { n: 1, c: 8, w: 33, k: 16, kw: 3, pad: 1 }],
  ['conv2d', { n: 1, c: 16, h: 12, w: 11, k: 24, kh: 3, kw: 3, pad: 1 }],
  ['conv2d', { n: 1, c: 3, h: 17, w: 17, k: 8, kh: 7, kw: 7, stride: 2, pad: 3 }],
  ['grouped_conv2d', { n: 1, c: 16, h: 9, w: 9, k: 32, kh: 3, kw: 3, pad: 1, groups: 4 }],
  ['depthwise_conv2d', { n: 1, c: 16, h: 10, w: 10, multiplier: 1, kh: 3, kw: 3, stride: 2, pad: 1 }],
  ['dilated_conv2d', { n: 1, c: 8, h: 12, w: 12, k: 8, kh: 3, kw: 3, pad: 2, dilation: 2 }],
  ['conv3d', { n: 1, c: 4, d: 5, h: 6, w: 7, k: 8, kd: 3, kh: 3, kw: 3, pad: 1 }],
  ['conv1d_transpose', { n: 1, c: 8, w: 9, k: 4, kw: 4, stride: 2, pad: 1 }],
  ['conv2d_transpose', { n: 1, c: 16, h: 6, w: 6, k: 8, kh: 4, kw: 4, stride: 2, pad: 1 }],
  ['conv2d_transpose', { n: 1, c: 8, h: 5, w: 5, k: 8, kh: 3, kw: 3, pad: 1, groups: 2 }],
  ['conv3d_transpose', { n: 1, c: 4, d: 3, h: 4, w: 4, k: 4, kd: 2, kh: 2, kw: 2, stride: 2 }],
];

describe('bench: the oneDNN peer', function () {
  this.timeout(600_000);
  let dnnl: OneDnn;
  const cpu = new Pipeline(new CTarget({ minSeconds: 0.01, maxRepeats: 3 }));

  before(async () => {
    const d = await OneDnn.open();
    assert.ok(typeof d !== 'string', `the oneDNN peer builds (.ci/run installs libdnnl-dev): ${String(d)}`);
    dnnl = d as OneDnn;
  });
  after(() => dnnl?.close());

  for (const [op, params] of CASES) {
    it(`${op} ${JSON.stringify(params)}: both contracts match the reference`, async () => {
      const w = workload(op, params);
      const base = lowerWorkload(w);
      const shape = oneDnnShape(op, w.params);
      assert.ok(typeof shape !== 'string', String(shape));
      for (const mode of ONEDNN_MODES) {
        const r: OneDnnRun = await dnnl.conv(shape as OneDnnShape, mode, 1, cpu, { key: w.key, unscheduled: base, flops: w.flops });
        assert.equal(r.status, 'ok', `${mode}: ${r.note}`);
        assert.ok(r.gflops! > 0 && r.note, `${mode}: names the implementation oneDNN chose`);
      }
    });
  }

  it('a wrong answer is caught: the output checked against another computation of the same size', async () => {
    const w = workload('conv2d', { n: 1, c: 8, h: 8, w: 8, k: 8, kh: 3, kw: 3, pad: 1 });
    // A GEMM with as many outputs (8 x 64 = 8 x 8 x 8), on the same seeded inputs: a different answer.
    const gemm = lowerWorkload(workload('gemm', { m: 8, n: 64, k: 72 }));
    const r = await dnnl.conv(oneDnnShape('conv2d', w.params) as OneDnnShape, 'best', 1, cpu, { key: 'planted', unscheduled: gemm, flops: w.flops });
    assert.equal(r.status, 'wrong_answer', r.note);
  });

  it('operators it does not run are named', () => {
    assert.match(String(oneDnnShape('gemm', { m: 8, n: 8, k: 8 })), /the oneDNN peer runs conv1d, conv2d, .* not gemm/);
    assert.match(String(oneDnnShape('conv2d', { n: 2, c: 8, h: 8, w: 8, k: 8, kh: 3, kw: 3 })), /batch 1, not n=2/);
  });
});
