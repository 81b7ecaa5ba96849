import { Measurement } from '../targets/measurement.js';

/** A plain-text table with aligned columns; numbers are right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+(e[-+]?\d+)?[x%]?$|^-$/.test(r[i] ?? '')));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatFlops(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(3)} GFLOP`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(3)} MFLOP`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(3)} KFLOP`;
  return `${n} FLOP`;
}

export function formatSeconds(s: number): string {
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(1)} us`;
}

/** One measurement as a few readable lines. */
export function formatMeasurement(key: string, m: Measurement): string {
  if (m.status !== 'ok') return `${key}\n  result   ${m.status.toUpperCase().replace('_', ' ')}\n  reason   ${m.message ?? ''}`;
  const s = m.stats!;
  return [
    key,
    `  result   correct (max relative error ${(m.maxError ?? 0).toExponential(1)})`,
    `  median   ${formatSeconds(s.median)}   ${m.gflops!.toFixed(2)} GFLOP/s`,
    `  spread   p20 ${formatSeconds(s.p20)} .. p80 ${formatSeconds(s.p80)} (${(s.spread * 100).toFixed(1)} % of the median), ${s.runs} runs`
      + (m.warmingRuns ? ` (and ${m.warmingRuns} counted as warm-up: it was still getting faster)` : ''),
    ...(m.prepareSeconds !== undefined ? [`  prepare  ${formatSeconds(m.prepareSeconds)} once, at load (constant inputs; not in the times)`] : []),
  ].join('\n');
}
