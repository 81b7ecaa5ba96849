import type { Argv } from 'yargs';
import { stopOnSigint } from '../interrupt.js';
import { hideBin } from 'yargs/helpers';
import { operatorCommand } from '../operator-command.js';
import { InputError, RunError } from '../../ir/errors.js';
import type { Workload } from '../../ir/ops/index.js';
import { ConnectionOptions, shownUrl } from '../../targets/farm/protocol.js';
import { FARM_ARG_NAMES, farmConnection, withFarmOptions } from '../farm-args.js';
import { integerOption } from '../../targets/target.js';
import { Evaluator, TargetEvaluator } from '../../tuner/evaluate.js';
import { MODEL_MODES, ModelMode } from '../../tuner/model-guided.js';
import { DEFAULT_RECORDS_PATH, RecordStore, loopsmithVersion } from '../../tuner/records.js';
import { STRATEGIES, StrategyName } from '../../tuner/strategies.js';
import { FINALISTS, Progress, TuneBest, TuneResult, plannedHorizon, tune } from '../../tuner/tune.js';
import { deviceLabel } from '../../tuner/devices.js';
import type { Measurement } from '../../targets/measurement.js';
import { traceToTypeScript } from '../../scheduler/trace.js';
import { traceHash } from '../../tuner/space.js';
import { earlyAbortOption, minTimeOption, secondsOption, workloadFromArgv } from '../params.js';
import { formatSeconds } from '../format.js';
import { targetOptions } from '../../targets/registry.js';
import { targetArgNames, targetFromArgv, withTargetOptions } from '../target-args.js';


function progressLine(p: Progress): string {
  const pct = Math.floor((p.trial / p.budget) * 100);
  const bar = '#'.repeat(Math.floor(pct / 5)).padEnd(20, '.');
  const best = p.bestGflops ? `best ${p.bestGflops.toFixed(2)}` : 'best -';
  const cur = p.currentGflops ? `current ${p.currentGflops.toFixed(2)}` : 'current -';
  const left = p.etaSeconds !== undefined ? `~${formatSeconds(p.etaSeconds)} left` : '';
  return `[${bar}] trial ${p.trial}/${p.budget}  ${best}  ${cur} GFLOP/s  failures ${p.failures}  from records ${p.fromRecords}  ${left}`;
}

/** A measurement's rate, median and spread, as the summary prints them. */
function figures(m: Measurement): string {
  if (m.status !== 'ok' || !m.stats) return m.status;
  return `${m.gflops !== undefined ? `${m.gflops.toFixed(2)} GFLOP/s, ` : ''}median ${formatSeconds(m.stats.median)} (spread ${(m.stats.spread * 100).toFixed(1)} %)`;
}

/**
 * The summary's best line: the record `records best` and `emit` take (TuneResult.best), its figures
 * as recorded, and, apart, how it ran when measured again now.
 */
function bestLine(b: TuneBest | undefined, interrupted: boolean, finals: TuneResult['finalRound']): string {
  if (!b) return 'best: none (no candidate was correct)';
  const f = finals.find((x) => traceHash(x.record.trace) === traceHash(b.record.trace));
  const first = f?.record ?? b.record;
  const by = `${b.earlier || first !== b.record ? 'first measured by ' : ''}${b.earlier ? 'an earlier run' : 'this run'}: ${first.strategy}, seed ${first.seed}, trial ${first.trial}`;
  if (f && b.remeasured) return `best: record ${b.recordId} (${by}, ${first.outcome.gflops?.toFixed(1) ?? '-'} GFLOP/s then), ${figures(b.remeasured)} in the final round`;
  const again = b.remeasured ? `re-measured now: ${figures(b.remeasured)}` : `not re-measured${interrupted ? ' (interrupted)' : ''}`;
  return `best: record ${b.recordId} (measured by ${by}), ${figures(b.measurement)} as recorded; ${again}`;
}

