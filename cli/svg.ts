import type { TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec };

/**
 * Renders a Vega-Lite spec to an SVG string, in Node, without a browser. Vega and Vega-Lite are
 * loaded here, on the first plot: they take ~0.4 s each to load, which no other command should pay.
 */
export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}
