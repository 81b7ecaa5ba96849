/**
 * `npm run bench:search`: the search strategies (with and without the cost model) against each
 * other and against the peers, on the issue 11 workloads on both targets: each tune from fresh
 * records, several seeds, best-so-far by trial and by wall-clock second, candidates measured per
 * second, the final best re-measured, and the speed targets computed from it all.
 *
 *   npm run bench:search -- [--workloads gemm1024,...] [--time-budget 180] [--trials N] [--seeds 5]
 *     [--strategies random,sa,q,flex] [--models on,off] [--starting-points 8] [--threads 1]
 *     [--min-time 0.1] [--horizon N] [--ignore-load] [--max-wait 600] [--out bench-results] [--json]
 *
 * Prints the tables (bench/search/tables.ts) and writes bench-results/search-<date>.json and the
 * curves (bench/search/files.ts).
 */
import { relative } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { InputError, LoopsmithError } from '../ir/errors.js';
import { detectCpu } from '../targets/cpu-info.js';
import { integerOption } from '../targets/target.js';
import { MODEL_MODES, ModelMode } from '../tuner/model-guided.js';
import { STRATEGIES, StrategyName } from '../tuner/strategies.js';
import { LoadGate, loadThresholdFor } from './load-gate.js';
import { writeSearchFiles } from './search/files.js';
import { SearchConfig } from './search/result.js';
import { searchBench } from './search/run.js';
import { searchTables } from './search/tables.js';
import { DEFAULT_WORKLOADS, WORKLOAD_IDS, searchWorkloads } from './search/workloads.js';

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** The command line with `--workloads` set to one id: that workload alone, with the same settings. */
function withWorkloads(args: readonly string[], id: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--workloads') i++;
    else if (!args[i]!.startsWith('--workloads=')) out.push(args[i]!);
  }
  return [...out, '--workloads', id];
}

function configs(strategies: readonly string[], models: readonly string[]): SearchConfig[] {
  const badS = strategies.filter((s) => !(STRATEGIES as readonly string[]).includes(s));
  if (badS.length || !strategies.length) throw new InputError(`--strategies takes a comma list of ${STRATEGIES.join(', ')}; got '${strategies.join(',')}'`);
  const badM = models.filter((m) => !(MODEL_MODES as readonly string[]).includes(m));
  if (badM.length || !models.length) throw new InputError(`--models takes a comma list of ${MODEL_MODES.join(', ')}; got '${models.join(',')}'`);
  // Without the cost model a strategy is labelled '<name>-nomodel': the ablation.
  return strategies.flatMap((strategy) => models.map((model) => ({ strategy: strategy as StrategyName, model: model as ModelMode, label: model === 'on' ? strategy : `${strategy}-nomodel` })));
}

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .option('workloads', { type: 'string', default: DEFAULT_WORKLOADS.join(','), describe: `comma list of ${WORKLOAD_IDS.join(', ')}` })
    .option('time-budget', { type: 'number', describe: 'seconds per tune (default 180, or none when only --trials is given)' })
    .option('trials', { type: 'number', describe: 'trials per tune (default: no limit but the time budget)' })
    .option('seeds', { type: 'number', default: 5 })
    .option('strategies', { type: 'string', default: STRATEGIES.join(',') })
    .option('models', { type: 'string', default: 'on,off', describe: 'cost model settings: on, off (off: the ablation, labelled <strategy>-nomodel)' })
    .option('starting-points', { type: 'number', default: 8, describe: 'starting points measured first by each tune (0: none)' })
    .option('threads', { type: 'number', default: 1, describe: 'C target threads (and the CPU peer\'s)' })
    .option('min-time', { type: 'number', default: 0.1, describe: 'seconds of timed runs per candidate, as loopsmith tune' })
    .option('horizon', { type: 'number', describe: 'trials the strategies plan over (default --trials, or the budget at 2 candidates/s on C, 1/s on WebGPU)' })
    .option('ignore-load', { type: 'boolean', default: false, describe: 'measure even when the machine is busy (the results say "measured under load")' })
    .option('max-wait', { type: 'number', default: 600, describe: 'seconds to wait for a quiet machine before each workload' })
    .option('out', { type: 'string', default: 'bench-results' })
    .option('json', { type: 'boolean', default: false, describe: 'print the result JSON to stdout (tables go to stderr)' })
    .strict().help().parseAsync();
  const trials = argv.trials === undefined ? Infinity : integerOption('trials', argv.trials, 1);
  const timeBudget = argv['time-budget'] ?? (argv.trials === undefined ? 180 : undefined);
  if (timeBudget !== undefined && !(timeBudget > 0)) throw new InputError(`--time-budget must be a positive number of seconds, got '${String(argv['time-budget'])}'`);
  if (!(argv['min-time'] > 0)) throw new InputError(`--min-time must be a positive number of seconds, got '${String(argv['min-time'])}'`);
  const args = process.argv.slice(2);
  const script = ['node', relative(process.cwd(), process.argv[1]!) || process.argv[1]!];
  const log = (s: string) => process.stderr.write(s + '\n');
  const result = await searchBench({
    workloads: searchWorkloads(list(argv.workloads)), configs: configs(list(argv.strategies), list(argv.models)),
    seeds: integerOption('seeds', argv.seeds, 1), trials, ...(timeBudget !== undefined ? { timeBudgetSeconds: timeBudget } : {}),
    ...(argv.horizon !== undefined ? { horizon: integerOption('horizon', argv.horizon, 1) } : {}),
    startingPoints: integerOption('starting-points', argv['starting-points'], 0), threads: integerOption('threads', argv.threads, 1), minSeconds: argv['min-time'],
    command: [...script, ...args].map(quote).join(' '), commandFor: (id) => [...script, ...withWorkloads(args, id)].map(quote).join(' '),
    gate: new LoadGate({ threshold: loadThresholdFor(detectCpu().cores), maxWaitSeconds: argv['max-wait'], pollSeconds: 10, ignore: argv['ignore-load'], log }),
    log,
  });
  const [json, ...curves] = writeSearchFiles(argv.out, result);
  (argv.json ? process.stderr : process.stdout).write(`\n${searchTables(result)}\nwrote ${json}\ncurves: ${curves.join(', ')}\n`);
  if (argv.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

main().then(
  // TF.js's device and dawn.node's polling would keep the process alive.
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench:search: ${e instanceof LoopsmithError ? e.message : e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(e instanceof InputError ? 2 : 1);
  },
);
