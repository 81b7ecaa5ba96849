/**
 * The search strategies against each other on the C target: same trial budget, several seeds,
 * fresh records per run (no resume, no warm start, no saved Q-model or cost model), every candidate verified.
 * Prints best GFLOP/s at 50/100/200 trials (median over seeds), trials to reach 90 % of the best
 * any strategy found, and writes the best-so-far curves to a CSV (and an SVG plot).
 *
 *   npm run bench:search -- [--trials 200] [--seeds 3] [--strategies random,sa,q,flex] [--models on,off] [--workloads gemm,conv2d] [--out bench-results]
 *
 * `--models on,off` runs each strategy with and without the cost model (`flex` and `flex-nomodel`).
 *
 * Also, with --gemm1024: tune GEMM 1024^3 single-thread with flex under a 15-minute budget and
 * compare with OpenBLAS measured in the same run.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { median } from 'simple-statistics';
import { Workload, workload } from '../ir/ops/index.js';
import { openTarget } from '../targets/registry.js';
import { TargetEvaluator } from '../tuner/evaluate.js';
import { RecordStore } from '../tuner/records.js';
import { MODEL_MODES, ModelMode } from '../tuner/model-guided.js';
import { STRATEGIES, StrategyName } from '../tuner/strategies.js';
import { tune } from '../tuner/tune.js';
import { table } from '../cli/format.js';

const WORKLOADS: Record<string, () => Workload> = {
  gemm: () => workload('gemm', { m: 512, n: 512, k: 512 }),
  conv2d: () => workload('conv2d', { n: 1, c: 64, h: 56, w: 56, k: 64, kh: 3, kw: 3, pad: 1 }),
};

function svg(curves: { label: string; points: number[] }[], title: string): string {
  const W = 640, H = 360, pad = 48;
  const maxX = Math.max(...curves.map((c) => c.points.length)), maxY = Math.max(1e-9, ...curves.flatMap((c) => c.points));
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
  const x = (i: number) => pad + (i / Math.max(1, maxX - 1)) * (W - 2 * pad), y = (v: number) => H - pad - (v / maxY) * (H - 2 * pad);
  const lines = curves.map((c, k) => `<polyline fill="none" stroke="${colors[k % colors.length]}" stroke-width="2" points="${c.points.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/><text x="${W - pad - 150}" y="${pad + 16 * k}" fill="${colors[k % colors.length]}" font-size="12">${c.label}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><text x="${pad}" y="20" font-size="14">${title}</text>`
    + `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#000"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#000"/>`
    + `<text x="${W / 2}" y="${H - 10}" font-size="12">trial</text><text x="8" y="${pad - 8}" font-size="12">best GFLOP/s (median over seeds), max ${maxY.toFixed(1)}</text>${lines.join('')}</svg>`;
}

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .option('trials', { type: 'number', default: 200 })
    .option('seeds', { type: 'number', default: 3 })
    .option('strategies', { type: 'string', default: STRATEGIES.join(',') })
    .option('models', { type: 'string', default: 'on', describe: `cost model settings to compare: ${MODEL_MODES.join(',')}` })
    .option('workloads', { type: 'string', default: 'gemm,conv2d' })
    .option('min-time', { type: 'number', default: 0.05 })
    .option('out', { type: 'string', default: 'bench-results' })
    .strict().help().parseAsync();
  const models = argv.models.split(',') as ModelMode[];
  if (!models.every((m) => (MODEL_MODES as readonly string[]).includes(m))) throw new Error(`--models takes ${MODEL_MODES.join(',')}`);
  // One curve per strategy and model setting; without the model a strategy is labelled '<name>-nomodel'.
  const configs = (argv.strategies.split(',') as StrategyName[]).flatMap((strategy) => models.map((model) => ({ strategy, model, label: model === 'on' ? strategy : `${strategy}-nomodel` })));
  const strategies = configs.map((c) => c.label);
  mkdirSync(argv.out, { recursive: true });
  const target = await openTarget('c', { settings: { minSeconds: argv['min-time'] }, options: { threads: 1 } });
  const evaluatorFor = () => new TargetEvaluator(target);
  for (const name of argv.workloads.split(',')) {
    const w = WORKLOADS[name]!();
    const curves = new Map<string, number[][]>();
    for (const { strategy, model, label: s } of configs) {
      for (let seed = 1; seed <= argv.seeds; seed++) {
        const dir = mkdtempSync(join(tmpdir(), 'loopsmith-search-'));
        const t0 = performance.now();
        const r = await tune(w, evaluatorFor(), { strategy, model, trials: argv.trials, seed, records: new RecordStore(join(dir, 'r.jsonl')), version: 'bench', remeasure: 0, earlyStopWindow: 1e9 });
        const c = [...r.curve];
        while (c.length < argv.trials) c.push(c[c.length - 1] ?? 0);
        curves.set(s, [...(curves.get(s) ?? []), c]);
        process.stderr.write(`${name} ${s} seed ${seed}: best ${c[c.length - 1]!.toFixed(2)} GFLOP/s after ${r.trials} trials (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
      }
    }
    const top = Math.max(...[...curves.values()].flat().map((c) => c[c.length - 1]!));
    const med = (s: string, i: number) => median(curves.get(s)!.map((c) => c[Math.min(i, c.length - 1)]!));
    const reach = (s: string) => {
      const ts = curves.get(s)!.map((c) => c.findIndex((v) => v >= 0.9 * top));
      const ok = ts.filter((t) => t >= 0);
      return ok.length ? `${median(ok.map((t) => t + 1))} (${ok.length}/${ts.length} seeds)` : `never (0/${ts.length})`;
    };
    const marks = [50, 100, 200].filter((m) => m <= argv.trials);
    process.stdout.write(`\n${w.key}, C target, 1 thread, ${argv.seeds} seeds, ${argv.trials} trials each; best of all: ${top.toFixed(2)} GFLOP/s\n\n`);
    process.stdout.write(table(['strategy', ...marks.map((m) => `@${m} (median)`), 'trials to 90 % of best'], strategies.map((s) => [s, ...marks.map((m) => med(s, m - 1).toFixed(2)), reach(s)])) + '\n');
    const rows = Array.from({ length: argv.trials }, (_, i) => [i + 1, ...strategies.map((s) => med(s, i).toFixed(3))].join(','));
    writeFileSync(join(argv.out, `search-${name}.csv`), [`trial,${strategies.join(',')}`, ...rows].join('\n') + '\n');
    writeFileSync(join(argv.out, `search-${name}.svg`), svg(strategies.map((s) => ({ label: s, points: Array.from({ length: argv.trials }, (_, i) => med(s, i)) })), `best-so-far, ${name}`));
    process.stdout.write(`curves: ${join(argv.out, `search-${name}.csv`)} and .svg\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
