/**
 * Tunes every CPU layer of the convolution suite (bench/conv-layers.ts) into one records file, at
 * each thread count, through the CLI's `tune` (starting points on: the default and expert
 * schedules are measured first, then the search). `npm run bench:conv -- --records FILE` then adds
 * each layer's tuned best to its table and targets (issue 26).
 *
 *   npm run bench:tune-convs -- --records convs.jsonl [--time-budget 180] [--threads 1,2] [--layers "YOLO C1,DCGAN"] [--prepack]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CONV_SUITE } from './conv-layers.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

interface Tuned { best?: { gflops?: number; remeasured?: { gflops?: number } } }

/** One `loopsmith tune` run; its progress goes to stderr, its --json result is returned. */
function tuneLayer(args: readonly string[]): Promise<{ code: number; json?: unknown }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'tune', ...args, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('close', (code) => {
      let json: unknown;
      try { json = JSON.parse(out); } catch { json = undefined; }
      resolve({ code: code ?? 1, json });
    });
  });
}

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .usage('$0 --records FILE [options]\n\nTune every CPU layer of the convolution suite into one records file.')
    .option('records', { type: 'string', demandOption: true, describe: 'records file the tunes append to (then: npm run bench:conv -- --records FILE)' })
    .option('time-budget', { type: 'number', default: 180, describe: 'seconds per layer and thread count' })
    .option('threads', { type: 'string', default: '1,2', describe: 'thread counts, comma-separated (each is a device of its own in the records)' })
    .option('strategy', { type: 'string', default: 'flex', describe: 'search strategy: random, sa, q, flex' })
    .option('starting-points', { type: 'number', default: 8, describe: 'known-good schedules measured first (0: none)' })
    .option('prepack', { type: 'boolean', default: false, describe: 'tune each layer with its weights constant (prepack=1: packed once at load, outside the time), records of their own' })
    .option('layers', { type: 'string', describe: 'only the layers whose label contains one of these comma-separated texts' })
    .strict().help().parseAsync();
  const threads = argv.threads.split(',').map((t) => t.trim());
  if (threads.some((t) => !/^[1-9]\d*$/.test(t))) throw new Error(`--threads must be positive integers separated by commas, got '${argv.threads}'`);
  const wanted = argv.layers?.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  const layers = CONV_SUITE.filter((l) => !wanted || wanted.some((w) => l.label.toLowerCase().includes(w)));
  if (!layers.length) throw new Error(`--layers '${argv.layers}' names none of: ${CONV_SUITE.map((l) => l.label).join(', ')}`);
  const rows: string[] = [];
  for (const t of threads) {
    for (const layer of layers) {
      const params = Object.entries({ ...layer.params, ...(argv.prepack ? { prepack: 1 } : {}) }).flatMap(([k, v]) => [`--${k}`, String(v)]);
      process.stderr.write(`\n== ${layer.label}, ${t} thread${t === '1' ? '' : 's'}: ${argv['time-budget']} s\n`);
      const r = await tuneLayer([layer.op, ...params, '--threads', t, '--time-budget', String(argv['time-budget']), '--trials', '100000',
        '--strategy', argv.strategy, '--starting-points', String(argv['starting-points']), '--records', argv.records]);
      const best = (r.json as Tuned | undefined)?.best;
      rows.push(`${layer.label.padEnd(30)} ${t.padStart(7)}  ${r.code === 0 && best ? `${(best.gflops ?? 0).toFixed(1).padStart(8)}  ${best.remeasured?.gflops?.toFixed(1) ?? '-'}` : `failed (exit ${r.code})`}`);
    }
  }
  console.log(`\n${'layer'.padEnd(30)} threads  GFLOP/s  re-measured\n${rows.join('\n')}\n\nrecords: ${argv.records} (next: npm run bench:conv -- --records ${argv.records})`);
}

main().catch((e: unknown) => {
  console.error(`bench:tune-convs: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
