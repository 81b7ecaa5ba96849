import { existsSync } from 'node:fs';
import type { Argv } from 'yargs';
import { operatorCommand } from '../operator-command.js';
import { median, permutationTest, quantile } from 'simple-statistics';
import { InputError } from '../../ir/errors.js';
import { lowerWorkload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { Trace, trace } from '../../scheduler/trace.js';
import { Measurement } from '../../targets/measurement.js';
import { Pipeline } from '../../targets/pipeline.js';
import { DEFAULT_RECORDS_PATH, RecordStore } from '../../tuner/records.js';
import { loadSchedule } from '../schedule-file.js';
import { workloadFromArgv } from '../params.js';
import { table } from '../format.js';
import { targetArgNames, targetFromArgv, withTargetOptions } from '../target-args.js';

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
      .epilogue('Each round measures every schedule once (round-robin), so drift in the machine hits all alike. "significant" is a two-sided permutation test on the per-round medians against the baseline, p < 0.05.'),
    handler: async (argv) => {
      const name = String(argv.target);
      const rounds = Number(argv.rounds);
      if (!Number.isInteger(rounds) || rounds < 3) throw new InputError(`--rounds must be an integer of at least 3, got '${String(argv.rounds)}'`);
      const w = workloadFromArgv(argv, [...targetArgNames(), 'schedules', 'rounds', 'records']);
      const base = lowerWorkload(w);
      const db = new RecordStore(String(argv.records));
      const target = targetFromArgv(argv, { minSeconds: 0.02, warmup: 1 });
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
        const baseTimes = perRound[0]!;
        const rows = specs.map((s, i) => {
          const ts = perRound[i]!;
          if (!ts.length) return { schedule: s, status: status[i]?.status ?? 'not run', message: status[i]?.message };
          const med = median(ts);
          const p = i === 0 || baseTimes.length < 3 ? undefined : permutationTest(ts, baseTimes, 'two_side', 2000);
          return {
            schedule: s, status: 'ok', median: med, spread: (quantile(ts, 0.8) - quantile(ts, 0.2)) / med, gflops: w.flops / med / 1e9,
            speedup: baseTimes.length ? median(baseTimes) / med : undefined, pValue: p, significant: p === undefined ? undefined : p < 0.05,
          };
        });
        if (argv.json) {
          process.stdout.write(JSON.stringify({ workload: w.key, target: name, device: fp, rounds, rows }, null, 2) + '\n');
          return;
        }
        process.stdout.write(`${w.key} on ${name} (${fp}), ${rounds} interleaved rounds\n\n`);
        process.stdout.write(table(['schedule', 'status', 'median ms', 'spread', 'GFLOP/s', 'speedup', 'vs first'], rows.map((r) => [
          r.schedule, r.status, 'median' in r && r.median ? (r.median * 1e3).toFixed(3) : '-', 'spread' in r && r.spread !== undefined ? `${(r.spread * 100).toFixed(1)}%` : '-',
          'gflops' in r && r.gflops ? r.gflops.toFixed(2) : '-', 'speedup' in r && r.speedup ? `${r.speedup.toFixed(2)}x` : '-',
          'pValue' in r && r.pValue !== undefined ? `${r.significant ? 'significant' : 'within noise'} (p=${r.pValue.toFixed(3)})` : 'baseline',
        ])) + '\n');
        for (const r of rows) if ('message' in r && r.message) process.stdout.write(`note: ${r.schedule}: ${r.message}\n`);
        if (rows.some((r) => r.status !== 'ok')) process.exitCode = 1;
      } finally {
        for (const c of cleanup) await c();
        await target.close();
      }
    },
  });
}
