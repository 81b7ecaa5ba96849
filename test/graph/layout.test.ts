/** Activation layouts: relayout round-trips, NHWC operators compute their NCHW selves, a model chain in NHWC converts only at its edges. */
import assert from 'node:assert/strict';
import { execute, randomInputs } from '../../ir/execute.js';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { importOnnx } from '../../ir/onnx/import.js';
import { executeGraph } from '../../ir/graph/execute.js';
import { mobilenetV2, tinyNet } from '../../bench/models/zoo.js';
import { runOrt } from '../../targets/onnxruntime.js';
import { fillUniform } from '../../ir/random.js';
import { assertBadInput, cli } from '../cli.test.js';

/** [n, c, h, w] in NCHW -> NHWC, element by element. */
function toNhwc(a: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((b * h + y) * w + x) * c + ch] = a[((b * c + ch) * h + y) * w + x]!;
  return out;
}

const run = (op: string, params: Record<string, number>, inputs: Record<string, Float32Array>) => {
  const p = lowerWorkload(workload(op, params));
  return execute(p, inputs).Y!;
};

describe('activation layouts', () => {
  it('relayout to NHWC and back is the identity, and NHWC is the transposition', () => {
    const [n, c, h, w] = [2, 3, 4, 5];
    const x = fillUniform(n * c * h * w, 4);
    const nhwc = run('relayout', { n, c, h, w, layout: 1 }, { X: x });
    assert.deepEqual([...nhwc], [...toNhwc(x, n, c, h, w)]);
    assert.deepEqual([...run('relayout', { n, c, h, w, layout: 0 }, { X: nhwc })], [...x]);
  });

  for (const [label, params] of [
    ['dense 3x3, residual, relu6', { n: 1, c: 5, h: 7, w: 6, k: 4, kh: 3, kw: 3, pad: 1, residual: 1, act: 2 }],
    ['depthwise stride 2', { n: 2, c: 6, h: 9, w: 8, k: 6, groups: 6, kh: 3, kw: 3, stride: 2, pad: 1, act: 1 }],
    ['grouped 1x1', { n: 1, c: 8, h: 3, w: 5, k: 4, groups: 2, kh: 1, kw: 1 }],
  ] as const) {
    it(`conv2d_fused in NHWC computes the NCHW result, transposed (${label})`, () => {
      const nchw = workload('conv2d_fused', params);
      const inputs = randomInputs(lowerWorkload(nchw), 3);
      const want = execute(lowerWorkload(nchw), inputs).Y!;
      const y = lowerWorkload(nchw).buffers.find((b) => b.name === 'Y')!.shape as [number, number, number, number];
      const p = { ...params, layout: 1 };
      const x = toNhwc(inputs.X!, params.n, params.c, params.h, params.w);
      const got = run('conv2d_fused', p, { ...inputs, X: x, ...(inputs.R ? { R: toNhwc(inputs.R, ...y) } : {}) });
      assert.deepEqual([...got], [...toNhwc(want, ...y)]);
    });
  }

  it('max and average pooling in NHWC compute the NCHW result, transposed', () => {
    for (const op of ['max_pool2d', 'avg_pool2d']) {
      const params = { n: 1, c: 3, h: 7, w: 6, kh: 3, kw: 3, stride: 2, pad: 1 };
      const x = fillUniform(3 * 7 * 6, 8);
      const want = run(op, params, { X: x });
      const got = run(op, { ...params, layout: 1 }, { X: toNhwc(x, 1, 3, 7, 6) });
      assert.deepEqual([...got], [...toNhwc(want, 1, 3, 4, 3)]);
    }
  });

  it('a model imported in NHWC converts only at its edges and computes what ONNX Runtime computes', async function () {
    this.timeout(60_000);
    const m = tinyNet();
    const g = importOnnx(m.bytes, { name: 't', source: 't.onnx', layout: 'nhwc' });
    assert.deepEqual(g.layers.map((l) => l.workload.op.name).filter((o) => o === 'relayout').length, 1, 'one relayout, after the input');
    assert.equal(g.layers[0]!.workload.op.name, 'relayout');
    assert.ok(g.layers.slice(1).every((l) => l.workload.params.layout === 1));
    const x = fillUniform(3 * 20 * 20, 12);
    const want = (await runOrt(m.bytes, x, m.inputShape, { threads: 1 })).output;
    const got = executeGraph(g, x);
    const scale = Math.max(...Array.from(want, Math.abs));
    want.forEach((v, i) => assert.ok(Math.abs(v - got[i]!) <= 1e-5 * scale, `output ${i}`));
    const mb = importOnnx(mobilenetV2().bytes, { name: 'm', source: 'm.onnx', layout: 'nhwc' });
    assert.equal(mb.layers.filter((l) => l.workload.op.name === 'relayout').length, 1);
  });

  it('the CLI takes --layout by name and refuses others in one line', () => {
    const r = cli('show', 'conv2d_fused', '--n', '1', '--c', '4', '--h', '5', '--w', '5', '--k', '4', '--kh', '3', '--kw', '3', '--layout', 'nhwc');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /layout=1/);
    assertBadInput(cli('show', 'max_pool2d', '--n', '1', '--c', '4', '--h', '5', '--w', '5', '--kh', '2', '--kw', '2', '--layout', 'nchwc'), /--layout must be one of nchw, nhwc, got 'nchwc'/);
  });
});
