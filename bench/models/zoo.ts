/**
 * Whole models generated in the repo (no downloads): torchvision's ResNet-18 and MobileNetV2 as an
 * unfolded export has them (bias-free Conv, then BatchNormalization), a tiny model that uses every
 * node kind of those two, and a tiny model with a node a CNN importer does not support. Weights are
 * seeded random (see OnnxBuilder), so the bytes are the same on every run.
 */
import { OnnxBuilder } from './onnx-builder.js';

export interface ZooModel {
  name: string;
  bytes: Uint8Array;
  inputShape: number[];
  outputShape: number[];
}

function finish(name: string, b: OnnxBuilder, last: string): ZooModel {
  const out = b.output(last, 'output');
  return { name, bytes: b.toBytes(), inputShape: [...b.shapeOf(b.input)], outputShape: [...b.shapeOf(out)] };
}

/** Conv (no bias) + BatchNormalization, the unit both torchvision models are made of. */
function convBn(b: OnnxBuilder, x: string, name: string, bnName: string, outChannels: number, k: number, stride = 1, groups = 1): string {
  return b.batchNorm(b.conv(x, { outChannels, kernel: [k, k], stride, pad: (k - 1) >> 1, groups }, name), bnName);
}

/** torchvision resnet18: 20 Conv, 20 BatchNormalization, 17 Relu, 8 Add, MaxPool, GAP, Flatten, Gemm. */
export function resnet18(seed = 18): ZooModel {
  const b = new OnnxBuilder('resnet18', [1, 3, 224, 224], seed);
  let x = b.relu(convBn(b, b.input, 'conv1', 'bn1', 64, 7, 2), 'relu');
  x = b.maxPool(x, { kernel: 3, stride: 2, pad: 1 }, 'maxpool');
  let inC = 64;
  [64, 128, 256, 512].forEach((c, stage) => {
    for (let i = 0; i < 2; i++) {
      const p = `layer${stage + 1}.${i}`;
      const stride = stage > 0 && i === 0 ? 2 : 1;
      // BasicBlock: two 3x3 convs; the shortcut is a 1x1 strided conv where the shape changes.
      const y = b.relu(convBn(b, x, `${p}.conv1`, `${p}.bn1`, c, 3, stride), `${p}.relu`);
      const z = convBn(b, y, `${p}.conv2`, `${p}.bn2`, c, 3);
      const shortcut = stride !== 1 || inC !== c ? convBn(b, x, `${p}.downsample.0`, `${p}.downsample.1`, c, 1, stride) : x;
      x = b.relu(b.add(z, shortcut, `${p}.add`), `${p}.relu2`);
      inC = c;
    }
  });
  x = b.flatten(b.globalAveragePool(x, 'avgpool'), 'flatten');
  return finish('resnet18', b, b.gemm(x, { outFeatures: 1000 }, 'fc'));
}

/**
 * torchvision mobilenet_v2 (width 1.0): 52 Conv, 52 BatchNormalization, 35 Clip (ReLU6), 10 Add,
 * GAP, Flatten, Gemm (the classifier's Dropout is gone in an inference export).
 */
export function mobilenetV2(seed = 2): ZooModel {
  const b = new OnnxBuilder('mobilenetv2', [1, 3, 224, 224], seed);
  const convBnRelu6 = (x: string, p: string, c: number, k: number, stride = 1, groups = 1) =>
    b.clip6(convBn(b, x, `${p}.0`, `${p}.1`, c, k, stride, groups), `${p}.2`);
  let x = convBnRelu6(b.input, 'features.0', 32, 3, 2);
  let inC = 32, f = 1;
  const settings: [number, number, number, number][] = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];
  for (const [t, c, n, s] of settings) {
    for (let i = 0; i < n; i++, f++) {
      const stride = i === 0 ? s : 1;
      const p = `features.${f}.conv`;
      const hidden = inC * t;
      // Inverted residual: 1x1 expand (skipped when t = 1), 3x3 depthwise, 1x1 linear projection.
      let y = x, j = 0;
      if (t !== 1) y = convBnRelu6(y, `${p}.${j++}`, hidden, 1);
      y = convBnRelu6(y, `${p}.${j++}`, hidden, 3, stride, hidden);
      y = convBn(b, y, `${p}.${j}`, `${p}.${j + 1}`, c, 1);
      x = stride === 1 && inC === c ? b.add(x, y, `features.${f}.add`) : y;
      inC = c;
    }
  }
  x = convBnRelu6(x, `features.${f}`, 1280, 1);
  x = b.flatten(b.globalAveragePool(x, 'avgpool'), 'flatten');
  return finish('mobilenetv2', b, b.gemm(x, { outFeatures: 1000 }, 'classifier.1'));
}

