import { TopLevelSpec, toSvg } from './svg.js';
import { BenchResult, shortKey } from './bench-results.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A self-contained HTML page of one `npm run bench` result: per section, a bar per verified row
 * of its fraction of the measured peak (peers highlighted), and the machine, peaks and peer
 * configurations it was measured with. Vega-Lite draws into inline SVG, as in report-html.ts.
 */
export async function reportBench(r: BenchResult, title: string): Promise<string> {
  const sections: string[] = [];
  for (const section of [...new Set(r.rows.map((x) => x.section))]) {
    const values = r.rows
      .filter((x) => x.section === section && x.status === 'ok' && x.ofPeak !== undefined)
      .map((x) => ({ row: `${shortKey(x.workload)} · ${x.kernel}${x.threads !== undefined ? ` · ${x.threads}t` : ''}`, ofPeak: x.ofPeak!, kind: x.kind, gflops: x.gflops! }));
    const spec: TopLevelSpec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 420, title: `${section}: fraction of the measured peak`,
      data: { values }, mark: { type: 'bar' },
      encoding: {
        y: { field: 'row', type: 'nominal', sort: null, title: null, axis: { labelLimit: 520 } },
        x: { field: 'ofPeak', type: 'quantitative', axis: { format: '%' }, title: 'of peak (same device, same threads)' },
        // One colour per kind in every chart, whichever kinds a section has.
        color: { field: 'kind', type: 'nominal', title: 'kernel', scale: { domain: ['loopsmith', 'peer', 'baseline'], range: ['#4c78a8', '#f58518', '#9d9d9d'] } },
        tooltip: [{ field: 'gflops', type: 'quantitative', format: '.1f', title: 'GFLOP/s' }],
      },
    };
    const failed = r.rows.filter((x) => x.section === section && x.status !== 'ok');
    sections.push(`<section><h2>${esc(section)}</h2><figure>${await toSvg(spec)}</figure>${failed.length ? `<p>not plotted: ${failed.map((x) => esc(`${x.kernel} (${x.status})`)).join(', ')}</p>` : ''}</section>`);
  }
  const s = r.settings;
  const li = (xs: readonly string[]) => xs.map((x) => `<li>${esc(x)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; } figure { margin: 0; } .warn { color: #a40; font-weight: bold; }</style>
</head><body>
<h1>${esc(title)}</h1>
<p>loopsmith ${esc(r.loopsmith.version)}${r.loopsmith.commit ? ` (${esc(r.loopsmith.commit)})` : ''}, ${esc(r.date)}, machine ${esc(r.machine.fingerprint)}${s.quick ? ', --quick' : ''}</p>
${s.measuredUnderLoad ? '<p class="warn">measured under load (--ignore-load)</p>' : ''}
<ul>${li(r.machine.summary)}</ul>
<h2>Peaks</h2><ul>${li(r.peaks.map((p) => `${p.device}${p.threads !== undefined ? `, ${p.threads} thread${p.threads > 1 ? 's' : ''}` : ''}: ${p.gflops !== undefined ? `${p.gflops.toFixed(1)} GFLOP/s` : p.status} (${p.what})`))}</ul>
<h2>Peer configurations</h2><ul>${li(r.peers.map((p) => `${shortKey(p.workload)}${p.threads !== undefined ? ` [${p.threads}t]` : ''}: ${p.peer}, ${p.summary}`))}</ul>
${sections.join('\n')}
</body></html>
`;
}
