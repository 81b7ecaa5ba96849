/** What the search bench writes: per workload the curves by trial and by second (CSV) and a wall-clock plot (SVG); the whole result as JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { secondsGrid, trialGrid } from './curves.js';
import { svg } from './plot.js';
import type { SearchBenchResult } from './result.js';

const csv = (header: string, xs: readonly number[], curves: ReadonlyMap<string, readonly number[]>) =>
  [`${header},${[...curves.keys()].join(',')}`, ...xs.map((x, i) => [x, ...[...curves.values()].map((c) => (Number.isFinite(c[i]!) ? c[i]!.toFixed(3) : ''))].join(','))].join('\n') + '\n';

/** Writes the files into `dir` and returns their paths, the JSON first. */
export function writeSearchFiles(dir: string, r: SearchBenchResult): string[] {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `search-${r.date.replace(/[^0-9A-Za-z.-]/g, '-')}.json`);
  writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  const paths = [json];
  const labels = r.settings.configs.map((c) => c.label);
  for (const w of r.workloads) {
    const byTrial = trialGrid(w, labels), bySeconds = secondsGrid(w, labels);
    const files: [string, string][] = [
      [`search-${w.id}-by-trial.csv`, csv('trial', byTrial.trials, byTrial.curves)],
      [`search-${w.id}-by-seconds.csv`, csv('seconds', bySeconds.seconds, bySeconds.curves)],
      [`search-${w.id}-seconds.svg`, svg(labels.map((l) => ({ label: l, points: bySeconds.seconds.map((t, i) => [t, bySeconds.curves.get(l)![i]!] as const) })), `best-so-far, ${w.id} (${w.device})`, 'seconds since the tune began', 'best GFLOP/s, median of seeds')],
    ];
    for (const [name, text] of files) {
      writeFileSync(join(dir, name), text);
      paths.push(join(dir, name));
    }
  }
  return paths;
}