/**
 * 1x3x20x20 -> 1x10 with about 1.9k float weights (8 kB), using every node kind of the two models above: Conv+BN+Relu,
 * MaxPool 3x3 s2 p1, a strided conv with a bias, a depthwise conv + BN + Clip, a residual Add without
 * and one with a following Relu, GlobalAveragePool, Flatten, Gemm. Small enough for any test.
 */
export function tinyNet(seed = 7): ZooModel {
  const b = new OnnxBuilder('tiny', [1, 3, 20, 20], seed);
  let x = b.relu(convBn(b, b.input, 'stem.conv', 'stem.bn', 8, 3), 'stem.relu'); // 8x20x20
  x = b.maxPool(x, { kernel: 3, stride: 2, pad: 1 }, 'pool'); // 8x10x10
  const a = b.relu(b.batchNorm(b.conv(x, { outChannels: 16, kernel: [3, 3], stride: 2, pad: 1, bias: true }, 'down.conv'), 'down.bn'), 'down.relu'); // 16x5x5
  const dw = b.clip6(convBn(b, a, 'dw.conv', 'dw.bn', 16, 3, 1, 16), 'dw.clip');
  const d = b.add(a, convBn(b, dw, 'pw.conv', 'pw.bn', 16, 1), 'res1.add'); // linear bottleneck: no Relu after
  const e = convBn(b, d, 'mix.conv', 'mix.bn', 16, 1);
  x = b.relu(b.add(d, e, 'res2.add'), 'res2.relu');
  x = b.flatten(b.globalAveragePool(x, 'gap'), 'flatten');
  return finish('tiny', b, b.gemm(x, { outFeatures: 10 }, 'fc'));
}

/**
 * A small inverted-residual model whose 24-channel tensors fill no block of 16 (MobileNetV2's case),
 * for channel padding: the bottleneck's 24 channels are padded to 32 in nchw16c; the head's 24 reach
 * a GlobalAveragePool and Gemm, so they keep their count (and blocks of 8).
 */
export function narrowNet(seed = 24): ZooModel {
  const b = new OnnxBuilder('narrow', [1, 3, 12, 12], seed);
  const x = b.relu(convBn(b, b.input, 'stem.conv', 'stem.bn', 16, 3), 'stem.relu'); // 16x12x12
  const p = convBn(b, x, 'proj1.conv', 'proj1.bn', 24, 1); // 24: linear bottleneck
  let e = b.clip6(convBn(b, p, 'expand.conv', 'expand.bn', 48, 1), 'expand.clip');
  e = b.clip6(convBn(b, e, 'dw.conv', 'dw.bn', 48, 3, 1, 48), 'dw.clip');
  const q = b.add(p, convBn(b, e, 'proj2.conv', 'proj2.bn', 24, 1), 'res.add'); // 24
  const h = b.relu(convBn(b, q, 'head.conv', 'head.bn', 24, 3, 2), 'head.relu'); // 24x6x6, to the pool
  return finish('narrow', b, b.gemm(b.flatten(b.globalAveragePool(h, 'gap'), 'flatten'), { outFeatures: 10 }, 'fc'));
}

/** A tiny classifier ending in Softmax: a node kind a CNN importer is expected to reject by name. */
export function unsupportedNet(seed = 3): ZooModel {
  const b = new OnnxBuilder('unsupported', [1, 3, 8, 8], seed);
  let x = b.relu(convBn(b, b.input, 'conv', 'bn', 4, 3), 'relu');
  x = b.gemm(b.flatten(b.globalAveragePool(x, 'gap'), 'flatten'), { outFeatures: 5 }, 'fc');
  return finish('unsupported', b, b.unary('Softmax', x, { axis: 1 }, 'softmax'));
}

/** The generated models by name (built on demand: ResNet-18's 11.7M weights take a moment). */
export const ZOO: Record<string, () => ZooModel> = {
  resnet18: () => resnet18(),
  mobilenetv2: () => mobilenetV2(),
  tiny: () => tinyNet(),
};
