import { at, compute, placeholder } from '../te.js';
import { LAYOUTS, layoutAxes, layoutIndex, layoutMisfit, layoutOf, layoutShape } from './layout.js';
import { OpSpec, Params, size } from './spec.js';

/**
 * Y = X in another activation layout: what a model runs where a chain of layers in one layout
 * meets a layer or an edge in another (the image comes in NCHW; a first convolution of 3 channels
 * cannot take a blocked input). `from` is the input's layout, `layout` the output's.
 */
const fromOf = (p: Params) => LAYOUTS[p.from ?? 0]!;

export const relayout: OpSpec = {
  name: 'relayout',
  summary: 'Y = X with its [n, c, h, w] elements stored in another layout: --from (default nchw) to --layout (default nhwc)',
  family: 'pool',
  params: [
    size('n', 'batch'), size('c', 'channels'), size('h', 'height'), size('w', 'width'),
    { name: 'layout', doc: `layout of Y: ${LAYOUTS.map((l, i) => `${i} ${l}`).join(', ')} (default nhwc)`, min: 0, default: 1, choices: LAYOUTS.map((_, i) => i), choiceNames: LAYOUTS },
    { name: 'from', doc: `layout of X, as --layout (default nchw)`, min: 0, default: 0, choices: LAYOUTS.map((_, i) => i), choiceNames: LAYOUTS, keyOnlyWhenSet: true },
  ],
  check: (p) => {
    const from = fromOf(p), to = layoutOf(p);
    if (from === to) return `--from and --layout are both ${to}: a relayout converts between two different layouts`;
    return layoutMisfit(from, { c: p.c! }) ?? layoutMisfit(to, { c: p.c! });
  },
  build: (p) => {
    const from = fromOf(p), to = layoutOf(p);
    const X = placeholder('X', layoutShape(from, p.n!, p.c!, p.h!, p.w!));
    const axes = layoutAxes(to, ['n', 'c', 'h', 'w']);
    return compute({
      name: 'Y', shape: layoutShape(to, p.n!, p.c!, p.h!, p.w!), axisNames: axes.names, inputs: [X],
      body: (...memory) => {
        const [n, c, h, w] = axes.nchw(...memory);
        return at(X, ...layoutIndex(from, n, c, h, w));
      },
    });
  },
  // A copy: one "operation" per element, as pooling counts one per window element.
  flops: (p) => p.n! * p.c! * p.h! * p.w!,
  example: { n: 1, c: 3, h: 4, w: 5, layout: 1 },
};
