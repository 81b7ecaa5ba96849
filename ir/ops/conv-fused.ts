import { Expr, add, f32, max, min, relu } from '../expr.js';
import { at, placeholder } from '../te.js';
import { ConvEpilogue, ConvShape, buildConv, checkConv, convFlops, convOutput, convParams, convShape } from './conv.js';
import { OpSpec, Params, flag } from './spec.js';
import { channelExpr, inputLayoutOf, layoutIndex, layoutOf, layoutParam, layoutShape, xlayoutParam } from './layout.js';

/**
 * A 2-d convolution with the epilogue a network puts after it, fused as frameworks fuse it: a
 * per-channel bias (where a folded BatchNormalization lands), a residual tensor of the output's
 * shape added (ResNet's and MobileNetV2's skip connections), then an activation. One kernel
 * instead of three passes over the output; the model importer (ir/onnx) maps
 * Conv [+BatchNormalization] [+Add] [+Relu | Clip(0, 6)] to it.
 */
export const ACTIVATIONS = ['none', 'relu', 'relu6'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export interface FusedConv {
  readonly shape: ConvShape;
  readonly bias: boolean;
  readonly residual: boolean;
  readonly act: Activation;
}

export function fusedConv(p: Params): FusedConv {
  return { shape: convShape(2, p), bias: p.bias === 1, residual: p.residual === 1, act: ACTIVATIONS[p.act ?? 0]! };
}

export function activate(act: Activation, v: Expr): Expr {
  if (act === 'relu') return relu(v);
  if (act === 'relu6') return min(max(v, f32(0)), f32(6));
  return v;
}

function epilogue(f: FusedConv) {
  return (s: ConvShape): ConvEpilogue => {
    const bias = placeholder('bias', [s.k], 'f32', s.prepack);
    const [oh, ow] = convOutput(s) as [number, number];
    const R = placeholder('R', layoutShape(s.layout, s.n, s.k, oh, ow));
    return {
      inputs: [...(f.bias ? [bias] : []), ...(f.residual ? [R] : [])],
      apply: (acc, n, k, ...o) => {
        let v = acc;
        if (f.bias) v = add(v, at(bias, channelExpr(k)));
        if (f.residual) v = add(v, at(R, ...layoutIndex(s.layout, n, k, o[0]!, o[1]!)));
        return activate(f.act, v);
      },
    };
  };
}

/** Multiply-adds, plus one operation per output element for each epilogue step. */
function flops(p: Params): number {
  const f = fusedConv(p);
  const outputs = f.shape.n * f.shape.k * convOutput(f.shape).reduce((a, b) => a * b, 1);
  const steps = (f.bias ? 1 : 0) + (f.residual ? 1 : 0) + (f.act === 'none' ? 0 : 1);
  return convFlops(f.shape, false) + steps * outputs;
}

export const conv2dFused: OpSpec = {
  name: 'conv2d_fused',
  summary: 'act(conv2d(X, W) + bias[k] + R[n,k,oh,ow]): conv2d (any groups) with its epilogue fused; --bias, --residual, --act 0 none | 1 relu | 2 relu6',
  family: 'conv',
  params: [
    ...convParams(2),
    flag('bias', 'add bias[k] (1, the default) or not (0)'), flag('residual', 'add a tensor R of the output\'s shape (a skip connection)'),
    { name: 'act', doc: 'activation after the sums: 0 none, 1 relu, 2 relu6 (clip to [0, 6])', min: 0, default: 0, choices: [0, 1, 2], choiceNames: ACTIVATIONS },
    layoutParam('X, Y and R'), xlayoutParam,
  ].map((q) => (q.name === 'bias' ? { ...q, default: 1 } : q)),
  check: (p) => (p.xlayout && inputLayoutOf(p) === layoutOf(p) ? `xlayout ${layoutOf(p)} is the output's layout too: leave xlayout out` : checkConv(convShape(2, p), false)),
  build: (p) => {
    const f = fusedConv(p);
    return buildConv(f.shape, { transposed: false, ...(f.bias || f.residual || f.act !== 'none' ? { epilogue: epilogue(f) } : {}) });
  },
  flops,
  example: { n: 1, c: 4, h: 7, w: 6, k: 6, kh: 3, kw: 2, stride: 2, pad: 1, dilation: 1, groups: 2, bias: 1, residual: 1, act: 2 },
};
