import { Expr } from '../expr.js';
import { ParamSpec } from './spec.js';

/**
 * Activation layouts: how a 4-d activation tensor [batch, channels, height, width] lies in memory.
 * NCHW is every operator's default (PyTorch's and ONNX's); NHWC puts the channels innermost, so a
 * kernel reads neighbouring channels of one pixel from one vector (depthwise convolutions, 1x1
 * convolutions of many channels) as TensorFlow and oneDNN's `nhwc` do. A layout decides both the
 * order of the buffer's dimensions and the order of the output's loop axes (the stored order), so
 * a kernel in NHWC writes its output contiguously along channels.
 */
export const LAYOUTS = ['nchw', 'nhwc'] as const;
export type Layout = (typeof LAYOUTS)[number];

export const layoutParam = (tensors: string): ParamSpec => ({
  name: 'layout', doc: `memory layout of ${tensors}: 0 nchw (default), 1 nhwc (channels innermost); the CLI takes the names`,
  min: 0, default: 0, choices: [0, 1], choiceNames: LAYOUTS, keyOnlyWhenSet: true,
});

export const layoutOf = (p: Readonly<Record<string, number>>): Layout => LAYOUTS[p.layout ?? 0]!;

/** The dimensions [n, c, h, w] in the layout's memory order. */
export function inLayout<T>(layout: Layout, n: T, c: T, h: T, w: T): T[] {
  return layout === 'nhwc' ? [n, h, w, c] : [n, c, h, w];
}

/** Axis names and the inverse map: the compute's axes in memory order, read back as (n, c, h, w). */
export function layoutAxes(layout: Layout, names: [string, string, string, string]): { names: string[]; nchw: (...axes: Expr[]) => [Expr, Expr, Expr, Expr] } {
  const [n, c, h, w] = names;
  if (layout === 'nhwc') return { names: [n, h, w, c], nchw: (a, b, d, e) => [a!, e!, b!, d!] };
  return { names: [n, c, h, w], nchw: (a, b, d, e) => [a!, b!, d!, e!] };
}