/** The finalists, recorded first and now: the gap is the noise a single measurement carried. */
function finalRoundLine(fs: TuneResult['finalRound']): string {
  const shown = (g: number | undefined) => (g === undefined ? '-' : g.toFixed(1));
  const each = fs.map((f) => `${f.record.id} ${shown(f.record.outcome.gflops)} -> ${f.now.status === 'ok' ? shown(f.now.gflops) : f.now.status}`);
  return `final round (the fastest ${fs.length} measured again, GFLOP/s recorded -> now; a trace stands at the median of its measurements): ${each.join('; ')}`;
}

/** The result as the JSON object of --json and as the lines of the plain output. */
function report(w: Workload, result: TuneResult, target: string, fingerprint: Record<string, unknown>, o: { strategy: string; seed: number; interrupted: boolean }): { json: unknown; text: string } {
  const b = result.best;
  const again = b?.remeasured;
  const json = {
    workload: w.key, target, fingerprint, strategy: o.strategy, seed: o.seed, recordsBefore: result.recordsBefore, trials: result.trials, measured: result.measured,
    fromRecords: result.fromRecords, repeats: result.repeats, resumed: result.resumed, failures: result.failures, earlyAborts: result.earlyAborts, started: result.started.map((x) => ({ label: x.label, status: x.measurement.status, gflops: x.measurement.gflops ?? null })), stoppedBy: result.stoppedBy, spaceSize: result.spaceSize,
    finalRound: result.finalRound.map((f) => ({ recordId: f.record.id, traceHash: f.record.traceHash, gflops: f.record.outcome.gflops ?? null, now: { status: f.now.status, gflops: f.now.gflops ?? null, median: f.now.stats?.median ?? null, spread: f.now.stats?.spread ?? null } })),
    validFraction: result.validFraction, model: result.model, passedOver: result.passedOver, modelRows: result.modelRows, curve: result.curve,
    best: b ? {
      recordId: b.recordId, earlier: b.earlier, gflops: b.measurement.gflops, median: b.measurement.stats?.median, spread: b.measurement.stats?.spread,
      remeasured: again ? { status: again.status, gflops: again.gflops ?? null, median: again.stats?.median ?? null, spread: again.stats?.spread ?? null } : null, trace: b.trace,
    } : null,
  };
  const fails = Object.entries(result.failures).map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
  const { count: aborted, factors } = result.earlyAborts;
  const early = aborted ? `; ${aborted} stopped early after one run at > ${factors.map((f) => `${+f.toPrecision(3)}x`).join('/')} the best` : '';
  const repeats = result.repeats ? `, ${result.repeats} repeating a kernel measured earlier in this run` : '';
  const text = [
    `${w.key} on ${target} (${String(fingerprint.key)}): ${result.trials} trials (${result.measured} measured now, ${result.fromRecords} from the records${repeats}${result.resumed ? `, resuming an earlier run at trial ${result.resumed}` : ''}), stopped by ${result.stoppedBy}`,
    ...(result.started.length ? [`started from: ${result.started.map((x) => `${x.label} (${x.measurement.status === 'ok' ? `${x.measurement.gflops!.toFixed(1)} GFLOP/s` : x.measurement.status})`).join('; ')}`] : []),
    `space: ${result.spaceSize.toExponential(2)} points, ${(result.validFraction * 100).toFixed(1)} % of proposed points valid; failures: ${fails}${early}`,
    result.model === 'on' ? `cost model: passed over ${result.passedOver} proposed candidates; trained on ${result.modelRows} measured kernels` : 'cost model: off (every proposed candidate measured)',
    ...(result.finalRound.length ? [finalRoundLine(result.finalRound)] : []),
    bestLine(b, o.interrupted, result.finalRound),
    ...(b ? ['schedule:', ...traceToTypeScript(b.trace).split('\n').map((l) => `  ${l}`)] : []),
  ].join('\n');
  return { json, text };
}

