import {
  Expr, add, allOf, and, div, eq, f32, ge, int, lt, mod, mul, relu, select, sub, variable,
} from '../expr.js';
import { Compute, Placeholder, at, compute, placeholder, reduceAxis } from '../te.js';
import { OpSpec, ParamSpec, Params, offset, prepack, size } from './spec.js';
import {
  BlockedChannel, Layout, blockOf, blocked, channelExpr, inputLayoutOf, isBlockedChannel, layoutAxes, layoutIndex, layoutMisfit, layoutOf, layoutShape,
} from './layout.js';

/** Spatial dimension names by rank: 1-d convolutions run along w, 3-d ones add depth d. */
const SPATIAL: Record<1 | 2 | 3, readonly string[]> = { 1: ['w'], 2: ['h', 'w'], 3: ['d', 'h', 'w'] };
export type Rank = 1 | 2 | 3;

export interface ConvShape {
  rank: Rank;
  n: number; c: number; k: number;
  spatial: number[]; kernel: number[];
  stride: number; pad: number; dilation: number; groups: number;
  /** Weights (and bias) constant: see `prepack` in spec.ts. */
  prepack: boolean;
  /** Of Y (and a residual), and of X unless inLayout says otherwise: 2-d convolutions may take NHWC or blocked layouts (layout.ts). */
  layout: Layout;
  /** Of X: the output's unless a conv2d_fused sets xlayout. */
  inLayout: Layout;
}

export function convShape(rank: Rank, p: Params): ConvShape {
  const dims = SPATIAL[rank];
  return {
    rank, n: p.n!, c: p.c!, k: p.k!,
    spatial: dims.map((d) => p[d]!), kernel: dims.map((d) => p[`k${d}`]!),
    stride: p.stride!, pad: p.pad!, dilation: p.dilation!, groups: p.groups ?? 1, prepack: p.prepack === 1, layout: layoutOf(p), inLayout: inputLayoutOf(p),
  };
}

export function convOutput(s: ConvShape): number[] {
  return s.spatial.map((x, i) => Math.floor((x + 2 * s.pad - s.dilation * (s.kernel[i]! - 1) - 1) / s.stride) + 1);
}

export function convTransposeOutput(s: ConvShape): number[] {
  return s.spatial.map((x, i) => (x - 1) * s.stride - 2 * s.pad + s.dilation * (s.kernel[i]! - 1) + 1);
}

export function convParams(rank: Rank, defaults: { dilation?: number; groups?: number | null } = {}): ParamSpec[] {
  const dims = SPATIAL[rank];
  const out: ParamSpec[] = [
    size('n', 'batch'), size('c', 'input channels'),
    ...dims.map((d) => size(d, `input ${d === 'd' ? 'depth' : d === 'h' ? 'height' : 'width'}`)),
    size('k', 'output channels'),
    ...dims.map((d) => size(`k${d}`, `kernel ${d === 'd' ? 'depth' : d === 'h' ? 'height' : 'width'}`)),
    size('stride', 'stride along every spatial axis', 1),
    offset('pad', 'zero padding on each side of every spatial axis'),
    size('dilation', 'kernel dilation', defaults.dilation ?? 1),
  ];
  if (defaults.groups !== null) out.push(size('groups', 'channel groups (c and k must both divide by it)', defaults.groups ?? 1));
  out.push(prepack('W'));
  return out;
}

function spatialVars(rank: Rank, prefix: string): string[] {
  return SPATIAL[rank].map((d) => `${prefix}${d}`);
}

/** Input position `o*stride - pad + r*dilation`, in bounds or padding. */
export function checkConv(s: ConvShape, transposed: boolean): string | undefined {
  if (s.c % s.groups !== 0) return `input channels c=${s.c} are not divisible by groups=${s.groups}`;
  if (s.k % s.groups !== 0) return `output channels k=${s.k} are not divisible by groups=${s.groups}`;
  const misfit = layoutsMisfit(s);
  if (misfit) return misfit;
  const out = transposed ? convTransposeOutput(s) : convOutput(s);
  const bad = out.findIndex((o) => o < 1);
  if (bad >= 0) {
    const d = SPATIAL[s.rank][bad]!;
    return `output ${d} would be ${out[bad]}: kernel k${d}=${s.kernel[bad]} with dilation ${s.dilation} does not fit input ${d}=${s.spatial[bad]} with pad ${s.pad}`;
  }
  return undefined;
}

