/** The generated models are the architectures they claim to be, and ONNX Runtime runs them to sane outputs. */
import assert from 'node:assert/strict';
import { onnx, OnnxBuilder } from '../../bench/models/onnx-builder.js';
import { rng } from '../../ir/random.js';
import { mobilenetV2, resnet18, tinyNet, unsupportedNet, ZooModel } from '../../bench/models/zoo.js';
import { runOrt } from '../../targets/onnxruntime.js';

function opCounts(bytes: Uint8Array): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of onnx.ModelProto.decode(bytes).graph!.node!) counts[n.opType!] = (counts[n.opType!] ?? 0) + 1;
  return counts;
}

/** A seeded input in [-1, 1) of the model's input shape. */
function inputFor(m: ZooModel): Float32Array {
  const r = rng(99);
  return new Float32Array(m.inputShape.reduce((p, d) => p * d, 1)).map(() => 2 * r() - 1);
}

function stdOf(a: Float32Array): number {
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
}

describe('onnx: generated models', function () {
  this.timeout(60_000);

  it('tinyNet uses every node kind, and ORT runs it to a finite, non-constant [1, 10]', async () => {
    const m = tinyNet();
    assert.deepEqual(m.inputShape, [1, 3, 20, 20]);
    assert.deepEqual(m.outputShape, [1, 10]);
    assert.ok(m.bytes.length < 16_000, `${m.bytes.length} bytes`);
    assert.deepEqual(Object.keys(opCounts(m.bytes)).sort(),
      ['Add', 'BatchNormalization', 'Clip', 'Conv', 'Flatten', 'Gemm', 'GlobalAveragePool', 'MaxPool', 'Relu']);
    const r = await runOrt(m.bytes, inputFor(m), m.inputShape, { threads: 1 });
    assert.deepEqual(r.shape, [1, 10]);
    assert.equal(r.output.length, 10);
    assert.ok(r.output.every(Number.isFinite), `finite: ${r.output}`);
    assert.ok(r.output.some((v) => v !== r.output[0]), `not all equal: ${r.output}`);
  });

  it('the same seed gives the same bytes, another seed other weights', () => {
    assert.deepEqual(tinyNet(5).bytes, tinyNet(5).bytes);
    assert.notDeepEqual(tinyNet(5).bytes, tinyNet(6).bytes);
  });

  it('resnet18 is torchvision\'s ResNet-18: node counts per op type, opset 13, IR 8, shapes', () => {
    const m = resnet18();
    const model = onnx.ModelProto.decode(m.bytes);
    assert.equal(Number(model.irVersion), 8);
    assert.deepEqual(model.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 13]]);
    // conv1 + 8 BasicBlocks x 2 + 3 downsamples = 20 Conv, each followed by BN; Relu: stem + 2 per block.
    assert.deepEqual(opCounts(m.bytes), {
      Conv: 20, BatchNormalization: 20, Relu: 17, Add: 8, MaxPool: 1, GlobalAveragePool: 1, Flatten: 1, Gemm: 1,
    });
    const names = model.graph!.node!.map((n) => n.name!);
    assert.equal(new Set(names).size, names.length, 'node names are unique');
    assert.ok(names.includes('layer2.0.downsample.0') && names.includes('layer4.1.conv2'), names.join(' '));
    assert.deepEqual(m.inputShape, [1, 3, 224, 224]);
    assert.deepEqual(m.outputShape, [1, 1000]);
    // torchvision's 11,689,512 parameters plus the BN running mean and variance (2 x 4,800 channels).
    const weights = model.graph!.initializer!.reduce((s, t) => s + t.dims!.reduce((p: number, d) => p * Number(d), 1), 0);
    assert.equal(weights, 11_689_512 + 9_600);
  });

  it('mobilenetV2 is torchvision\'s MobileNetV2: node counts per op type and shapes', () => {
    const m = mobilenetV2();
    // Conv: stem + (dw + project) for t=1 + 3 x 16 blocks + the last 1x1 = 52. Clip: stem + 1 + 2 x 16 + last = 35.
    // Add: blocks with stride 1 and in == out channels: 1 + 2 + 3 + 2 + 2 = 10.
    assert.deepEqual(opCounts(m.bytes), {
      Conv: 52, BatchNormalization: 52, Clip: 35, Add: 10, GlobalAveragePool: 1, Flatten: 1, Gemm: 1,
    });
    const depthwise = onnx.ModelProto.decode(m.bytes).graph!.node!.filter((n) => n.opType === 'Conv' && Number(n.attribute!.find((a) => a.name === 'group')!.i) > 1);
    assert.equal(depthwise.length, 17, 'one depthwise conv per inverted residual block');
    assert.deepEqual(m.outputShape, [1, 1000]);
  });

  it('ORT runs resnet18 on 1 thread to a [1, 1000] output of sane spread (the weight scaling works)', async () => {
    const m = resnet18();
    const r = await runOrt(m.bytes, inputFor(m), m.inputShape, { threads: 1 });
    assert.deepEqual(r.shape, [1, 1000]);
    assert.ok(r.output.every(Number.isFinite), 'finite');
    // Input std ~0.58; each residual sum roughly doubles the variance, so ~80 comes out. Weights at
    // half the He scale give 0.2 (vanishing), at twice it 2e6 (exploding): both outside these bounds.
    const std = stdOf(r.output);
    assert.ok(std > 1 && std < 1e3, `std ${std}`);
  });

  it('ORT runs mobilenetV2 to a finite [1, 1000] of sane spread', async () => {
    const m = mobilenetV2();
    const r = await runOrt(m.bytes, inputFor(m), m.inputShape, { threads: 1 });
    assert.deepEqual(r.shape, [1, 1000]);
    assert.ok(r.output.every(Number.isFinite), 'finite');
    // ~3 comes out; half the He scale gives 0.08 (ReLU6 caps the other way, so only a floor here).
    const std = stdOf(r.output);
    assert.ok(std > 0.5 && std < 100, `std ${std}`);
  });

  it('unsupportedNet ends in a Softmax, which ORT runs to probabilities', async () => {
    const m = unsupportedNet();
    assert.equal(opCounts(m.bytes).Softmax, 1);
    const r = await runOrt(m.bytes, inputFor(m), m.inputShape, { threads: 1 });
    assert.deepEqual(r.shape, m.outputShape);
    assert.ok(Math.abs(r.output.reduce((s, v) => s + v, 0) - 1) < 1e-5, `${r.output}`);
  });

  it('the builder tracks shapes and refuses inconsistent graphs', () => {
    const b = new OnnxBuilder('t', [1, 4, 9, 9]);
    const c = b.conv(b.input, { outChannels: 6, kernel: [3, 3], stride: 2, pad: 1 }, 'c');
    assert.deepEqual(b.shapeOf(c), [1, 6, 5, 5]);
    assert.deepEqual(b.shapeOf('c.weight'), [6, 4, 3, 3]);
    assert.deepEqual(b.shapeOf(b.maxPool(c, { kernel: 3, stride: 2, pad: 1 })), [1, 6, 3, 3]);
    assert.throws(() => b.conv(c, { outChannels: 4, kernel: [1, 1], groups: 4 }), /not divisible by groups=4/);
    assert.throws(() => b.add(b.input, c), /Add of input \[1,4,9,9\] and c \[1,6,5,5\]/);
    assert.throws(() => b.relu(c, 'c'), /name c is taken/);
    assert.throws(() => b.toBytes(), /no output/);
  });
});