/**
 * The line a tune starts with when the records know the workload on this device: how many valid
 * records of it (this device, these threads) the file holds; other devices' and invalid lines are not counted.
 */
function resumeLine(db: RecordStore, w: Workload, evaluator: Evaluator): string | undefined {
  const n = db.forWorkload(w.key, evaluator.fingerprint.key).length;
  return n ? `resuming: ${n} record${n > 1 ? 's' : ''} of ${w.key} on this device (${deviceLabel(evaluator.kind, evaluator.fingerprint)}) in ${db.path}` : undefined;
}

/** The farm's devices to tune for: `all`, or the fingerprints given (comma-separated). */
async function farmEvaluators(conn: ConnectionOptions, device: string, w: Workload, say: (line: string) => void): Promise<Evaluator[]> {
  // Loaded when used: BullMQ and ioredis take ~0.3 s to load, which commands without --farm should not pay.
  const [{ farmDevices }, { FarmEvaluator }] = await Promise.all([import('../../targets/farm/devices.js'), import('../../targets/farm/evaluator.js')]);
  const devices = await farmDevices(conn);
  if (!devices.length) throw new RunError(`the farm at ${shownUrl(conn.url)} has no live workers; start one there: loopsmith worker --redis ${shownUrl(conn.url)} --target c`);
  const wanted = device === 'all' ? devices : device.split(',').map((fp) => {
    const d = devices.find((x) => x.fingerprint === fp.trim());
    if (!d) throw new InputError(`--device ${fp.trim()}: no live worker has that fingerprint; the farm's devices: ${devices.map((x) => x.fingerprint).join(', ')} (or all)`);
    return d;
  });
  // Two jobs per worker: each has the next one waiting while it measures.
  return wanted.map((d) => new FarmEvaluator(conn, d.record, w, 2 * d.workers.reduce((n, x) => n + x.concurrency, 0), say));
}