/** Why the conv's channels cannot be stored in its layouts (X's c in inLayout, Y's k in layout), or undefined. */
function layoutsMisfit(s: ConvShape): string | undefined {
  if (s.inLayout === s.layout) {
    const m = layoutMisfit(s.layout, { c: s.c, k: s.k });
    // Only the input's channels misfit (a 3-channel stem): it may stay in a layout of its own.
    return m && s.groups === 1 && !layoutMisfit(s.layout, { k: s.k }) ? `${m}, or keep X in its own layout: xlayout nchw` : m;
  }
  if (s.groups !== 1) return `a conv that reads X in ${s.inLayout} and writes Y in ${s.layout} takes groups=1, not ${s.groups} (leave xlayout out)`;
  return layoutMisfit(s.inLayout, { c: s.c }) ?? layoutMisfit(s.layout, { k: s.k });
}

/** What follows the reduction in place: extra inputs it reads and the value it stores. */
export interface ConvEpilogue {
  readonly inputs: readonly Placeholder[];
  readonly apply: (acc: Expr, n: Expr, k: Expr | BlockedChannel, ...o: Expr[]) => Expr;
}

export interface ConvOptions { transposed: boolean; biasRelu?: boolean; epilogue?: (s: ConvShape) => ConvEpilogue }

/**
 * Y[n, k, o...] = sum over (input channel of k's group, kernel offsets) of X * W, NC(D)HW layout.
 * Weights are [k, c/groups, kernel...] for convolution, [c, k/groups, kernel...] for transposed
 * convolution (PyTorch's layouts). The transposed form is written as a gather: an output position
 * takes input position (o + pad - r*dilation)/stride where that divides exactly and is in range.
 */
export function buildConv(s: ConvShape, opts: ConvOptions): Compute {
  const { rank } = s;
  const cpg = s.c / s.groups, kpg = s.k / s.groups;
  const out = opts.transposed ? convTransposeOutput(s) : convOutput(s);
  if ((s.layout !== 'nchw' || s.inLayout !== 'nchw') && (rank !== 2 || opts.transposed)) throw new Error(`layout ${s.layout} is for 2-d convolutions`);
  const b = blockOf(s.layout);
  const misfit = layoutsMisfit(s);
  if (misfit) throw new Error(misfit);
  // Blocked layouts split the reduction over input channels by the block where a group's channels
  // fill whole blocks: the input is then read as X[.., rco, .., rci], affine in both parts.
  const splitRc = b !== undefined && blockOf(s.inLayout) === b && cpg % b === 0 && kpg % b === 0;
  const plain = s.layout === 'nchw', inPlain = s.inLayout === 'nchw';
  const X = placeholder('X', inPlain ? [s.n, s.c, ...s.spatial] : layoutShape(s.inLayout, s.n, s.c, s.spatial[0]!, s.spatial[1]!));
  // Blocked: the weights' [k][c/g] dimensions seen as [k/b][b][c/g/b][b] (or [k/b][b][c/g]), the
  // same bytes as OIHW, so every weight index is one loop variable.
  const wDims = b === undefined ? [s.k, cpg] : splitRc ? [s.k / b, b, cpg / b, b] : [s.k / b, b, cpg];
  const W = placeholder('W', opts.transposed ? [s.c, kpg, ...s.kernel] : [...wDims, ...s.kernel], 'f32', s.prepack);
  const bias = placeholder('bias', [s.k], 'f32', s.prepack);
  const epi: ConvEpilogue | undefined = opts.epilogue?.(s)
    ?? (opts.biasRelu ? { inputs: [bias], apply: (acc, _n, k) => relu(add(acc, at(bias, channelExpr(k)))) } : undefined);
  const rdims = spatialVars(rank, 'r');
  const rcAxes = splitRc ? [reduceAxis('rco', cpg / b!), reduceAxis('rci', b!)] : [reduceAxis('rc', cpg)];
  const reduce = [...rcAxes, ...rdims.map((r, i) => reduceAxis(r, s.kernel[i]!))];
  const rc = variable('rc');
  const rv = rdims.map((r) => variable(r));
  const ovNames = spatialVars(rank, 'o');
  // The output's axes in memory order; the body and the epilogue see them as (n, k, o...).
  const axes = plain ? undefined : layoutAxes(s.layout, ['n', 'k', ovNames[0]!, ovNames[1]!]);
  const canonical = (...a: Expr[]): [Expr, Expr | BlockedChannel, ...Expr[]] => (axes ? axes.nchw(...a) : a as [Expr, Expr, ...Expr[]]);
  return compute({
    name: 'Y',
    shape: plain ? [s.n, s.k, ...out] : layoutShape(s.layout, s.n, s.k, out[0]!, out[1]!),
    axisNames: axes ? axes.names : ['n', 'k', ...ovNames],
    inputs: [X, W, ...(epi?.inputs ?? [])],
    body: (...memory) => {
      const [n, kc, ...o] = canonical(...memory);
      const k = channelExpr(kc);
      const ci = inputChannel(s, kc, k, rc, splitRc);
      const conds: Expr[] = [];
      const pos = o.map((ov, i) => {
        if (!opts.transposed) {
          const p = addOff(add(scale(ov, s.stride), scale(rv[i]!, s.dilation)), -s.pad);
          conds.push(and(ge(p, int(0)), lt(p, int(s.spatial[i]!))));
          return p;
        }
        const t = sub(addOff(ov, s.pad), scale(rv[i]!, s.dilation));
        const q = div(t, int(s.stride));
        conds.push(ge(t, int(0)), lt(q, int(s.spatial[i]!)));
        if (s.stride > 1) conds.push(eq(mod(t, int(s.stride)), int(0)));
        return q;
      });
      const x = inPlain ? at(X, n, channelExpr(ci), ...pos) : at(X, ...layoutIndex(s.inLayout, n, ci, pos[0]!, pos[1]!));
      const w = opts.transposed ? at(W, channelExpr(ci), s.groups === 1 ? k : mod(k, int(kpg)), ...rv)
        : b === undefined ? at(W, k, rc, ...rv)
        : at(W, ...blockParts(kc), ...(splitRc ? [variable('rco'), variable('rci')] : [rc]), ...rv);
      const term = mul(x, w);
      const cond = allOf(conds);
      return cond ? select(cond, term, f32(0)) : term;
    },
    reduce: { op: 'sum', axes: reduce },
    ...(epi ? {
      epilogue: (acc: Expr, ...memory: Expr[]) => {
        const [n, k, ...o] = canonical(...memory);
        return epi.apply(acc, n, k, ...o);
      },
    } : {}),
  });
}

