import { at, compute, placeholder } from '../te.js';
import { LAYOUTS, inLayout, layoutAxes, layoutOf } from './layout.js';
import { OpSpec, Params, size } from './spec.js';

/**
 * Y = X in another activation layout: what a model runs at the edges of a chain of layers kept in
 * NHWC (the image comes in NCHW), and where a layer that needs NCHW follows one. `layout` is the
 * output's; the input is in the other one.
 */
const other = (p: Params) => (layoutOf(p) === 'nhwc' ? 'nchw' : 'nhwc');

export const relayout: OpSpec = {
  name: 'relayout',
  summary: 'Y = X with its [n, c, h, w] dimensions stored in the other layout: --layout is the output\'s (nhwc: from nchw; nchw: from nhwc)',
  family: 'pool',
  params: [
    size('n', 'batch'), size('c', 'channels'), size('h', 'height'), size('w', 'width'),
    { name: 'layout', doc: 'layout of Y: 1 nhwc (from nchw, the default), 0 nchw (from nhwc)', min: 0, default: 1, choices: [0, 1], choiceNames: LAYOUTS },
  ],
  build: (p) => {
    const from = other(p), to = layoutOf(p);
    const X = placeholder('X', inLayout(from, p.n!, p.c!, p.h!, p.w!));
    const axes = layoutAxes(to, ['n', 'c', 'h', 'w']);
    return compute({
      name: 'Y', shape: inLayout(to, p.n!, p.c!, p.h!, p.w!), axisNames: axes.names, inputs: [X],
      body: (...memory) => {
        const [n, c, h, w] = axes.nchw(...memory);
        return at(X, ...inLayout(from, n, c, h, w));
      },
    });
  },
  // A copy: one "operation" per element, as pooling counts one per window element.
  flops: (p) => p.n! * p.c! * p.h! * p.w!,
  example: { n: 1, c: 3, h: 4, w: 5, layout: 1 },
};

