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
