import { Expr, add, allOf, and, f32, ge, int, lt, mul, select, sub, variable } from '../expr.js';
import { at, compute, placeholder, reduceAxis, reductionIdentity } from '../te.js';
import { OpSpec, Params, offset, size } from './spec.js';
import { layoutAxes, layoutIndex, layoutMisfit, layoutOf, layoutParam, layoutShape } from './layout.js';

const poolParams = [
  size('n', 'batch'), size('c', 'channels'), size('h', 'input height'), size('w', 'input width'),
  size('kh', 'window height'), size('kw', 'window width'),
  size('stride', 'stride along both axes', 2), offset('pad', 'padding on each side (ignored by max, counted as zeros by avg)'),
  layoutParam('X and Y'),
];

function poolOut(p: Params): [number, number] {
  return [Math.floor((p.h! + 2 * p.pad! - p.kh!) / p.stride!) + 1, Math.floor((p.w! + 2 * p.pad! - p.kw!) / p.stride!) + 1];
}

function checkPool(p: Params): string | undefined {
  const [oh, ow] = poolOut(p);
  const misfit = layoutMisfit(layoutOf(p), { c: p.c! });
  if (misfit) return misfit;
  if (oh < 1 || ow < 1) return `window ${p.kh}x${p.kw} with pad ${p.pad} does not fit input ${p.h}x${p.w}`;
  // Beyond half the window a border window can lie wholly in the padding and have no maximum.
  if (2 * p.pad! > Math.min(p.kh!, p.kw!)) return `pad=${p.pad} must be at most half the window (${p.kh}x${p.kw}), i.e. at most ${Math.floor(Math.min(p.kh!, p.kw!) / 2)}`;
  return undefined;
}

/** Max pooling pads with the lowest value; average pooling divides by the whole window. */
function pool(kind: 'max' | 'avg') {
  return (p: Params) => {
    const [oh, ow] = poolOut(p);
    const layout = layoutOf(p);
    const X = placeholder('X', layoutShape(layout, p.n!, p.c!, p.h!, p.w!));
    const axes = layoutAxes(layout, ['n', 'c', 'oh', 'ow']);
    const rh = variable('rh'), rw = variable('rw');
    const area = p.kh! * p.kw!;
    return compute({
      name: 'Y', shape: layoutShape(layout, p.n!, p.c!, oh, ow), axisNames: axes.names, inputs: [X],
      body: (...memory) => {
        const [n, c, y, x] = axes.nchw(...memory);
        const ih = add(sub(mul(y, int(p.stride!)), int(p.pad!)), rh);
        const iw = add(sub(mul(x, int(p.stride!)), int(p.pad!)), rw);
        const conds: Expr[] = p.pad! > 0 ? [and(ge(ih, int(0)), lt(ih, int(p.h!))), and(ge(iw, int(0)), lt(iw, int(p.w!)))] : [];
        const v = at(X, ...layoutIndex(layout, n, c, ih, iw));
        const cond = allOf(conds);
        return cond ? select(cond, v, kind === 'max' ? reductionIdentity('max', 'f32') : f32(0)) : v;
      },
      reduce: { op: kind === 'max' ? 'max' : 'sum', axes: [reduceAxis('rh', p.kh!), reduceAxis('rw', p.kw!)] },
      ...(kind === 'avg' ? { epilogue: (acc: Expr) => mul(acc, f32(Math.fround(1 / area))) } : {}),
    });
  };
}

const poolFlops = (p: Params) => {
  const [oh, ow] = poolOut(p);
  return p.n! * p.c! * oh * ow * p.kh! * p.kw!;
};

export const maxPool2d: OpSpec = {
  name: 'max_pool2d', summary: 'Y[n,c,oh,ow] = max over the kh x kw window of X', family: 'pool',
  params: poolParams, check: checkPool, build: pool('max'), flops: poolFlops,
  example: { n: 1, c: 3, h: 9, w: 8, kh: 3, kw: 3, stride: 2, pad: 1 },
};

export const avgPool2d: OpSpec = {
  name: 'avg_pool2d', summary: 'Y[n,c,oh,ow] = mean over the kh x kw window of X (padding counts as zeros)', family: 'pool',
  params: poolParams, check: checkPool, build: pool('avg'), flops: poolFlops,
  example: { n: 1, c: 3, h: 8, w: 8, kh: 2, kw: 2, stride: 2, pad: 0 },
};
