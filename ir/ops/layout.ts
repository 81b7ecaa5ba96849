import { Expr, add, div, int, mod, mul } from '../expr.js';
import { ParamSpec } from './spec.js';

/**
 * Activation layouts: how a 4-d activation tensor [batch, channels, height, width] lies in memory.
 * NCHW is every operator's default (PyTorch's and ONNX's); NHWC puts the channels innermost, so a
 * kernel reads neighbouring channels of one pixel from one vector (TensorFlow's layout, oneDNN's
 * `nhwc`). NCHW[x]c (TVM's NCHWc, oneDNN's nChw8c / nChw16c) splits the channels into blocks of x
 * and stores each block innermost: [n][c/x][h][w][x]. A block as wide as the vector unit makes
 * every channel-block of a pixel one vector, while a whole plane of one block stays contiguous: a
 * convolution's output tile is (pixels x one vector of channels) with the weights read as vectors
 * and the input broadcast, and a depthwise layer vectorizes across channels with no gather.
 *
 * A layout decides both the order of the buffer's dimensions and the order of the output's loop
 * axes (the stored order), so a kernel writes its output contiguously in its layout.
 */
export const LAYOUTS = ['nchw', 'nhwc', 'nchw8c', 'nchw16c'] as const;
export type Layout = (typeof LAYOUTS)[number];

export const layoutParam = (tensors: string): ParamSpec => ({
  name: 'layout',
  doc: `memory layout of ${tensors}: 0 nchw (default), 1 nhwc (channels innermost), 2 nchw8c, 3 nchw16c (channels in blocks of 8 or 16 stored innermost, [n][c/x][h][w][x]; c and k must divide by x); the CLI takes the names`,
  min: 0, default: 0, choices: LAYOUTS.map((_, i) => i), choiceNames: LAYOUTS, keyOnlyWhenSet: true,
});

export const layoutOf = (p: Readonly<Record<string, number>>): Layout => LAYOUTS[p.layout ?? 0]!;

/**
 * A convolution's input layout where it differs from its output's (`xlayout`; 0, the default, is
 * the output's): a stem reads the NCHW image and writes nchw16c, so no relayout runs between them
 * (ONNX Runtime's NCHWc transformer does the same with its first conv).
 */
export const X_LAYOUTS = ['same', ...LAYOUTS] as const;
export const xlayoutParam: ParamSpec = {
  name: 'xlayout',
  doc: 'memory layout of X when it differs from --layout\'s: 0 same (default), 1 nchw, 2 nhwc, 3 nchw8c, 4 nchw16c (groups must be 1); the CLI takes the names',
  min: 0, default: 0, choices: X_LAYOUTS.map((_, i) => i), choiceNames: X_LAYOUTS, keyOnlyWhenSet: true,
};
export const inputLayoutOf = (p: Readonly<Record<string, number>>): Layout => (p.xlayout ? LAYOUTS[p.xlayout - 1]! : layoutOf(p));
export const layoutNumber = (l: Layout): number => LAYOUTS.indexOf(l);

/** The channel block of a blocked layout (8 for nchw8c), undefined for nchw and nhwc. */
export function blockOf(layout: Layout): number | undefined {
  const m = /^nchw(\d+)c$/.exec(layout);
  return m ? Number(m[1]) : undefined;
}

/** Why tensors with these channel counts cannot be stored in `layout`, or undefined when they can. */
export function layoutMisfit(layout: Layout, channels: Readonly<Record<string, number>>): string | undefined {
  const b = blockOf(layout);
  if (b === undefined) return undefined;
  const bad = Object.entries(channels).find(([, c]) => c % b !== 0);
  return bad ? `layout ${layout} stores channels in blocks of ${b}: ${bad[0]}=${bad[1]} does not divide by ${b} (take nchw, nhwc${b > 8 && bad[1] % 8 === 0 ? ' or nchw8c' : ''})` : undefined;
}

/** The dimensions of an [n, c, h, w] tensor in the layout's memory order. */
export function layoutShape(layout: Layout, n: number, c: number, h: number, w: number): number[] {
  const b = blockOf(layout);
  if (b !== undefined) return [n, c / b, h, w, b];
  return layout === 'nhwc' ? [n, h, w, c] : [n, c, h, w];
}

/**
 * A channel index already split by a block: `outer * block + inner`. Indexing a blocked buffer
 * with the two parts keeps each index affine in the loop variables (a pack, a vector, a bounds
 * proof can see through it), where `c / block` and `c % block` would not.
 */
export interface BlockedChannel { readonly outer: Expr; readonly inner: Expr; readonly block: number }

export const blocked = (outer: Expr, inner: Expr, block: number): BlockedChannel => ({ outer, inner, block });
export const isBlockedChannel = (c: Expr | BlockedChannel): c is BlockedChannel => 'block' in c && 'outer' in c;
const joined = (c: BlockedChannel): Expr => add(mul(c.outer, int(c.block)), c.inner);

/** The index of element (n, c, h, w) in the layout's memory order. */
export function layoutIndex(layout: Layout, n: Expr, c: Expr | BlockedChannel, h: Expr, w: Expr): Expr[] {
  const b = blockOf(layout);
  if (b !== undefined) {
    if (isBlockedChannel(c) && c.block === b) return [n, c.outer, h, w, c.inner];
    const flat = isBlockedChannel(c) ? joined(c) : c;
    return [n, div(flat, int(b)), h, w, mod(flat, int(b))];
  }
  const flat = isBlockedChannel(c) ? joined(c) : c;
  return layout === 'nhwc' ? [n, h, w, flat] : [n, flat, h, w];
}

/**
 * The compute's axes in memory order, and the inverse map: given the axes' variables in that
 * order, the element's (n, c, h, w), with c blocked when the layout is.
 */
export function layoutAxes(layout: Layout, names: [string, string, string, string]): {
  names: string[];
  nchw: (...axes: Expr[]) => [Expr, Expr | BlockedChannel, Expr, Expr];
} {
  const [n, c, h, w] = names;
  const b = blockOf(layout);
  if (b !== undefined) return { names: [n, `${c}o`, h, w, `${c}i`], nchw: (a, co, d, e, ci) => [a!, blocked(co!, ci!, b), d!, e!] };
  if (layout === 'nhwc') return { names: [n, h, w, c], nchw: (a, x, d, e) => [a!, e!, x!, d!] };
  return { names: [n, c, h, w], nchw: (a, x, d, e) => [a!, x!, d!, e!] };
}

/** The channel as one expression (for per-channel vectors such as a bias). */
export const channelExpr = (c: Expr | BlockedChannel): Expr => (isBlockedChannel(c) ? joined(c) : c);

