/**
 * Flags a command or its target does not take are refused in one line (exit 2), never silently
 * dropped or taken in another sense: issue 25, point 6.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBadInput, cli } from './cli.test.js';

const GEMM = ['gemm', '--m', '8', '--n', '8', '--k', '8'];

describe('cli: flags the command or the target does not take', function () {
  this.timeout(120_000);
  const cases: [string, string[], RegExp][] = [
    ['--threads with --target webgpu', ['run', ...GEMM, '--target', 'webgpu', '--threads', '2'], /^loopsmith: --threads is an option of the c target, not of webgpu; --target webgpu takes no target options$/],
    ['--cflags with --target webgpu (tune)', ['tune', ...GEMM, '--target', 'webgpu', '--cflags', '-O2'], /--cflags is an option of the c target, not of webgpu/],
    ['--cc with --target webgpu (compare)', ['compare', ...GEMM, '--target', 'webgpu', '--cc', 'gcc'], /--cc is an option of the c target/],
    ['--threads with emit --lang wgsl', ['emit', ...GEMM, '--lang', 'wgsl', '--threads', '2', '--out', '/tmp/never-written'], /--threads is an option of the c target, not of webgpu/],
    ['--threads for a webgpu worker', ['worker', '--redis', 'redis://127.0.0.1:1', '--target', 'webgpu', '--threads', '2'], /--threads is an option of the c target, not of webgpu/],
    ['--threads with --farm (the workers\' option)', ['tune', ...GEMM, '--farm', 'redis://127.0.0.1:1', '--threads', '2'], /^loopsmith: --threads is the workers' with --farm/],
    // It was silently ignored: the tune ran on the farm's C workers.
    ['--target with --farm (the workers\' option)', ['tune', ...GEMM, '--farm', 'redis://127.0.0.1:1', '--target', 'webgpu'], /^loopsmith: --target is the workers' with --farm: each worker serves its own/],
    ['--device without --farm', ['tune', ...GEMM, '--device', 'all'], /^loopsmith: --device picks devices of a farm; give --farm URL too/],
    ['--trials 1e99', ['tune', ...GEMM, '--trials', '1e99'], /^loopsmith: --trials must be an integer of at least 1, got '1e99'$/],
    ['--trials 2.5', ['tune', ...GEMM, '--trials', '2.5'], /--trials must be an integer of at least 1, got '2\.5'/],
    ['--seed past 2^53', ['run', ...GEMM, '--seed', '9007199254740993'], /--seed must be an integer of at least 0, got '9007199254740993'/],
    ['--time-budget 0', ['tune', ...GEMM, '--time-budget', '0'], /--time-budget must be a positive number of seconds, got '0'/],
    ['--lang given twice', ['emit', ...GEMM, '--lang', 'c', '--lang', 'ts'], /^loopsmith: --lang given more than once \('c', 'ts'\); give it once$/],
    ['--target given twice', ['run', ...GEMM, '--target', 'c', '--target', 'webgpu'], /--target given more than once/],
    ['an operator parameter given twice', ['show', ...GEMM, '--m', '16'], /--m given more than once/],
    ['a bad farm action', ['farm', 'stats', '--farm', 'redis://127.0.0.1:1'], /^loopsmith: unknown farm action 'stats'; did you mean status\? actions: status$/],
    ['a misspelt operator', ['show', 'gemmm', '--m', '8'], /unknown op 'gemmm'; did you mean gemm\?/],
    ['a misspelt parameter', ['show', 'gemm', '--m', '8', '--n', '8', '--kk', '8'], /gemm has no parameter 'kk'; did you mean --k\?/],
    ['--rounds 2', ['compare', ...GEMM, '--rounds', '2'], /--rounds must be an integer from 3 to 1000, got '2'/],
    ['--schedules with no value', ['compare', ...GEMM, '--schedules', '--rounds', '3'], /^loopsmith: --schedules needs at least one value/],
    ['a switch given a value', ['show', ...GEMM, '--json=yes'], /^loopsmith: --json is a switch: give it alone \(or --no-json\), not '--json=yes'$/],
    // The shape limits hold on every path that compiles a kernel, checked or not, here or on a farm.
    ['a shape past 32-bit indices with emit --no-verify', ['emit', 'gemm', '--m', '65536', '--n', '65536', '--k', '65536', '--lang', 'c', '--no-verify', '--out', '/tmp/never-written'], /32-bit integers/],
    ['a shape past 32-bit indices with tune --farm', ['tune', 'gemm', '--m', '65536', '--n', '65536', '--k', '65536', '--farm', 'redis://127.0.0.1:1'], /32-bit integers/],
    ['a shape past 32-bit indices with run --emit', ['run', 'gemm', '--m', '65536', '--n', '65536', '--k', '65536', '--emit'], /32-bit integers/],
    // An option left without a value was read as absent: `run --schedule` timed the unscheduled kernel.
    ['--schedule without a value', ['run', ...GEMM, '--schedule'], /^loopsmith: --schedule needs a value \(it was given none, or an empty one\); run `loopsmith run --help` for what it takes$/],
    ['--out \'\' (was the current folder)', ['emit', ...GEMM, '--fallback', '--out', ''], /^loopsmith: --out needs a value/],
    ['--name \'\' (was written as v_.c)', ['emit', ...GEMM, '--fallback', '--name', '', '--out', '/tmp/never-written'], /^loopsmith: --name needs a value/],
    ['--name that is no identifier (was rewritten to escaped.c)', ['emit', ...GEMM, '--fallback', '--name', '../escaped', '--out', '/tmp/never-written'], /^loopsmith: --name must be an identifier \(letters, digits, _\): it names the generated files and functions, got '\.\.\/escaped'$/],
    // yargs crashed on a flag named like an Object.prototype member.
    ['--constructor', ['show', ...GEMM, '--constructor', '1'], /^loopsmith: Unknown argument: constructor; run `loopsmith show --help` for what it takes$/],
    // Number() reads hex; operator parameters never did.
    ['--trials 0x10', ['tune', ...GEMM, '--trials', '0x10'], /^loopsmith: --trials must be an integer of at least 1, got '0x10'$/],
    ['a misspelt option of the command', ['tune', ...GEMM, '--recods', 'x.jsonl'], /^loopsmith: unknown option --recods; did you mean --records\? \(gemm's parameters are: m, n, k, transA, transB, prepack; `loopsmith tune --help` lists the options\)$/],
    // A timer past 2^31 - 1 ms fires at once: Node warned on every renewal, thousands of lines a second.
    ['--connect-timeout 1e99', ['farm', 'status', '--farm', 'redis://127.0.0.1:1', '--connect-timeout', '1e99'], /^loopsmith: --connect-timeout must be a positive number of seconds, at most 2147483 \(24\.8 days, the longest timer\), got '1e99'$/],
    ['--lock-ms past the longest timer', ['worker', '--redis', 'redis://127.0.0.1:1', '--lock-ms', '9007199254740991'], /^loopsmith: --lock-ms must be an integer from 500 to 2147483647, got '9007199254740991'$/],
    ['farm without --farm', ['farm'], /^loopsmith: --farm is required; run `loopsmith farm --help` for what it takes$/],
    ['farm without an action', ['farm', '--farm', 'redis://127.0.0.1:1'], /^loopsmith: farm needs an action: status \(loopsmith farm status --farm URL\)$/],
    ['build without a manifest', ['build'], /^loopsmith: build needs a kernels manifest \(kernels\.json\); run `loopsmith build --help` for what it takes$/],
    // The "tuning ..." banner used to come first: two lines for one problem.
    ['tune --records naming a directory', ['tune', ...GEMM, '--records', '/tmp'], /^loopsmith: cannot read the records file \/tmp: it is a directory, not a regular file/],
    ['a misspelt records action', ['records', 'lst'], /^loopsmith: unknown records action 'lst'; did you mean list\? actions: list, best, export, merge, prune$/],
  ];
  for (const [what, args, pattern] of cases) it(`refuses ${what}`, () => assertBadInput(cli(...args), pattern));
});

describe('cli: --version', () => {
  it("prints loopsmith's version when installed in another project (not that project's)", () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const own = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    // An npm install as a dependency: loopsmith's files under node_modules/loopsmith, its
    // dependencies hoisted beside it (yargs among them), the project's own package.json above.
    const project = mkdtempSync(join(tmpdir(), 'loopsmith-other-project-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'someone-else', version: '9.9.9' }));
    const modules = join(project, 'node_modules'), pkg = join(modules, 'loopsmith');
    mkdirSync(pkg, { recursive: true });
    for (const f of ['dist', 'package.json']) symlinkSync(join(root, f), join(pkg, f));
    for (const dep of readdirSync(join(root, 'node_modules')).filter((d) => !d.startsWith('.'))) symlinkSync(join(root, 'node_modules', dep), join(modules, dep));
    // Links kept as paths, as a copied install would be.
    const r = spawnSync(process.execPath, ['--preserve-symlinks', '--preserve-symlinks-main', join(pkg, 'dist', 'cli', 'main.js'), '--version'], { cwd: project, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), own);
  });
});
