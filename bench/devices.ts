/**
 * `npm run bench:devices`: what a multi-ISA C file costs against the kernel emitted for this
 * machine alone. Tunes a GEMM here, emits it twice from the same record (`emit --lang c`, compiled
 * with the tuning flags, -march=native included; `emit --lang c --devices all`, compiled without
 * -march, its variant chosen at load time), and times both and the scalar fallback in interleaved
 * rounds of one run. The dispatched variant should run at ~1.0x the native kernel.
 *
 *   npm run bench:devices -- [--m 256 --n 256 --k 256] [--trials 30] [--rounds 7] [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { median, quantile } from 'simple-statistics';
import { workload } from '../ir/ops/index.js';
import { CTarget } from '../targets/c/target.js';
import { TargetEvaluator } from '../tuner/evaluate.js';
import { RecordStore } from '../tuner/records.js';
import { tune } from '../tuner/tune.js';
import { emitArtifacts } from '../cli/commands/emit.js';
import { emitForDevices } from '../cli/device-variants.js';
import { TargetSet } from '../cli/target-set.js';
import { writeFiles } from '../cli/output-files.js';
import { table } from '../cli/format.js';
import { LoadGate, loadThresholdFor } from './load-gate.js';

const argv = yargs(hideBin(process.argv))
  .option('m', { type: 'number', default: 256 }).option('n', { type: 'number', default: 256 }).option('k', { type: 'number', default: 256 })
  .option('trials', { type: 'number', default: 30, describe: 'tuning trials for this machine\'s record' })
  .option('rounds', { type: 'number', default: 7, describe: 'interleaved timing rounds' })
  .option('ignore-load', { type: 'boolean', default: false })
  .option('json', { type: 'boolean', default: false })
  .strict().parseSync();

const log = (s: string) => process.stderr.write(s + '\n');
const dir = mkdtempSync(join(tmpdir(), 'loopsmith-bench-devices-'));
const w = workload('gemm', { m: argv.m, n: argv.n, k: argv.k });
const target = new CTarget({ minSeconds: 0.1 });
const gate = new LoadGate({ threshold: loadThresholdFor(target.cpu.cores), maxWaitSeconds: 600, pollSeconds: 10, ignore: argv['ignore-load'], log });
await gate.check('tuning');
const records = join(dir, 'records.jsonl');
log(`tuning ${w.key} on ${target.description}, ${argv.trials} trials...`);
const ev = new TargetEvaluator(target);
await tune(w, ev, { strategy: 'flex', trials: argv.trials, seed: 1, records: new RecordStore(records), version: 'bench' });
await ev.close();

const targets = new TargetSet({});
const single = await emitArtifacts({ workload: w, lang: 'c', target: 'c', name: 'single', records, fallback: false, warn: log }, targets);
const multi = await emitForDevices({ workload: w, lang: 'c', name: 'multi', records, devices: 'all', warn: log }, targets);
await targets.close();
writeFiles(dir, { ...single.files, ...multi.files });
const { m, n, k } = { m: argv.m, n: argv.n, k: argv.k };
writeFileSync(join(dir, 'main.c'), `#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "single.h"
#include "multi.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  float *A = malloc(sizeof(float) * ${m * k}), *B = malloc(sizeof(float) * ${k * n}), *C = malloc(sizeof(float) * ${m * n});
  for (int i = 0; i < ${m * k}; i++) A[i] = (float)(i % 13) / 13.0f - 0.5f;
  for (int i = 0; i < ${k * n}; i++) B[i] = (float)(i % 11) / 11.0f - 0.5f;
  int use_single = argc > 1 && strcmp(argv[1], "single") == 0;
  for (int i = 0; i < 2; i++) { if (use_single) single(A, B, C); else multi(A, B, C); }
  printf("{\\"variant\\":\\"%s\\",\\"check\\":%.6g,\\"times\\":[", use_single ? "native" : multi_variant(), (double)C[${m * n - 1}]);
  double total = 0;
  for (int r = 0; r < 1000 && (total < 0.3 || r < 3); r++) {
    double t0 = now();
    if (use_single) single(A, B, C); else multi(A, B, C);
    double t = now() - t0;
    total += t;
    printf("%s%.9f", r ? "," : "", t);
  }
  printf("]}\\n");
  return 0;
}
`);
const cc = target.compiler.command;
const compile = (args: string[]) => {
  const r = spawnSync(cc, args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cc} ${args.join(' ')}: ${r.stderr}`);
};
// The native kernel gets the flags it was tuned with; the multi-ISA file only -O3 (its variants carry their ISA).
compile([...target.cflags, '-fopenmp', '-c', 'single.c', '-o', 'single.o']);
compile(['-O3', '-ffp-contract=fast', '-fopenmp', '-c', 'multi.c', '-o', 'multi.o']);
compile(['-O2', '-fopenmp', 'main.c', 'single.o', 'multi.o', '-o', 'main', '-lm']);

const configs = [
  { label: 'emit --lang c (this machine)', build: target.cflags.join(' '), args: ['single'], env: {} },
  { label: 'emit --lang c --devices all', build: '-O3 (no -march)', args: ['multi'], env: {} },
  { label: 'the same, LOOPSMITH_ISA=scalar', build: '-O3 (no -march)', args: ['multi'], env: { LOOPSMITH_ISA: 'scalar' } },
];
const samples = configs.map(() => [] as number[]);
const variants = configs.map(() => '');
const checks = configs.map(() => 0);
await gate.check('timing');
for (let r = 0; r < argv.rounds; r++) {
  configs.forEach((c, i) => {
    const x = spawnSync(join(dir, 'main'), c.args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', ...c.env } });
    if (x.status !== 0) throw new Error(`${c.label}: ${x.stderr}`);
    const o = JSON.parse(x.stdout) as { variant: string; check: number; times: number[] };
    samples[i]!.push(median(o.times));
    variants[i] = o.variant;
    checks[i] = o.check;
  });
}
const rows = configs.map((c, i) => {
  const s = samples[i]!, med = median(s);
  return { kernel: c.label, build: c.build, variant: variants[i]!, gflops: w.flops / med / 1e9, spread: (quantile(s, 0.8) - quantile(s, 0.2)) / med, vsNative: median(samples[0]!) / med, check: checks[i]! };
});
const agree = rows.every((r) => Math.abs(r.check - rows[0]!.check) <= 1e-3 * Math.max(1, Math.abs(rows[0]!.check)));
if (argv.json) process.stdout.write(JSON.stringify({ workload: w.key, device: target.description, rounds: argv.rounds, underLoad: gate.underLoad, rows, outputsAgree: agree }, null, 2) + '\n');
else {
  process.stdout.write(`${w.key} on ${target.description}; ${argv.rounds} interleaved rounds, median of each round's median${gate.underLoad ? '; MEASURED UNDER LOAD' : ''}\n`);
  process.stdout.write(table(['kernel', 'built with', 'variant', 'GFLOP/s', 'spread', 'vs native'], rows.map((r) => [r.kernel, r.build, r.variant, r.gflops.toFixed(2), `${(r.spread * 100).toFixed(1)}%`, `${r.vsNative.toFixed(2)}x`])) + '\n');
  process.stdout.write(agree ? 'outputs agree (last element of C)\n' : 'OUTPUTS DISAGREE\n');
}
process.exit(agree ? 0 : 1);
