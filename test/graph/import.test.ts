/** ONNX import: what the fused layers are, that they compute what ONNX Runtime computes, and one line for what cannot be imported. */
import assert from 'node:assert/strict';
import { importOnnx } from '../../ir/onnx/import.js';
import { executeGraph } from '../../ir/graph/execute.js';
import { graphTasks } from '../../ir/graph/graph.js';
import { InputError } from '../../ir/errors.js';
import { OnnxBuilder } from '../../bench/models/onnx-builder.js';
import { mobilenetV2, resnet18, tinyNet, unsupportedNet } from '../../bench/models/zoo.js';
import { runOrt } from '../../targets/onnxruntime.js';
import { fillUniform } from '../../ir/random.js';

const maxRelError = (got: Float32Array, want: Float32Array) => {
  const scale = Math.max(...Array.from(want, Math.abs));
  return Math.max(...Array.from(want, (v, i) => Math.abs(v - got[i]!) / scale));
};

describe('onnx import', function () {
  this.timeout(60_000);

  it('fuses tinyNet into conv2d_fused layers: BatchNormalization folded, Add and Relu/Clip in the epilogue', () => {
    const g = importOnnx(tinyNet().bytes, { name: 'tiny', source: 'tiny.onnx' });
    const ops = g.layers.map((l) => l.workload.op.name);
    assert.deepEqual(ops, ['conv2d_fused', 'max_pool2d', 'conv2d_fused', 'conv2d_fused', 'conv2d_fused', 'conv2d_fused', 'avg_pool2d', 'conv2d_fused']);
    const p = g.layers.map((l) => l.workload.params);
    assert.equal(p[0]!.act, 1);
    assert.equal(p[3]!.groups, 16, 'the depthwise conv keeps its groups');
    assert.equal(p[3]!.act, 2, 'Clip(0, 6) is relu6');
    assert.equal(p[4]!.residual, 1);
    assert.equal(p[4]!.act, 0, 'an Add without a Relu after it');
    assert.equal(p[5]!.residual, 1);
    assert.equal(p[5]!.act, 1, 'an Add with a Relu after it');
    assert.ok(g.layers.every((l) => l.workload.op.name !== 'conv2d_fused' || (l.workload.params.prepack === 1 && l.workload.params.bias === 1)));
    assert.match(g.layers[0]!.name, /\+.*\+/, 'the layer names the nodes fused into it');
  });

  it('ResNet-18 and MobileNetV2 become 23 and 54 layers; identical shapes are one task', () => {
    const r = importOnnx(resnet18().bytes, { name: 'r', source: 'r.onnx' });
    const m = importOnnx(mobilenetV2().bytes, { name: 'm', source: 'm.onnx' });
    assert.equal(r.layers.length, 23);
    assert.equal(graphTasks(r).length, 21);
    assert.equal(m.layers.length, 54);
    assert.equal(graphTasks(m).length, 32);
    assert.equal(r.layers.filter((l) => l.workload.params.residual === 1).length, 8, 'every skip connection fused');
  });

  it('the imported graph computes what ONNX Runtime computes (tinyNet)', async () => {
    const m = tinyNet();
    const g = importOnnx(m.bytes, { name: 'tiny', source: 'tiny.onnx' });
    const x = fillUniform(3 * 20 * 20, 5);
    const want = (await runOrt(m.bytes, x, m.inputShape, { threads: 1 })).output;
    assert.ok(maxRelError(executeGraph(g, x), want) < 1e-5);
  });

  it('folds a BatchNormalization into a conv with its own bias, and reads Clip(0, inf) as relu', async () => {
    const b = new OnnxBuilder('bn', [1, 4, 6, 6], 3);
    let t = b.conv(b.input, { outChannels: 5, kernel: [3, 3], stride: 1, pad: 1, groups: 1, bias: true });
    t = b.batchNorm(t);
    t = b.relu(t);
    t = b.maxPool(t, { kernel: 2, stride: 2, pad: 0 });
    t = b.globalAveragePool(t);
    t = b.flatten(t);
    b.output(b.gemm(t, { outFeatures: 3 }), 'output');
    const bytes = b.toBytes();
    const g = importOnnx(bytes, { name: 'bn', source: 'bn.onnx' });
    assert.equal(g.layers.length, 4);
    const x = fillUniform(4 * 36, 9);
    const want = (await runOrt(bytes, x, [1, 4, 6, 6], { threads: 1 })).output;
    assert.ok(maxRelError(executeGraph(g, x), want) < 1e-5);
  });

  it('names an unsupported node in one line, with what is supported', () => {
    assert.throws(() => importOnnx(unsupportedNet().bytes, { name: 'u', source: 'u.onnx' }), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.doesNotMatch(e.message, /\n/);
      assert.match(e.message, /u\.onnx: cannot import 1 node of type Softmax \(first: '[^']+'\); loopsmith imports Conv, Gemm/);
      return true;
    });
  });

  it('refuses bytes that are not ONNX in one line', () => {
    assert.throws(() => importOnnx(new TextEncoder().encode('not a model at all'), { name: 'x', source: 'x.onnx' }), /x\.onnx is not an ONNX model/);
  });
});