/**
 * The input channel a term reads: the reduction's channel within output channel k's group. Kept
 * split by the block wherever it is affine: a dense layer's (rco, rci), a grouped layer's whole
 * blocks, a depthwise layer's own channel (one input channel per output channel: k itself).
 */
function inputChannel(s: ConvShape, kc: Expr | BlockedChannel, k: Expr, rc: Expr, splitRc: boolean): Expr | BlockedChannel {
  const cpg = s.c / s.groups, kpg = s.k / s.groups;
  const rco = variable('rco'), rci = variable('rci');
  if (isBlockedChannel(kc)) {
    const bl = kc.block;
    if (splitRc) {
      const groupBase = s.groups === 1 ? undefined : scale(kpg === bl ? kc.outer : div(kc.outer, int(kpg / bl)), cpg / bl);
      return blocked(groupBase ? add(groupBase, rco) : rco, rci, bl);
    }
    if (cpg === 1 && kpg === 1) return kc;
  }
  // With one output channel per group (depthwise) the group is the channel itself: an affine
  // index, so a layout can block the input along channels for a channel-vectorized kernel.
  return s.groups === 1 ? rc : add(scale(kpg === 1 ? k : div(k, int(kpg)), cpg), rc);
}

const blockParts = (c: Expr | BlockedChannel): Expr[] => (isBlockedChannel(c) ? [c.outer, c.inner] : [c]);

/** `e * n` and `e + n`, without the `* 1` and `+ 0` a reader would have to skip. */
const scale = (e: Expr, n: number) => (n === 1 ? e : mul(e, int(n)));
const addOff = (e: Expr, n: number) => (n === 0 ? e : n > 0 ? add(e, int(n)) : sub(e, int(-n)));

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

