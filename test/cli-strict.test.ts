import { assertBadInput, cli } from './cli.test.js';

const GEMM = ['gemm', '--m', '8', '--n', '8', '--k', '8'];

/** Every command refuses what it does not take, before doing anything. */
describe('cli: unknown flags and extra arguments', function () {
  this.timeout(60_000);

  const bad: [string[], RegExp][] = [
    [['ops', 'extra'], /Unknown argument: extra; run `loopsmith ops --help`/],
    [['ops', '--bogus'], /Unknown argument: bogus; run `loopsmith ops --help`/],
    [['devices', '--bogus', '1'], /Unknown argument: bogus; run `loopsmith devices --help`/],
    [['devices', 'extra'], /Unknown argument: extra/],
    [['report', '--bogus'], /Unknown argument: bogus; run `loopsmith report --help`/],
    [['records', 'list', '--bogus'], /Unknown argument: bogus; run `loopsmith records --help`/],
    [['records', 'list', 'extra.jsonl'], /records list takes no file arguments \(got 'extra\.jsonl'\); only merge does/],
    [['build', 'kernels.json', 'extra'], /Unknown argument: extra; run `loopsmith build --help`/],
    [['build', 'kernels.json', '--bogus'], /Unknown argument: bogus/],
    [['nosuch', '--x'], /Unknown command: nosuch; run `loopsmith --help` for the commands/],
    [['run', 'gemm', 'extra', '--m', '8', '--n', '8', '--k', '8'], /unexpected argument 'extra': `loopsmith run` takes one operator name, then --options/],
    [['run', ...GEMM, '--bogus', '1'], /gemm has no parameter 'bogus'/],
    [['show', 'gemm', 'a', 'b', '--m', '8'], /unexpected arguments 'a', 'b': `loopsmith show` takes one operator name/],
    [['tune', ...GEMM, 'extra'], /unexpected argument 'extra': `loopsmith tune`/],
    [['compare', ...GEMM, 'extra'], /unexpected argument 'extra': `loopsmith compare`/],
    [['emit', ...GEMM, 'extra'], /unexpected argument 'extra': `loopsmith emit`/],
    [['emit', ...GEMM, '--bogus', '1'], /gemm has no parameter 'bogus'/],
  ];
  for (const [args, pattern] of bad) {
    it(`refuses: ${args.join(' ')}`, () => assertBadInput(cli(...args), pattern));
  }
});
