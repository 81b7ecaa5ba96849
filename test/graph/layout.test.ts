/** Activation layouts: relayouts round-trip, every operator in every layout computes its NCHW self, a model chain converts only where it must. */
import assert from 'node:assert/strict';
import { execute, randomInputs } from '../../ir/execute.js';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { LAYOUTS, Layout } from '../../ir/ops/layout.js';
import { importOnnx } from '../../ir/onnx/import.js';
import { autoLayout } from '../../ir/onnx/auto-layout.js';
import { executeGraph } from '../../ir/graph/execute.js';
import { mobilenetV2, narrowNet, resnet18, tinyNet } from '../../bench/models/zoo.js';
import { runOrt } from '../../targets/onnxruntime.js';
import { fillUniform } from '../../ir/random.js';
import { assertBadInput, cli } from '../cli.test.js';

/**
 * [n, c, h, w] in NCHW -> `layout`, element by element: where element (b, ch, y, x) lands, written
 * out for each layout here rather than taken from ir/ops/layout.ts.
 */
function toLayout(a: Float32Array, layout: Layout, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(a.length);
  const blk = layout === 'nchw8c' ? 8 : layout === 'nchw16c' ? 16 : 0;
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const at = layout === 'nhwc' ? ((b * h + y) * w + x) * c + ch
      : blk ? ((((b * (c / blk) + Math.floor(ch / blk)) * h + y) * w + x) * blk) + (ch % blk)
      : ((b * c + ch) * h + y) * w + x;
    out[at] = a[((b * c + ch) * h + y) * w + x]!;
  }
  return out;
}
const layoutNo = (l: Layout) => LAYOUTS.indexOf(l);

function assertClose(got: Float32Array, want: Float32Array, what = ''): void {
  const scale = Math.max(...Array.from(want, Math.abs));
  want.forEach((v, i) => assert.ok(Math.abs(v - got[i]!) <= 1e-5 * scale, `${what} output ${i}: ${got[i]} vs ${v}`));
}
const run = (op: string, params: Record<string, number>, inputs: Record<string, Float32Array>) => {
  const p = lowerWorkload(workload(op, params));
  return execute(p, inputs).Y!;
};

