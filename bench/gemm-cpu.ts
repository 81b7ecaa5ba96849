/**
 * GEMM on the CPU: the expert schedule (scheduler/fixtures) on 1 and 2 threads and the naive loop
 * nest, against OpenBLAS cblas_sgemm measured in the same run under the same protocol (same
 * inputs, output checked against the same reference, warm-up, repeats, median).
 *
 *   npm run bench:gemm-cpu -- [--size 1024] [--min-time 1] [--skip-naive] [--json]
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { lowerWorkload, workload } from '../ir/ops/index.js';
import { applyTrace } from '../scheduler/apply.js';
import { expertCpuGemm } from '../scheduler/expert.js';
import { Pipeline } from '../targets/pipeline.js';
import { openTarget } from '../targets/registry.js';
import { ReferenceSpec } from '../targets/target.js';
import { TimingStats } from '../targets/stats.js';
import { openblas } from './openblas.js';
import { table } from '../cli/format.js';

interface Row { kernel: string; threads: number; status: string; stats?: TimingStats; gflops?: number; note?: string }


async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .option('size', { type: 'number', default: 1024, describe: 'M = N = K' })
    .option('min-time', { type: 'number', default: 1, describe: 'seconds of timed runs per kernel' })
    .option('skip-naive', { type: 'boolean', default: false, describe: 'leave out the naive loop nest (slow at 1024)' })
    .option('json', { type: 'boolean', default: false })
    .strict().help().parseAsync();
  const n = argv.size;
  const w = workload('gemm', { m: n, n, k: n });
  const base = lowerWorkload(w);
  const expert = applyTrace(base, expertCpuGemm(n, n, n, w.key), { workload: w.key });
  const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };
  const rows: Row[] = [];
  const log = (s: string) => { if (!argv.json) process.stderr.write(s + '\n'); };
  for (const threads of [1, 2]) {
    const target = new Pipeline(await openTarget('c', { settings: { minSeconds: argv['min-time'], runTimeoutMs: 600_000 }, options: { threads } }));
    log(`[${threads} thread${threads > 1 ? 's' : ''}] expert schedule...`);
    const m = await target.measureProgram(expert, ref);
    rows.push({ kernel: 'loopsmith expert schedule', threads, status: m.status, ...(m.stats ? { stats: m.stats, gflops: m.gflops! } : {}), ...(m.message ? { note: m.message } : {}) });
    log(`[${threads} thread${threads > 1 ? 's' : ''}] OpenBLAS...`);
    rows.push(await openblas(n, threads, target, ref, argv['min-time']));
    if (threads === 1 && !argv['skip-naive']) {
      log('[1 thread] naive loop nest...');
      const naive = new Pipeline(await openTarget('c', { settings: { minSeconds: 0.1, maxRepeats: 3, warmup: 0, runTimeoutMs: 600_000 } }));
      const mn = await naive.measureProgram(base, ref);
      rows.push({ kernel: 'naive loop nest (as lowered)', threads: 1, status: mn.status, ...(mn.stats ? { stats: mn.stats, gflops: mn.gflops! } : {}) });
    }
  }
  const blas = (t: number) => rows.find((r) => r.kernel.startsWith('OpenBLAS') && r.threads === t && r.status === 'ok')?.gflops;
  const cpu = await openTarget('c');
  if (argv.json) {
    process.stdout.write(JSON.stringify({ workload: w.key, fingerprint: cpu.fingerprint, rows: rows.map((r) => ({ ...r, ratioToOpenBLAS: r.gflops && blas(r.threads) ? r.gflops / blas(r.threads)! : null })) }, null, 2) + '\n');
    return;
  }
  process.stdout.write(`\nSGEMM ${n}x${n}x${n} on ${cpu.summary.join('; ')}\n\n`);
  process.stdout.write(table(['kernel', 'threads', 'status', 'median ms', 'GFLOP/s', 'spread', 'x OpenBLAS'], rows.map((r) => [
    r.kernel, String(r.threads), r.status,
    r.stats ? (r.stats.median * 1e3).toFixed(2) : '-', r.gflops ? r.gflops.toFixed(1) : '-',
    r.stats ? `${(r.stats.spread * 100).toFixed(1)}%` : '-',
    r.gflops && blas(r.threads) ? `${(r.gflops / blas(r.threads)!).toFixed(2)}x` : '-',
  ])) + '\n');
  for (const r of rows) if (r.note) process.stdout.write(`note: ${r.kernel}: ${r.note}\n`);
  process.stdout.write('\nspread = (p80 - p20) / median over the timed repeats; ratios compare kernels with the same thread count, measured in this run.\n');
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
