/**
 * `npm run bench:farm`: what the measurement farm buys on this machine. A compile-bound tune
 * (a small GEMM: the C compiler dominates each candidate, timing is a few milliseconds) runs
 * through a fresh Redis with 1, 2, ... workers (each `--threads 1`), the same seed and candidates
 * each time; candidates per second against one worker's, and the target of issue 15: with N
 * workers on N cores, at least 0.8 N x one worker.
 *
 *   npm run bench:farm -- [--workers 1,2,3] [--trials 24] [--json]
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { workload } from '../ir/ops/index.js';
import { farmDevices } from '../targets/farm/devices.js';
import { FarmEvaluator } from '../targets/farm/evaluator.js';
import { RecordStore } from '../tuner/records.js';
import { tune } from '../tuner/tune.js';
import { RedisServer } from './redis-server.js';
import { table } from '../cli/format.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

interface Row { readonly workers: number; readonly candidates: number; readonly seconds: number; readonly perSecond: number; readonly speedup: number; readonly goal?: { readonly want: number; readonly met: boolean } }

async function once(n: number, trials: number): Promise<{ candidates: number; seconds: number }> {
  const redis = await RedisServer.start();
  const procs = Array.from({ length: n }, () => spawn(process.execPath, [CLI, 'worker', '--redis', redis.url, '--target', 'c', '--threads', '1', '--min-time', '0.01'], { stdio: 'ignore' }));
  try {
    const conn = { url: redis.url };
    for (;;) {
      const ds = await farmDevices(conn);
      if (ds.length && ds[0]!.workers.length === n) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const [device] = await farmDevices(conn);
    const w = workload('gemm', { m: 48, n: 48, k: 48 });
    const ev = new FarmEvaluator(conn, device!.record, w, 2 * n, (l) => process.stderr.write(l + '\n'));
    const t0 = performance.now();
    const r = await tune(w, ev, { strategy: 'random', model: 'off', startingPoints: 0, trials, seed: 7, remeasure: false, records: new RecordStore(join(mkdtempSync(join(tmpdir(), 'loopsmith-farm-bench-')), 'r.jsonl')), version: 'bench' });
    const seconds = (performance.now() - t0) / 1000;
    await ev.close();
    return { candidates: r.measured, seconds };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((res) => (p.exitCode !== null ? res(null) : p.once('exit', res)))));
    await redis.down();
  }
}

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv)).option('workers', { type: 'string', default: '1,2,3' }).option('trials', { type: 'number', default: 24 }).option('json', { type: 'boolean' }).strict().parseAsync();
  const counts = String(argv.workers).split(',').map(Number);
  const cores = availableParallelism();
  const rows: Row[] = [];
  let base: number | undefined;
  for (const n of counts) {
    process.stderr.write(`farm: ${n} worker${n > 1 ? 's' : ''}, ${argv.trials} candidates...\n`);
    const { candidates, seconds } = await once(n, argv.trials);
    const perSecond = candidates / seconds;
    base ??= n === 1 ? perSecond : undefined;
    const speedup = base ? perSecond / base : NaN;
    rows.push({ workers: n, candidates, seconds, perSecond, speedup, ...(base && n <= cores ? { goal: { want: 0.8 * n, met: speedup >= 0.8 * n } } : {}) });
  }
  if (argv.json) {
    process.stdout.write(JSON.stringify({ cores, rows }, null, 2) + '\n');
    return;
  }
  process.stdout.write(`Measurement farm throughput (compile-bound: gemm 48^3, random search, ${argv.trials} candidates; ${cores} cores; one Redis on loopback)\n`);
  process.stdout.write(table(['workers', 'candidates', 'seconds', 'candidates/s', 'x 1 worker', 'target (N <= cores)'], rows.map((r) => [
    String(r.workers), String(r.candidates), r.seconds.toFixed(1), r.perSecond.toFixed(2), Number.isNaN(r.speedup) ? '-' : `${r.speedup.toFixed(2)}x`,
    r.goal ? `${r.goal.met ? 'met' : 'NOT met'} (>= ${r.goal.want.toFixed(1)}x)` : '-',
  ])) + '\n');
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`bench:farm: ${(e as Error).message.split('\n')[0]}\n`);
  process.exit(1);
});
