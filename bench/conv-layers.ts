/**
 * The conv suite: layers of the networks the seeds name (FlexTensor's YOLO list, ResNet-18/50,
 * MobileNetV2, a ShuffleNet-style grouped layer, a DCGAN-style transposed layer), batch 1, NCHW.
 * `npm run bench` measures the two `short` ones; `npm run bench:conv` the whole list.
 */
import type { Params } from '../ir/ops/index.js';

export interface ConvLayer {
  /** "YOLO C8": the network and the layer's name in it. */
  readonly label: string;
  readonly op: string;
  readonly params: Params;
  /** In `npm run bench`'s conv section too. */
  readonly short?: boolean;
  /** Also measured on the WebGPU device against TensorFlow.js. */
  readonly webgpu?: boolean;
}

const conv = (c: number, hw: number, k: number, r: number, extra: Params = {}): Params => ({ n: 1, c, h: hw, w: hw, k, kh: r, kw: r, pad: (r - 1) / 2, ...extra });

export const CONV_SUITE: readonly ConvLayer[] = [
  { label: 'ResNet-18 conv2_x', op: 'conv2d', params: conv(64, 56, 64, 3), short: true, webgpu: true },
  { label: 'ResNet-18 conv3_x', op: 'conv2d', params: conv(128, 28, 128, 3) },
  { label: 'ResNet-18 conv4_x', op: 'conv2d', params: conv(256, 14, 256, 3), webgpu: true },
  { label: 'ResNet-18 conv5_x', op: 'conv2d', params: conv(512, 7, 512, 3) },
  { label: 'ResNet-50 1x1 reduce', op: 'conv2d', params: conv(256, 56, 64, 1) },
  { label: 'ResNet-50 1x1 expand', op: 'conv2d', params: conv(64, 56, 256, 1) },
  { label: 'YOLO C1', op: 'conv2d', params: conv(3, 448, 64, 7, { stride: 2 }) },
  { label: 'YOLO C2', op: 'conv2d', params: conv(64, 112, 192, 3) },
  { label: 'YOLO C3', op: 'conv2d', params: conv(192, 56, 128, 1) },
  { label: 'YOLO C8', op: 'conv2d', params: conv(256, 28, 512, 3), short: true },
  { label: 'YOLO C15', op: 'conv2d', params: conv(1024, 7, 1024, 3) },
  { label: 'MobileNetV2 depthwise', op: 'depthwise_conv2d', params: { n: 1, c: 144, h: 56, w: 56, multiplier: 1, kh: 3, kw: 3, pad: 1 }, webgpu: true },
  { label: 'MobileNetV2 depthwise s2', op: 'depthwise_conv2d', params: { n: 1, c: 96, h: 112, w: 112, multiplier: 1, kh: 3, kw: 3, stride: 2, pad: 1 } },
  { label: 'MobileNetV2 pointwise', op: 'conv2d', params: conv(24, 56, 144, 1), webgpu: true },
  { label: 'ShuffleNet-style grouped 1x1', op: 'grouped_conv2d', params: conv(1024, 14, 512, 1, { groups: 4 }) },
  { label: 'DCGAN-style transposed', op: 'conv2d_transpose', params: { n: 1, c: 256, h: 14, w: 14, k: 128, kh: 4, kw: 4, stride: 2, pad: 1 } },
];

/** The row of a layer tuned with prepack=1 (its weights constant, packed at load): compared with oneDNN at its best only. */
export const PREPACKED_ROW = 'loopsmith tuned, weights packed at load';
