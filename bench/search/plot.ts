/** A small line plot as SVG (no dependencies): one polyline per curve, labelled axes, a legend. */

export interface Curve {
  readonly label: string;
  /** [x, y] pairs, x ascending. */
  readonly points: readonly (readonly [number, number])[];
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function svg(curves: readonly Curve[], title: string, xLabel: string, yLabel: string): string {
  const W = 720, H = 400, pad = 56;
  const all = curves.flatMap((c) => c.points);
  const maxX = Math.max(1e-9, ...all.map((p) => p[0])), maxY = Math.max(1e-9, ...all.map((p) => p[1]).filter(Number.isFinite));
  const x = (v: number) => pad + (v / maxX) * (W - 2 * pad), y = (v: number) => H - pad - ((Number.isFinite(v) ? v : 0) / maxY) * (H - 2 * pad);
  const lines = curves.map((c, k) => {
    const color = COLORS[k % COLORS.length]!;
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${c.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ')}"/>`
      // Best-so-far curves rise early and stay high: the legend goes bottom right, where they are not.
      + `<text x="${W - pad - 130}" y="${H - pad - 12 - 16 * (curves.length - 1 - k)}" fill="${color}" font-size="12">${esc(c.label)}</text>`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${x(f * maxX).toFixed(1)}" y="${H - pad + 16}" font-size="11" text-anchor="middle">${+(f * maxX).toPrecision(3)}</text>`
    + `<text x="${pad - 6}" y="${(y(f * maxY) + 4).toFixed(1)}" font-size="11" text-anchor="end">${+(f * maxY).toPrecision(3)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><text x="${pad}" y="20" font-size="14">${esc(title)}</text>`
    + `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#000"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#000"/>`
    + `${ticks.join('')}<text x="${W / 2}" y="${H - 12}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`
    + `<text x="${pad}" y="${pad - 12}" font-size="12">${esc(yLabel)}</text>${lines.join('')}</svg>\n`;
}
