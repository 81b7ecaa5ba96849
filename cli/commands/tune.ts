import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { operatorCommand } from '../operator-command.js';
import { InputError } from '../../ir/errors.js';
import { integerOption } from '../../targets/target.js';
import { TargetEvaluator } from '../../tuner/evaluate.js';
import { DEFAULT_RECORDS_PATH, RecordStore } from '../../tuner/records.js';
import { STRATEGIES, StrategyName } from '../../tuner/strategies.js';
import { Progress, tune } from '../../tuner/tune.js';
import { traceToTypeScript } from '../../scheduler/trace.js';
import { workloadFromArgv } from '../params.js';
import { formatSeconds } from '../format.js';
import { targetArgNames, targetFromArgv, withTargetOptions } from '../target-args.js';

export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function progressLine(p: Progress): string {
  const pct = Math.floor((p.trial / p.budget) * 100);
  const bar = '#'.repeat(Math.floor(pct / 5)).padEnd(20, '.');
  const best = p.bestGflops ? `best ${p.bestGflops.toFixed(2)}` : 'best -';
  const cur = p.currentGflops ? `current ${p.currentGflops.toFixed(2)}` : 'current -';
  const left = p.etaSeconds !== undefined ? `~${formatSeconds(p.etaSeconds)} left` : '';
  return `[${bar}] trial ${p.trial}/${p.budget}  ${best}  ${cur} GFLOP/s  failures ${p.failures}  from records ${p.fromRecords}  ${left}`;
}

