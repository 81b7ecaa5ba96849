/**
 * Tune SGEMM 1024^3 single-threaded with `flex` under a time budget (default 15 minutes), then
 * measure the best kernel and OpenBLAS (at its fastest verified core type) in the same run.
 *
 *   npm run bench:tune-gemm1024 -- [--minutes 15] [--records path]
 */
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { lowerWorkload, workload } from '../ir/ops/index.js';
import { applyTrace } from '../scheduler/apply.js';
import { traceToTypeScript } from '../scheduler/trace.js';
import { CTarget } from '../targets/c/target.js';
import { Pipeline } from '../targets/pipeline.js';
import { openTarget } from '../targets/registry.js';
import { ReferenceSpec } from '../targets/target.js';
import { TargetEvaluator } from '../tuner/evaluate.js';
import { RecordStore } from '../tuner/records.js';
import { tune } from '../tuner/tune.js';
import { OpenBlas } from './openblas.js';

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .option('minutes', { type: 'number', default: 15 })
    .option('trials', { type: 'number', default: 1000 })
    .option('records', { type: 'string', default: join(mkdtempSync(join(tmpdir(), 'loopsmith-t1024-')), 'r.jsonl') })
    .strict().help().parseAsync();
  const w = workload('gemm', { m: 1024, n: 1024, k: 1024 });
  const base = lowerWorkload(w);
  const target = await openTarget('c', { settings: { minSeconds: 0.2, runTimeoutMs: 120_000 }, options: { threads: 1 } });
  const t0 = performance.now();
  const r = await tune(w, new TargetEvaluator(target), {
    strategy: 'flex', trials: argv.trials, timeBudgetSeconds: argv.minutes * 60, seed: 1, records: new RecordStore(argv.records), version: 'bench',
    earlyStopWindow: 1e9,
    onProgress: (p) => { if (p.trial % 10 === 0) process.stderr.write(`trial ${p.trial}: best ${p.bestGflops?.toFixed(1)} GFLOP/s after ${p.elapsedSeconds.toFixed(0)} s\n`); },
  });
  const minutes = (performance.now() - t0) / 60000;
  if (!r.best) throw new Error('no verified kernel found');
  const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };
  const final = new Pipeline(await openTarget('c', { settings: { minSeconds: 1 }, options: { threads: 1 } }));
  const mine = await final.measureProgram(applyTrace(base, r.best.trace), ref);
  if (!(final.target instanceof CTarget)) throw new Error('the registry\'s c target is not the C target');
  const peer = await OpenBlas.open(final.target.compiler.command, final.target.cpu.flags);
  if (typeof peer === 'string') throw new Error(peer);
  const { run: blas, choice } = await peer.sgemm(1024, 1024, 1024, 1, final, ref).finally(() => peer.close());
  process.stdout.write(`\nflex, ${r.trials} trials (${r.measured} measured) in ${minutes.toFixed(1)} min, stopped by ${r.stoppedBy}\n`);
  process.stdout.write(`tuned kernel: ${mine.gflops?.toFixed(1)} GFLOP/s (spread ${((mine.stats?.spread ?? 0) * 100).toFixed(1)} %)\n`);
  process.stdout.write(`${peer.version} cblas_sgemm, ${choice.summary}: ${blas.gflops?.toFixed(1)} GFLOP/s (spread ${((blas.stats?.spread ?? 0) * 100).toFixed(1)} %)\n`);
  process.stdout.write(`ratio: ${mine.gflops && blas.gflops ? (mine.gflops / blas.gflops).toFixed(2) : '-'}x OpenBLAS, single thread, same run\n\nschedule:\n${traceToTypeScript(r.best.trace)}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