export function tuneCommand(y: Argv): Argv {
  return operatorCommand(y, 'tune', {
    describe: 'Search the schedule space of an operator on a target and keep every measurement in the records',
    json: 'machine-readable result on stdout (progress still on stderr)',
    options: (a) => withFarmOptions(withTargetOptions(a)
      .option('trials', { type: 'string', default: '100', describe: 'candidates to try' })
      .option('time-budget', { type: 'string', describe: 'stop after this many seconds' })
      .option('strategy', { type: 'string', default: 'flex', describe: `search strategy: ${STRATEGIES.join(', ')}` })
      .option('seed', { type: 'string', default: '1', describe: 'search seed (input data always uses seed 1)' })
      .option('records', { type: 'string', default: DEFAULT_RECORDS_PATH, describe: 'records file (JSON lines, append-only)' })
      .option('min-time', { type: 'string', default: '0.1', describe: 'seconds of timed runs per candidate (at least 3 runs, at most 1000)' })
      .option('model', { type: 'string', default: 'on', describe: 'cost model: rank many proposed candidates and measure the most promising (on), or measure every proposal (off)' })
      .option('starting-points', { type: 'string', default: '8', describe: 'measure first at most this many known-good schedules: the default and expert ones, and the best records of the nearest shapes of the operator (0: none)' })
      .option('finalists', { type: 'string', default: String(FINALISTS), describe: 'at the end, measure the fastest this many schedules again, together, and record it: a schedule stands at the median of its measurements, so the best is one that holds up (0: no final round)' })
      .option('early-abort', { type: 'string', default: '3', describe: "a verified candidate whose first run took more than this many times the best so far is not timed further ('off': every candidate is timed in full)" })
      .option('device', { type: 'string', describe: 'with --farm: the device fingerprints to tune for (comma-separated), or all (the default); one search per device, at once' }))
      .example('$0 tune gemm --m 512 --n 512 --k 512 --target c --trials 100', 'tune; run it again to resume')
      .example('$0 tune conv2d --n 1 --c 64 --h 56 --w 56 --k 64 --kh 3 --kw 3 --pad 1 --strategy sa --trials 200', 'another strategy')
      .example('$0 tune gemm --m 1024 --n 1024 --k 1024 --early-abort off', 'time every candidate in full, however slow')
      .example('$0 tune gemm --m 256 --n 256 --k 256 --model off --starting-points 0', 'measure every proposed candidate, without the cost model or starting points')
      .example('$0 tune gemm --m 512 --n 512 --k 512 --farm redis://127.0.0.1:6379', 'through the farm\'s workers, for each of its devices at once')
      .epilogue([
        'Every candidate is verified against the reference before it is timed; failed and wrong ones are recorded but never best.',
        'A candidate whose checking run is already --early-abort times slower than the best is recorded with that one run (stopped early),',
        'and runs get limits relative to the best (20x, at least 2 s, at most the 60 s cap): hopeless candidates cost little of the budget.',
        `Records (default ${DEFAULT_RECORDS_PATH}) are appended as each candidate is measured: a rerun of the same command resumes`,
        'without measuring known points again, and a killed run loses nothing it measured. Ctrl-C stops cleanly and prints the best so far.',
        'Before the search, --starting-points known-good schedules are measured (they count as trials): the target\'s default, the',
        'operator\'s expert schedules, and the best records of its nearest shapes on this device, then on other devices, carried onto this shape.',
        'A cost model (models/<op>-<target>.json beside the records, shared by every shape of the operator) picks which proposed candidates are compiled; --model off measures every proposal.',
        'With --farm URL the candidates are measured by the farm\'s workers (loopsmith worker), each device\'s by its own workers, with their timing settings; results go to the local records.',
        'A farm that does not answer within --connect-timeout at the start is an error (exit 1); once reached, an outage is waited out with one line'
          + ' (Ctrl-C twice quits at once). Compiles and runs have their own limits (60 s each); README, "Timeouts", lists every bound.',
        'Exit codes: 0 a verified kernel was found, 1 none was (every candidate failed), 2 bad input, 130 interrupted.',
      ].join('\n')),
    handler: async (argv) => {
      // The search proposes points of its own space, which a hand-written trace is not.
      if (argv.schedule !== undefined) throw new InputError('tune does not take --schedule (it searches its own schedule space); to measure a schedule against the tuned best: loopsmith compare <op> ... --schedules best <file>');
      const target = String(argv.target);
      const strategy = String(argv.strategy);
      if (!(STRATEGIES as readonly string[]).includes(strategy)) throw new InputError(`unknown strategy '${strategy}'; strategies: ${STRATEGIES.join(', ')}`);
      const model = String(argv.model);
      if (!(MODEL_MODES as readonly string[]).includes(model)) throw new InputError(`--model must be on or off, got '${model}'`);
      const w = workloadFromArgv(argv, [...targetArgNames(), 'trials', 'time-budget', 'strategy', 'seed', 'records', 'min-time', 'early-abort', 'starting-points', 'finalists', 'model', 'device', ...FARM_ARG_NAMES]);
      const trials = integerOption('trials', argv.trials, 1);
      const seed = integerOption('seed', argv.seed, 0);
      const timeBudget = argv['time-budget'] === undefined ? undefined : secondsOption('time-budget', argv['time-budget']);
      const workerOption = targetOptions().find((o) => argv[o.name] !== undefined);
      // --target has a default (c), so only the command line tells whether it was given: with --farm it was ignored.
      const targetGiven = hideBin(process.argv).some((a) => a === '--target' || a.startsWith('--target='));
      if (argv.farm !== undefined && targetGiven) throw new InputError('--target is the workers\' with --farm: each worker serves its own (loopsmith worker --target ...), and the tune runs for every device of the farm, or those --device names (loopsmith devices --farm URL lists them); drop --target here');
      if (argv.farm !== undefined && workerOption) throw new InputError(`--${workerOption.name} is the workers' with --farm: each measures under its own options (start them with \`loopsmith worker --${workerOption.name} ...\`); drop it here`);
      if (argv.device !== undefined && argv.farm === undefined) throw new InputError('--device picks devices of a farm; give --farm URL too (without it, tune runs on this machine\'s --target)');
      const minTime = minTimeOption(argv['min-time']);
      const earlyAbortFactor = earlyAbortOption(argv['early-abort']);
      const startingPoints = integerOption('starting-points', argv['starting-points'], 0);
      const finalists = integerOption('finalists', argv.finalists, 0);
      const db = new RecordStore(String(argv.records));
      // Read (and cached) before the first line: a records file that cannot be read is then the one line on stderr.
      db.load();
      const farm = argv.farm !== undefined ? farmConnection(argv) : undefined;
      const local = farm ? undefined : new TargetEvaluator(targetFromArgv(argv, { minSeconds: minTime, earlyAbortFactor }));
      const { stop, release } = stopOnSigint('candidate');
      const evaluators: Evaluator[] = [];
      try {
        if (local) {
          await local.target.open();
          evaluators.push(local);
        } else {
          evaluators.push(...await farmEvaluators(farm!, String(argv.device ?? 'all'), w, (line) => process.stderr.write(line + '\n')));
        }
        // One device: a progress bar on a terminal; several tuned at once: a line per device now and then.
        const tty = process.stderr.isTTY && evaluators.length === 1;
        const outcomes = await Promise.all(evaluators.map(async (evaluator) => {
          const where = farm ? `${evaluator.kind} ${evaluator.fingerprint.key} through the farm` : `${target} (${evaluator.fingerprint.key})`;
          const tag = evaluators.length > 1 ? `${evaluator.fingerprint.key}: ` : '';
          let lastLine = 0;
          process.stderr.write(`tuning ${w.key} on ${where} with ${strategy}, ${trials} trials; records ${db.path}\n`);
          const resuming = resumeLine(db, w, evaluator);
          if (resuming) process.stderr.write(`${tag}${resuming}\n`);
          const result = await tune(w, evaluator, {
            strategy: strategy as StrategyName, trials, seed, records: db, version: loopsmithVersion(), stop, startingPoints, model: model as ModelMode, remeasure: finalists > 0, finalists,
            ...(timeBudget !== undefined ? { timeBudgetSeconds: timeBudget, horizon: plannedHorizon(trials, timeBudget, evaluator.kind) } : {}),
            onProgress: (p) => {
              if (tty) process.stderr.write(`\r${progressLine(p)}\x1b[K`);
              else if (p.trial === p.budget || p.elapsedSeconds - lastLine > 10) {
                lastLine = p.elapsedSeconds;
                process.stderr.write(tag + progressLine(p) + '\n');
              }
            },
          });
          if (tty) process.stderr.write('\n');
          return { evaluator, result };
        }));
        const reports = outcomes.map(({ evaluator, result }) => {
          for (const warn of result.warnings) process.stderr.write(`warning: ${warn}\n`);
          return { evaluator, result, ...report(w, result, evaluator.kind, evaluator.fingerprint, { strategy, seed, interrupted: stop.requested }) };
        });
        if (argv.json) {
          const objs = reports.map((r) => r.json);
          process.stdout.write(JSON.stringify(farm ? objs : objs[0], null, 2) + '\n');
        } else {
          process.stdout.write(reports.map((r) => r.text).join('\n\n') + '\n');
        }
        if (stop.requested) process.exitCode = 130;
        else if (reports.some((r) => !r.result.best)) process.exitCode = 1;
      } finally {
        release();
        await Promise.all(evaluators.map((e) => e.close()));
        if (local && !evaluators.length) await local.close();
      }
      // The farm's Redis clients keep timers; the tune is over.
      if (farm) process.exit(process.exitCode ?? 0);
    },
  });
}