describe('activation layouts', () => {
  it('relayouts between every pair of layouts are the element maps, and chain back to the identity', () => {
    const [n, c, h, w] = [2, 16, 3, 5];
    const x = fillUniform(n * c * h * w, 4);
    for (const from of LAYOUTS) for (const to of LAYOUTS) {
      if (from === to) continue;
      const got = run('relayout', { n, c, h, w, layout: layoutNo(to), from: layoutNo(from) }, { X: toLayout(x, from, n, c, h, w) });
      assert.deepEqual([...got], [...toLayout(x, to, n, c, h, w)], `${from} -> ${to}`);
    }
  });

  // Channels chosen so every layout fits, and each blocked path is taken: a dense reduction split
  // by the block, a depthwise layer read at its own channel, grouped layers whose groups fill
  // whole blocks (split) and do not (read through c / x, c % x).
  for (const [label, params] of [
    ['dense 3x3, residual, relu6', { n: 1, c: 16, h: 7, w: 6, k: 32, kh: 3, kw: 3, pad: 1, residual: 1, act: 2 }],
    ['depthwise stride 2', { n: 2, c: 16, h: 9, w: 8, k: 16, groups: 16, kh: 3, kw: 3, stride: 2, pad: 1, act: 1 }],
    ['grouped 1x1, 16 channels per group', { n: 1, c: 32, h: 3, w: 5, k: 32, groups: 2, kh: 1, kw: 1 }],
    ['grouped 3x3, 4 channels per group', { n: 1, c: 16, h: 5, w: 4, k: 16, groups: 4, kh: 3, kw: 3, pad: 1 }],
  ] as const) {
    it(`conv2d_fused in every layout computes the NCHW result, relaid (${label})`, () => {
      const nchw = workload('conv2d_fused', params);
      const inputs = randomInputs(lowerWorkload(nchw), 3);
      const want = execute(lowerWorkload(nchw), inputs).Y!;
      const y = lowerWorkload(nchw).buffers.find((b) => b.name === 'Y')!.shape as [number, number, number, number];
      for (const layout of LAYOUTS.slice(1)) {
        const x = toLayout(inputs.X!, layout, params.n, params.c, params.h, params.w);
        const got = run('conv2d_fused', { ...params, layout: layoutNo(layout) }, { ...inputs, X: x, ...(inputs.R ? { R: toLayout(inputs.R, layout, ...y) } : {}) });
        assert.deepEqual([...got], [...toLayout(want, layout, ...y)], layout);
      }
    });
  }

  it('a dense conv2d_fused reads X in one layout and writes Y (and R) in another (xlayout), every pair', () => {
    const params = { n: 1, c: 3, h: 7, w: 6, k: 16, kh: 3, kw: 3, stride: 2, pad: 1, residual: 1, act: 1 };
    const nchw = workload('conv2d_fused', params);
    const inputs = randomInputs(lowerWorkload(nchw), 5);
    const want = execute(lowerWorkload(nchw), inputs).Y!;
    const y = lowerWorkload(nchw).buffers.find((b) => b.name === 'Y')!.shape as [number, number, number, number];
    let pairs = 0;
    for (const from of LAYOUTS) for (const layout of LAYOUTS) {
      if (from === layout) continue;
      const c = from.endsWith('c') ? 16 : params.c; // a blocked input needs whole blocks
      const p = { ...params, c, layout: layoutNo(layout), xlayout: layoutNo(from) + 1 };
      const base = workload('conv2d_fused', { ...params, c });
      const ins = c === params.c ? inputs : randomInputs(lowerWorkload(base), 5);
      const expect = c === params.c ? want : execute(lowerWorkload(base), ins).Y!;
      const got = run('conv2d_fused', p, { ...ins, X: toLayout(ins.X!, from, 1, c, 7, 6), R: toLayout(ins.R!, layout, ...y) });
      assert.deepEqual([...got], [...toLayout(expect, layout, ...y)], `${from} -> ${layout}`);
      pairs++;
    }
    assert.equal(pairs, 12);
    assert.throws(() => workload('conv2d_fused', { ...params, c: 16, groups: 16, k: 16, layout: 3, xlayout: 1 }), /takes groups=1/);
    assert.throws(() => workload('conv2d_fused', { ...params, layout: 3 }), /or keep X in its own layout: xlayout nchw/);
  });

  it('max and average pooling in every layout compute the NCHW result, relaid', () => {
    for (const op of ['max_pool2d', 'avg_pool2d']) {
      const params = { n: 1, c: 16, h: 7, w: 6, kh: 3, kw: 3, stride: 2, pad: 1 };
      const x = fillUniform(16 * 7 * 6, 8);
      const want = run(op, params, { X: x });
      for (const layout of LAYOUTS.slice(1)) {
        const got = run(op, { ...params, layout: layoutNo(layout) }, { X: toLayout(x, layout, 1, 16, 7, 6) });
        assert.deepEqual([...got], [...toLayout(want, layout, 1, 16, 4, 3)], `${op} ${layout}`);
      }
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
    assertClose(executeGraph(g, x), want);
    const mb = importOnnx(mobilenetV2().bytes, { name: 'm', source: 'm.onnx', layout: 'nhwc' });
    assert.equal(mb.layers.filter((l) => l.workload.op.name === 'relayout').length, 1);
  });

  it('in blocked layouts a conv that cannot fill the blocks falls back (a smaller block, else NCHW), relayouts join the chain, and the model computes what ONNX Runtime computes', async function () {
    this.timeout(60_000);
    const m = tinyNet();
    const x = fillUniform(3 * 20 * 20, 12);
    const want = (await runOrt(m.bytes, x, m.inputShape, { threads: 1 })).output;
    for (const layout of ['nchw8c', 'nchw16c'] as const) {
      const g = importOnnx(m.bytes, { name: 't', source: 't.onnx', layout });
      const convs = g.layers.filter((l) => l.workload.op.name === 'conv2d_fused').map((l) => LAYOUTS[l.workload.params.layout ?? 0]);
      // stem 3 -> 8 channels (reads the NCHW image, writes blocks of 8); down 8 -> 16; dw, pw, mix
      // 16; fc 16 -> 10 on one pixel.
      assert.deepEqual(convs, layout === 'nchw8c' ? ['nchw8c', 'nchw8c', 'nchw8c', 'nchw8c', 'nchw8c', 'nchw']
        : ['nchw8c', 'nchw8c', 'nchw16c', 'nchw16c', 'nchw16c', 'nchw'], layout);
      assert.equal(g.layers[0]!.workload.params.xlayout, 1, 'the stem reads X in NCHW');
      assertClose(executeGraph(g, x), want, layout);
    }
    // ResNet-18 in nchw16c: the 3-channel stem reads the NCHW image and writes nchw16c, its pool
    // stays there; no relayout, none at the end either (the pooled 1x1 pixel is the same bytes in
    // every layout).
    const r = autoLayout(resnet18().bytes, { name: 'r', source: 'r.onnx' }, 16);
    assert.equal(r.layout, 'nchw16c', 'auto on 16 lanes: ResNet-18 fills blocks of 16');
    assert.deepEqual(r.graph.layers.filter((l) => l.workload.op.name === 'relayout'), []);
    assert.deepEqual([0, 1].map((i) => [r.graph.layers[i]!.workload.op.name, r.graph.layers[i]!.workload.params.layout, r.graph.layers[i]!.workload.params.xlayout]),
      [['conv2d_fused', 3, 1], ['max_pool2d', 3, undefined]]);
    const mobile = mobilenetV2().bytes;
    const mb8 = autoLayout(mobile, { name: 'm', source: 'm.onnx' }, 8);
    assert.equal(mb8.layout, 'nchw8c', 'AVX2: MobileNetV2 fits blocks of 8 after its stem');
    assert.equal(mb8.graph.layers.filter((l) => l.workload.op.name === 'relayout').length, 0);
    assert.equal(autoLayout(m.bytes, { name: 't', source: 't.onnx' }, 16).layout, 'nchw', 'tinyNet in blocks of 16 falls back to 8 midway');
    assert.equal(autoLayout(m.bytes, { name: 't', source: 't.onnx' }, 8).layout, 'nchw8c');
    assert.equal(autoLayout(m.bytes, { name: 't', source: 't.onnx' }, 4).layout, 'nchw', 'no block fits 4 lanes');
  });

  it('in a blocked layout, channels that fill no block are padded with zeros where every reader can take them, and the model computes what ONNX Runtime computes', async function () {
    this.timeout(60_000);
    const m = narrowNet();
    const x = fillUniform(3 * 12 * 12, 5);
    const want = (await runOrt(m.bytes, x, m.inputShape, { threads: 1 })).output;
    const g = importOnnx(m.bytes, { name: 'n', source: 'n.onnx', layout: 'nchw16c' });
    const convs = g.layers.filter((l) => l.workload.op.name === 'conv2d_fused').map((l) => `${l.workload.params.c}>${l.workload.params.k} ${LAYOUTS[l.workload.params.layout ?? 0]}`);
    // The bottleneck's 24 channels become 32 (proj1, expand reads, proj2 + the Add); the head's 24
    // reach the pool and the Gemm, so they stay 24, in blocks of 8.
    assert.deepEqual(convs, ['3>16 nchw16c', '16>32 nchw16c', '32>48 nchw16c', '48>48 nchw16c', '48>32 nchw16c', '32>24 nchw8c', '24>10 nchw']);
    assert.equal(g.constants.get('proj1.conv.W')!.shape.join(), '32,16,1,1');
    assert.equal(g.constants.get('expand.conv.W')!.shape.join(), '48,32,1,1');
    assertClose(executeGraph(g, x), want, 'padded');
    const unpadded = importOnnx(m.bytes, { name: 'n', source: 'n.onnx', layout: 'nchw16c', padChannels: false });
    assert.ok(unpadded.layers.some((l) => l.workload.params.k === 24 && l.workload.params.layout === 2), 'without padding the 24-channel convs fall back to blocks of 8');
    assertClose(executeGraph(unpadded, x), want, 'unpadded');
    // MobileNetV2's 24-channel bottlenecks pad to 32, so the whole chain stays in blocks of 16.
    const mb = autoLayout(mobilenetV2().bytes, { name: 'm', source: 'm.onnx' }, 16);
    assert.equal(mb.layout, 'nchw16c');
    assert.equal(mb.graph.layers.filter((l) => l.workload.op.name === 'relayout').length, 0, 'the stem writes nchw16c');
  });

  it('the CLI takes --layout by name and refuses others in one line', () => {
    const r = cli('show', 'conv2d_fused', '--n', '1', '--c', '4', '--h', '5', '--w', '5', '--k', '4', '--kh', '3', '--kw', '3', '--layout', 'nhwc');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /layout=1/);
    assertBadInput(cli('show', 'max_pool2d', '--n', '1', '--c', '4', '--h', '5', '--w', '5', '--kh', '2', '--kw', '2', '--layout', 'nchwc'), /--layout must be one of nchw, nhwc, nchw8c, nchw16c, got 'nchwc'/);
    assertBadInput(cli('show', 'conv2d_fused', '--n', '1', '--c', '24', '--h', '5', '--w', '5', '--k', '32', '--kh', '3', '--kw', '3', '--layout', 'nchw16c'), /layout nchw16c stores channels in blocks of 16: c=24 does not divide by 16 \(take nchw, nhwc or nchw8c\)/);
  });
});