export function convFlops(s: ConvShape, transposed: boolean): number {
  if (transposed) return 2 * s.n * s.c * prod(s.spatial) * (s.k / s.groups) * prod(s.kernel);
  return 2 * s.n * s.k * prod(convOutput(s)) * (s.c / s.groups) * prod(s.kernel);
}

function convOp(name: string, rank: Rank, summary: string, example: Params, opts: ConvOptions & { dilation?: number; groups?: number }): OpSpec {
  const extra = opts.biasRelu ? (p: Params) => 2 * p.n! * p.k! * prod(convOutput(convShape(rank, p))) : () => 0;
  return {
    name, summary, family: 'conv',
    params: convParams(rank, opts),
    check: (p) => checkConv(convShape(rank, p), opts.transposed),
    build: (p) => buildConv(convShape(rank, p), opts),
    flops: (p) => convFlops(convShape(rank, p), opts.transposed) + extra(p),
    example,
  };
}

const ex1 = { n: 2, c: 4, w: 9, k: 6, kw: 3, stride: 2, pad: 1, dilation: 1, groups: 2 };
const ex2 = { n: 1, c: 4, h: 7, w: 6, k: 6, kh: 3, kw: 2, stride: 2, pad: 1, dilation: 1, groups: 2 };
const ex3 = { n: 1, c: 2, d: 4, h: 5, w: 4, k: 3, kd: 2, kh: 3, kw: 2, stride: 1, pad: 1, dilation: 1, groups: 1 };

export const conv1d = convOp('conv1d', 1, 'Y[n,k,ow] = sum X[n,c,w] * W[k,c/g,kw] (NCW)', ex1, { transposed: false });
export const conv2d = convOp('conv2d', 2, 'Y[n,k,oh,ow] = sum X[n,c,h,w] * W[k,c/g,kh,kw] (NCHW; stride, pad, dilation, groups)', ex2, { transposed: false });
export const conv3d = convOp('conv3d', 3, 'Y[n,k,od,oh,ow] = sum X * W (NCDHW)', ex3, { transposed: false });
export const groupedConv2d = convOp('grouped_conv2d', 2, 'conv2d with channel groups (default 4)', { ...ex2, groups: 2 }, { transposed: false, groups: 4 });
export const dilatedConv2d = convOp('dilated_conv2d', 2, 'conv2d with a dilated kernel (default dilation 2)', { ...ex2, h: 8, w: 8, dilation: 2 }, { transposed: false, dilation: 2 });
export const conv2dBiasRelu = convOp('conv2d_bias_relu', 2, 'relu(conv2d + bias[k]): conv2d with a fused epilogue', ex2, { transposed: false, biasRelu: true });
export const conv1dTranspose = convOp('conv1d_transpose', 1, 'transposed conv1d (gradient of conv1d w.r.t. its input); W is [c, k/g, kw]', ex1, { transposed: true });
export const conv2dTranspose = convOp('conv2d_transpose', 2, 'transposed conv2d; W is [c, k/g, kh, kw]', { ...ex2, stride: 2 }, { transposed: true });
export const conv3dTranspose = convOp('conv3d_transpose', 3, 'transposed conv3d; W is [c, k/g, kd, kh, kw]', { ...ex3, stride: 2 }, { transposed: true });

const dwParams: ParamSpec[] = [
  size('n', 'batch'), size('c', 'channels'), size('h', 'input height'), size('w', 'input width'),
  size('multiplier', 'output channels per input channel', 1),
  size('kh', 'kernel height'), size('kw', 'kernel width'),
  size('stride', 'stride along both axes', 1), offset('pad', 'zero padding on each side'), size('dilation', 'kernel dilation', 1),
  prepack('W'),
];
const dwShape = (p: Params): ConvShape => convShape(2, { ...p, k: p.c! * p.multiplier!, groups: p.c! });

export const depthwiseConv2d: OpSpec = {
  name: 'depthwise_conv2d',
  summary: 'one filter group per channel: Y[n, c*m+j, oh, ow] = sum X[n,c,..] * W[c*m+j, 0, kh, kw]',
  family: 'conv',
  params: dwParams,
  check: (p) => checkConv(dwShape(p), false),
  build: (p) => buildConv(dwShape(p), { transposed: false }),
  flops: (p) => convFlops(dwShape(p), false),
  example: { n: 1, c: 3, h: 7, w: 7, multiplier: 2, kh: 3, kw: 3, stride: 2, pad: 1, dilation: 1 },
};
