import { existsSync } from 'node:fs';
import type { Argv } from 'yargs';
import { operatorCommand } from '../operator-command.js';
import { median, quantile } from 'simple-statistics';
import { permutationPValue } from '../../targets/permutation-test.js';
import { InputError } from '../../ir/errors.js';
import { lowerWorkload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { Trace, trace } from '../../scheduler/trace.js';
import { Measurement } from '../../targets/measurement.js';
import { Pipeline } from '../../targets/pipeline.js';
import { integerOption } from '../../targets/target.js';
import { DEFAULT_RECORDS_PATH, RecordStore } from '../../tuner/records.js';
import { loadSchedule } from '../schedule-file.js';
import { workloadFromArgv } from '../params.js';
import { table } from '../format.js';
import { targetArgNames, targetFromArgv, withTargetOptions } from '../target-args.js';

/** Timed seconds per schedule per round (after its warm-up): seven rounds give seven medians. */
const ROUND_SECONDS = 0.05;

/** The smallest p the permutation test gives two samples of these sizes: that of two that do not overlap. */
function smallestP(n: number, m: number): number {
  return permutationPValue(Array.from({ length: n }, (_, i) => i), Array.from({ length: m }, (_, i) => n + i));
}

export function compareCommand(y: Argv): Argv {
  return operatorCommand(y, 'compare', {
    describe: 'Measure several schedules of one workload in the same run, interleaved, and say which differences are real',
    json: 'machine-readable output',
    options: (a) => withTargetOptions(a
      .option('schedules', { type: 'string', array: true, default: ['naive', 'best'], describe: 'each a trace file, a record id, `naive`, `default` or `best`; the first is the baseline' })
      .option('rounds', { type: 'string', default: '7', describe: 'interleaved rounds: each round times every schedule once' })
      .option('records', { type: 'string', default: DEFAULT_RECORDS_PATH, describe: 'records file for `best` and record ids' }))
      .example('$0 compare gemm --m 512 --n 512 --k 512 --schedules naive best', 'the tuned kernel against the naive loop nest')
      .example('$0 compare gemm --m 256 --n 256 --k 256 --schedules scheduler/fixtures/gemm-cpu-256.json best', 'a hand-written schedule against the tuned one')
      .epilogue(`Each round measures every schedule once (round-robin), so drift in the machine hits all alike; each measurement warms up and times as run does (a kernel still getting faster is timed further), with ${ROUND_SECONDS} s of timed runs. "significant" is a two-sided permutation test (exact, or seeded: the same data gives the same p) on the per-round medians against the baseline, p < 0.05. The first schedule is the baseline; if it fails, the first that ran is (a note says so).`),
    handler: async (argv) => {
      const name = String(argv.target);
      const rounds = integerOption('rounds', argv.rounds, 3, 1000);
      const w = workloadFromArgv(argv, [...targetArgNames(), 'schedules', 'rounds', 'records']);
      const base = lowerWorkload(w);
      const db = new RecordStore(String(argv.records));
      // Each round is a whole measurement (check, warm-up, timed runs under the timing rule of every
      // other command), only with fewer timed runs: the rounds' medians are what is compared.
      const target = targetFromArgv(argv, { minSeconds: ROUND_SECONDS });
      const pipeline = new Pipeline(target);
      const cleanup: (() => Promise<void>)[] = [];
      try {
        await target.open();
        const fp = target.fingerprint.key;
        // The records are read (and their warnings printed, once) only when a schedule names them.
        let warned = false;
        const records = (): RecordStore => {
          if (!warned) for (const warning of db.load().warnings) process.stderr.write(`warning: ${warning}\n`);
          warned = true;
          return db;
        };
        const resolve = (spec: string): Trace => {
          if (spec === 'naive') return trace([], w.key);
          if (spec === 'default') return target.defaultTrace?.(base, w.key) ?? trace([], w.key);
          if (spec === 'best') {
            const b = records().best(w.key, fp);
            if (!b) throw new InputError(`no tuning record for ${w.key} on this device in ${db.path}; run \`loopsmith tune\` first or name a trace file`);
            return b.trace;
          }
          if (existsSync(spec)) return loadSchedule(spec);
          const r = records().load().records.find((x) => x.id === spec);
          if (!r) throw new InputError(`schedule '${spec}' is not a file, a record id in ${db.path}, naive, default or best`);
          if (r.workload.key !== w.key) throw new InputError(`record ${spec} is for ${r.workload.key}, not ${w.key}`);
          const invalid = db.replayProblem(r);
          if (invalid) throw new InputError(`record ${spec} in ${db.path} is invalid: its trace does not replay onto ${w.key} (${invalid})`);
          return r.trace;
        };
        const specs = (argv.schedules as string[]).map(String);
        const programs = specs.map((s) => applyTrace(base, resolve(s), { workload: w.key }));
        for (const warning of db.passedOverWarnings()) process.stderr.write(`warning: ${warning}\n`);
        const ref = { key: w.key, unscheduled: base, flops: w.flops };
        const perRound: number[][] = specs.map(() => []);
        const status: (Measurement | undefined)[] = specs.map(() => undefined);
        // Built once; every round runs the same kernels.
        const rendered = programs.map((p) => pipeline.render(p));
        const cands = rendered.flatMap((r) => (r.ok ? [r.candidate] : []));
        const built = await pipeline.build(cands);
        cleanup.push(() => pipeline.release(built));
        const measureOnce = (i: number): Promise<Measurement> => {
          const r = rendered[i]!;
          if (!r.ok) return Promise.resolve(r.measurement);
          const k = cands.indexOf(r.candidate);
          return pipeline.measure(r.candidate, built[k]!, ref);
        };
        for (let r = 0; r < rounds; r++) {
          if (!argv.json) process.stderr.write(`\rround ${r + 1}/${rounds}`);
          for (let i = 0; i < specs.length; i++) {
            if (status[i] && status[i]!.status !== 'ok') continue;
            const m = await measureOnce(i);
            status[i] = m;
            if (m.status === 'ok') perRound[i]!.push(m.stats!.median);
          }
        }
        if (!argv.json) process.stderr.write('\n');
        // The first schedule is the baseline; when it failed, the first that ran stands in (and a note says so).
        const baseIndex = perRound.findIndex((ts) => ts.length > 0);
        const baseTimes = baseIndex >= 0 ? perRound[baseIndex]! : [];
        const rows = specs.map((s, i) => {
          const ts = perRound[i]!;
          if (!ts.length) return { schedule: s, status: status[i]?.status ?? 'not run', message: status[i]?.message, versus: 'failed' };
          const med = median(ts);
          const p = i === baseIndex || baseTimes.length < 3 || ts.length < 3 ? undefined : permutationPValue(ts, baseTimes);
          // With few rounds even two samples that do not overlap at all cannot reach p < 0.05 (3 and 3: p = 0.1):
          // such a p says nothing about the noise, so it is not called "within noise".
          const decidable = p !== undefined && smallestP(ts.length, baseTimes.length) < 0.05;
          const versus = i === baseIndex ? 'baseline' : p === undefined ? 'too few rounds'
            : !decidable ? `too few rounds to tell (p=${p.toFixed(3)}; p < 0.05 needs more rounds)` : `${p < 0.05 ? 'significant' : 'within noise'} (p=${p.toFixed(3)})`;
          return {
            schedule: s, status: 'ok', median: med, spread: (quantile(ts, 0.8) - quantile(ts, 0.2)) / med, gflops: w.flops / med / 1e9,
            speedup: median(baseTimes) / med, pValue: p, significant: decidable ? p < 0.05 : undefined, baseline: i === baseIndex, versus,
          };
        });
        const baseline = baseIndex >= 0 ? specs[baseIndex]! : undefined;
        if (argv.json) {
          process.stdout.write(JSON.stringify({ workload: w.key, target: name, device: fp, rounds, baseline: baseline ?? null, rows }, null, 2) + '\n');
          if (rows.some((r) => r.status !== 'ok')) process.exitCode = 1;
          return;
        }
        process.stdout.write(`${w.key} on ${name} (${fp}), ${rounds} interleaved rounds\n\n`);
        process.stdout.write(table(['schedule', 'status', 'median ms', 'spread', 'GFLOP/s', `speedup`, `vs ${baseline ?? 'baseline'}`], rows.map((r) => [
          r.schedule, r.status, 'median' in r && r.median ? (r.median * 1e3).toFixed(3) : '-', 'spread' in r && r.spread !== undefined ? `${(r.spread * 100).toFixed(1)}%` : '-',
          'gflops' in r && r.gflops ? r.gflops.toFixed(2) : '-', 'speedup' in r && r.speedup ? `${r.speedup.toFixed(2)}x` : '-', r.versus,
        ])) + '\n');
        if (baseIndex > 0) process.stdout.write(`note: the first schedule, ${specs[0]}, failed; speedups are over ${baseline}\n`);
        if (baseIndex < 0) process.stdout.write('note: no schedule ran correctly, so there is nothing to compare\n');
        for (const r of rows) if ('message' in r && r.message) process.stdout.write(`note: ${r.schedule}: ${r.message}\n`);
        if (rows.some((r) => r.status !== 'ok')) process.exitCode = 1;
      } finally {
        for (const c of cleanup) await c();
        await target.close();
      }
    },
  });
}
