/** The text tables `npm run bench` prints, one per section, from the result file's contents. */
import { BenchResult, BenchRow, shortKey } from '../cli/bench-results.js';
import { table } from '../cli/format.js';

const TITLES: Record<string, string> = { 'gemm-cpu': 'GEMM on the CPU (C target)', 'conv-cpu': 'Convolutions on the CPU (C target)', 'conv-webgpu': 'Convolutions on the WebGPU device (WGSL target)', webgpu: 'WebGPU device (WGSL target)' };


const pct = (x?: number) => (x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);
/** A configuration that did not give a time, and why, in a table line. */
const why = (t: { status: string; note?: string }) => (t.note ? `${t.status} (${t.note.length > 90 ? `${t.note.slice(0, 87)}...` : t.note})` : t.status);
const ratio = (x?: number) => (x === undefined ? '-' : `${x.toFixed(2)}x`);

function rowCells(r: BenchRow): string[] {
  return [
    r.layer ?? shortKey(r.workload), r.kernel, r.threads === undefined ? '-' : String(r.threads), r.status,
    r.stats ? (r.stats.median * 1e3).toFixed(2) : '-', r.gflops !== undefined ? r.gflops.toFixed(1) : '-',
    r.stats ? pct(r.stats.spread) : '-', ratio(r.xPeer), pct(r.ofPeak),
  ];
}

export function benchTables(r: BenchResult): string {
  const s = r.settings;
  const load = s.measuredUnderLoad
    ? `measured under load (--ignore-load; 1-minute load average ${s.loads.map((l) => l.load.toFixed(2)).join(', ')} at the gates, threshold ${s.loadThreshold})`
    : `quiet machine (1-minute load average at most ${Math.max(0, ...s.loads.map((l) => l.load)).toFixed(2)} at the gates, threshold ${s.loadThreshold})`;
  const out = [
    `loopsmith ${r.loopsmith.version}${r.loopsmith.commit ? ` (${r.loopsmith.commit})` : ''} bench, ${r.date}${s.quick ? ', --quick (few repeats: not for comparison)' : ''}`,
    ...r.machine.summary.map((l) => `  ${l}`),
    `  ${load}`,
    '',
    'Peaks (measured in this run):',
    ...r.peaks.map((p) => `  ${p.device}${p.threads !== undefined ? `, ${p.threads} thread${p.threads > 1 ? 's' : ''}` : ''}: ${p.gflops !== undefined ? `${p.gflops.toFixed(1)} GFLOP/s (spread ${pct(p.stats?.spread)})` : p.status}  ${p.what}${p.note ? ` (${p.note})` : ''}`),
  ];
  for (const section of [...new Set(r.rows.map((x) => x.section))]) {
    const rows = r.rows.filter((x) => x.section === section);
    out.push('', `${TITLES[section] ?? section}`, '');
    out.push(table(['workload', 'kernel', 'threads', 'status', 'median ms', 'GFLOP/s', 'spread', 'x peer', 'of peak'], rows.map(rowCells)));
    const peers = r.peers.filter((p) => p.section === section);
    if (peers.length) out.push('', 'peer configurations (each verified, fastest kept):');
    for (const p of peers) {
      out.push(`  ${shortKey(p.workload)}${p.threads !== undefined ? ` [${p.threads}t]` : ''}: ${p.peer}, ${p.summary}`);
      out.push(`    tried: ${p.tried.map((t) => `${t.label} ${t.status === 'ok' ? t.gflops!.toFixed(1) : why(t)}`).join('; ')}`);
    }
    for (const x of rows) if (x.note) out.push(`note: ${x.layer ?? shortKey(x.workload)} ${x.kernel}: ${x.note}`);
    const layers = [...new Map(rows.filter((x) => x.layer).map((x) => [x.layer!, x.workload])).entries()];
    if (layers.length) out.push('', 'layers:', ...layers.map(([l, k]) => `  ${l}: ${shortKey(k)}`));
  }
  if (r.goals?.length) {
    out.push('', 'Speed targets (ratios of rows of this run):');
    for (const g of r.goals) out.push(`  ${g.met ? 'met    ' : 'NOT met'}  ${g.what}: ${g.value === undefined ? 'not measured' : `${g.value.toFixed(2)}x`}${g.note ? ` (${g.note})` : ''}`);
  }
  out.push('', 'GFLOP/s from the median time; spread = (p80 - p20) / median; x peer = over the peer row of the same workload and threads; of peak = over the peak of the same device and threads. All in this run.');
  return out.join('\n') + '\n';
}
