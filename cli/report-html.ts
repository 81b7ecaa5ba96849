import { toSvg } from './svg.js';
import { RecordStore, TuningRecord } from '../tuner/records.js';
import { DeviceBest, deviceBests, devicesOf } from '../tuner/devices.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

interface Group { workload: string; device: string; records: TuningRecord[] }

/**
 * Per workload, a matrix: a row per device's best schedule, a column per device it ran on (the
 * diagonal is the device's own best); empty where that device has no record of the schedule.
 */
function deviceTables(db: RecordStore, records: readonly TuningRecord[]): string {
  const devices = devicesOf(records);
  if (devices.length < 2) return '';
  const label = new Map(devices.map((d) => [d.key, d.label]));
  const byWorkload = new Map<string, DeviceBest[]>();
  for (const b of deviceBests(db, records)) byWorkload.set(b.workload, [...(byWorkload.get(b.workload) ?? []), b]);
  const keys = devices.map((d) => d.key);
  const legend = devices.map((d, i) => `<tr><td>D${i + 1}</td><td>${esc(d.key)}</td><td>${esc(d.kind)}</td><td>${esc(d.label)}</td><td class="n">${d.records}</td></tr>`).join('');
  const tables = [...byWorkload].map(([w, bs]) => {
    const cols = keys.filter((k) => bs.some((b) => b.device === k || b.elsewhere.some((e) => e.device === k)));
    const rows = bs.map((b) => {
      const cell = (k: string) => {
        const g = k === b.device ? b.best.outcome.gflops : b.elsewhere.find((e) => e.device === k)?.gflops;
        return `<td class="n${k === b.device ? ' own' : ''}">${g ? g.toFixed(2) : ''}</td>`;
      };
      return `<tr><td>best of D${keys.indexOf(b.device) + 1} (${esc(b.best.id)})</td>${cols.map(cell).join('')}</tr>`;
    }).join('');
    return `<h3>${esc(w)}</h3><table><thead><tr><th>schedule \\ ran on</th>${cols.map((k) => `<th title="${esc(label.get(k) ?? k)}">D${keys.indexOf(k) + 1}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`;
  });
  return `<h2>Devices</h2>
<table><thead><tr><th></th><th>fingerprint</th><th>kind</th><th>device</th><th>records</th></tr></thead><tbody>${legend}</tbody></table>
<p class="dev">GFLOP/s of each device's best schedule on every device that measured it; the device's own best is in bold.</p>
${tables.join('\n')}`;
}

/**
 * A self-contained HTML report of a records file: per workload and device, the best-so-far curve
 * of each strategy (in trial order) and a scatter of every candidate; and a table of the best
 * schedules. Plots are drawn by Vega-Lite into inline SVG: the file needs nothing else to open.
 */
export async function reportHtml(records: readonly TuningRecord[], title: string, db: RecordStore): Promise<string> {
  const groups = new Map<string, Group>();
  for (const r of records) {
    const k = `${r.workload.key}|${r.target.fingerprint.key}`;
    if (!groups.has(k)) groups.set(k, { workload: r.workload.key, device: r.target.fingerprint.key, records: [] });
    groups.get(k)!.records.push(r);
  }
  const sections: string[] = [];
  const bestRows: string[] = [];
  for (const g of groups.values()) {
    const curve: { trial: number; gflops: number; run: string }[] = [];
    const byRun = new Map<string, TuningRecord[]>();
    for (const r of g.records) {
      const run = `${r.strategy} (seed ${r.seed})`;
      byRun.set(run, [...(byRun.get(run) ?? []), r]);
    }
    for (const [run, rs] of byRun) {
      let best = 0;
      for (const r of [...rs].sort((a, b) => a.trial - b.trial)) {
        if (r.outcome.status === 'ok') best = Math.max(best, r.outcome.gflops ?? 0);
        curve.push({ trial: r.trial + 1, gflops: best, run });
      }
    }
    const points = g.records.map((r) => ({ trial: r.trial + 1, gflops: r.outcome.status === 'ok' ? r.outcome.gflops ?? 0 : 0, status: r.outcome.status, strategy: r.strategy }));
    const curveSvg = await toSvg({
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 560, height: 260, title: 'best GFLOP/s so far',
      data: { values: curve }, mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
      encoding: { x: { field: 'trial', type: 'quantitative' }, y: { field: 'gflops', type: 'quantitative', title: 'GFLOP/s' }, color: { field: 'run', type: 'nominal', title: 'strategy' } },
    });
    const scatterSvg = await toSvg({
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 560, height: 260, title: 'every candidate (failed ones at 0)',
      data: { values: points }, mark: { type: 'point', filled: true, opacity: 0.7 },
      encoding: { x: { field: 'trial', type: 'quantitative' }, y: { field: 'gflops', type: 'quantitative', title: 'GFLOP/s' }, color: { field: 'status', type: 'nominal' }, shape: { field: 'strategy', type: 'nominal' } },
    });
    const ok = g.records.filter((r) => r.outcome.status === 'ok').sort((a, b) => a.trial - b.trial);
    // The records' one best (what `records best` and `emit` take), not merely the highest rate.
    const [best] = db.bestPerWorkload(g.records);
    const first = ok[0];
    if (best && first) {
      bestRows.push(`<tr><td>${esc(g.workload)}</td><td>${esc(g.device)}</td><td>${esc(best.id)}</td><td>${esc(best.strategy)}</td><td class="n">${best.outcome.gflops!.toFixed(2)}</td><td class="n">${(best.outcome.gflops! / first.outcome.gflops!).toFixed(2)}x</td><td class="n">${g.records.length}</td><td class="n">${g.records.length - ok.length}</td></tr>`);
    }
    sections.push(`<section><h2>${esc(g.workload)}</h2><p class="dev">${esc(g.device)} · ${g.records.length} candidates</p><div class="plots"><figure class="plot">${curveSvg}</figure><figure class="plot">${scatterSvg}</figure></div></section>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; } td, th { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.own { font-weight: bold; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; } figure { margin: 0; } .dev { color: #666; margin-top: -0.5rem; }
</style></head><body>
<h1>${esc(title)}</h1>
<h2>Best schedules</h2>
<table><thead><tr><th>workload</th><th>device</th><th>record</th><th>strategy</th><th>GFLOP/s</th><th>speedup over the first candidate</th><th>candidates</th><th>failed</th></tr></thead>
<tbody>${bestRows.join('\n')}</tbody></table>
${deviceTables(db, records)}
${sections.join('\n')}
</body></html>
`;
}