export function tuneCommand(y: Argv): Argv {
  return operatorCommand(y, 'tune', {
    describe: 'Search the schedule space of an operator on a target and keep every measurement in the records',
    json: 'machine-readable result on stdout (progress still on stderr)',
    options: (a) => withTargetOptions(a
      .option('trials', { type: 'string', default: '100', describe: 'candidates to try' })
      .option('time-budget', { type: 'string', describe: 'stop after this many seconds' })
      .option('strategy', { type: 'string', default: 'flex', describe: `search strategy: ${STRATEGIES.join(', ')}` })
      .option('seed', { type: 'string', default: '1', describe: 'search seed (input data always uses seed 1)' })
      .option('records', { type: 'string', default: DEFAULT_RECORDS_PATH, describe: 'records file (JSON lines, append-only)' })
      .option('min-time', { type: 'string', default: '0.1', describe: 'seconds of timed runs per candidate' }))
      .example('$0 tune gemm --m 512 --n 512 --k 512 --target c --trials 100', 'tune; run it again to resume')
      .example('$0 tune conv2d --n 1 --c 64 --h 56 --w 56 --k 64 --kh 3 --kw 3 --pad 1 --strategy sa --trials 200', 'another strategy')
      .epilogue([
        'Every candidate is verified against the reference before it is timed; failed and wrong ones are recorded but never best.',
        `Records (default ${DEFAULT_RECORDS_PATH}) are appended as each candidate is measured: a rerun of the same command resumes`,
        'without measuring known points again, and a killed run loses nothing it measured. Ctrl-C stops cleanly and prints the best so far.',
        'Exit codes: 0 a verified kernel was found, 1 none was (every candidate failed), 2 bad input, 130 interrupted.',
      ].join('\n')),
    handler: async (argv) => {
      // The search proposes points of its own space, which a hand-written trace is not.
      if (argv.schedule !== undefined) throw new InputError('tune does not take --schedule (it searches its own schedule space); to measure a schedule against the tuned best: loopsmith compare <op> ... --schedules best <file>');
      const target = String(argv.target);
      const strategy = String(argv.strategy);
      if (!(STRATEGIES as readonly string[]).includes(strategy)) throw new InputError(`unknown strategy '${strategy}'; strategies: ${STRATEGIES.join(', ')}`);
      const w = workloadFromArgv(argv, [...targetArgNames(), 'trials', 'time-budget', 'strategy', 'seed', 'records', 'min-time']);
      const trials = integerOption('trials', argv.trials, 1);
      const seed = integerOption('seed', argv.seed, 0);
      const timeBudget = argv['time-budget'] === undefined ? undefined : Number(argv['time-budget']);
      if (timeBudget !== undefined && !(timeBudget > 0)) throw new InputError(`--time-budget must be a positive number of seconds, got '${String(argv['time-budget'])}'`);
      const minTime = Number(argv['min-time']);
      if (!(minTime > 0)) throw new InputError(`--min-time must be a positive number of seconds, got '${String(argv['min-time'])}'`);
      const db = new RecordStore(String(argv.records));
      const evaluator = new TargetEvaluator(targetFromArgv(argv, { minSeconds: minTime }));
      const stop = { requested: false };
      const onSigint = () => {
        if (stop.requested) process.exit(130);
        stop.requested = true;
        process.stderr.write('\nstopping after the candidate in flight (Ctrl-C again to quit at once)...\n');
      };
      process.on('SIGINT', onSigint);
      const tty = process.stderr.isTTY;
      let lastLine = 0;
      try {
        await evaluator.target.open();
        process.stderr.write(`tuning ${w.key} on ${target} (${evaluator.fingerprint.key}) with ${strategy}, ${trials} trials; records ${db.path}\n`);
        const result = await tune(w, evaluator, {
          strategy: strategy as StrategyName, trials, seed, records: db, version: packageVersion(), stop,
          ...(timeBudget !== undefined ? { timeBudgetSeconds: timeBudget } : {}),
          onProgress: (p) => {
            if (tty) process.stderr.write(`\r${progressLine(p)}\x1b[K`);
            else if (p.trial === p.budget || p.elapsedSeconds - lastLine > 10) {
              lastLine = p.elapsedSeconds;
              process.stderr.write(progressLine(p) + '\n');
            }
          },
        });
        if (tty) process.stderr.write('\n');
        for (const warn of result.warnings) process.stderr.write(`warning: ${warn}\n`);
        const b = result.best;
        if (argv.json) {
          process.stdout.write(JSON.stringify({
            workload: w.key, target, fingerprint: evaluator.fingerprint, strategy, seed, trials: result.trials, measured: result.measured,
            fromRecords: result.fromRecords, resumed: result.resumed, failures: result.failures, stoppedBy: result.stoppedBy, spaceSize: result.spaceSize,
            validFraction: result.validFraction, curve: result.curve,
            best: b ? { recordId: b.recordId, remeasured: b.remeasured !== undefined, gflops: b.measurement.gflops, median: b.measurement.stats?.median, spread: b.measurement.stats?.spread, trace: b.trace } : null,
          }, null, 2) + '\n');
        } else {
          const fails = Object.entries(result.failures).map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
          process.stdout.write([
            `${w.key} on ${target}: ${result.trials} trials (${result.measured} measured now, ${result.fromRecords} from the records${result.resumed ? `, resuming an earlier run at trial ${result.resumed}` : ''}), stopped by ${result.stoppedBy}`,
            `space: ${result.spaceSize.toExponential(2)} points, ${(result.validFraction * 100).toFixed(1)} % of proposed points valid; failures: ${fails}`,
            b ? `best: ${b.measurement.gflops!.toFixed(2)} GFLOP/s, median ${formatSeconds(b.measurement.stats!.median)} (${b.remeasured ? 're-measured' : 'as measured during the search, not re-measured'}; spread ${(b.measurement.stats!.spread * 100).toFixed(1)} %), record ${b.recordId}` : 'best: none (no candidate was correct)',
            ...(b ? ['schedule:', ...traceToTypeScript(b.trace).split('\n').map((l) => `  ${l}`)] : []),
          ].join('\n') + '\n');
        }
        if (stop.requested) process.exitCode = 130;
        else if (!b) process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSigint);
        await evaluator.close();
      }
    },
  });
}
