/**
 * Differential fuzzing of the code generators: random legal schedules of random operator
 * instances, run on a target and compared with the reference executor. Failures are shrunk and
 * written as ready-to-paste regression tests.
 *
 *   npm run fuzz -- --count 20000 --target c [--seed S] [--ops gemm,conv2d] [--batch 100] [--out bench-results/fuzz] [--json]
 *
 * Exit status 1 when a kernel failed. Progress goes to stderr; the summary (or, with --json, the
 * summary as JSON) to stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { OPS } from '../ir/ops/index.js';
import { FuzzSummary, FuzzTarget, fuzz } from '../test/fuzz/fuzz.js';
import { describeSummary } from '../test/fuzz/report.js';

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('npm run fuzz --')
    .option('count', { type: 'number', default: 2000, describe: 'random kernels to check' })
    .option('target', { choices: ['c', 'webgpu'] as const, default: 'c' as FuzzTarget })
    .option('seed', { type: 'number', describe: 'seed of the run (default: from the clock, printed)' })
    .option('ops', { type: 'string', describe: `comma-separated operators (default: all of ${OPS.map((o) => o.name).join(', ')})` })
    .option('batch', { type: 'number', describe: 'kernels per compiled C file or per device round (default 100 for c, 25 for webgpu)' })
    .option('out', { type: 'string', default: 'bench-results/fuzz', describe: 'where the summary and the regression tests of failures are written' })
    .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
    .strict()
    .parseAsync();
  const seed = argv.seed ?? Date.now() % 1_000_000_007;
  if (!Number.isInteger(argv.count) || argv.count < 1) throw new Error(`--count must be a positive integer, got ${argv.count}`);
  const ops = argv.ops?.split(',').map((s) => s.trim()).filter(Boolean);
  process.stderr.write(`fuzz: ${argv.count} kernels on ${argv.target}, seed ${seed}\n`);
  const summary: FuzzSummary = await fuzz({
    count: argv.count, target: argv.target, seed,
    ...(ops ? { ops } : {}), ...(argv.batch ? { batch: argv.batch } : {}),
    progress: (line) => process.stderr.write(`fuzz: ${line}\n`),
  });
  mkdirSync(argv.out, { recursive: true });
  writeFileSync(join(argv.out, `${argv.target}-seed${seed}.json`), JSON.stringify(summary, null, 2) + '\n');
  for (const f of summary.failures) {
    if (f.shrunk) writeFileSync(join(argv.out, `${argv.target}-seed${seed}-kernel${f.index}.regression.ts`), f.shrunk.regression + '\n');
  }
  process.stdout.write(argv.json ? JSON.stringify(summary, null, 2) + '\n' : describeSummary(summary) + `\nwritten to ${argv.out}/\n`);
  process.exitCode = summary.failed ? 1 : 0;
}

main().catch((e) => {
  process.stderr.write(`fuzz: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
});
