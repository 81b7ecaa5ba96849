import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBadInput, cliWith } from '../../cli.test.js';

const PLUGIN = fileURLToPath(new URL('./plugin.js', import.meta.url));
const GEMM = ['gemm', '--m', '16', '--n', '16', '--k', '16'];

function cli(plugins: string, ...args: string[]) {
  return cliWith({ timeout: 120_000, env: { LOOPSMITH_PLUGINS: plugins } }, ...args);
}

/** A third target from a plugin: the commands reach it through the registry like the built-in ones. */
describe('a plugin target (the reference executor) through the registry', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-interp-'));
  const records = join(dir, 'records.jsonl');

  it('run verifies and times a scheduled kernel', () => {
    const schedule = join(dir, 'split.json');
    writeFileSync(schedule, JSON.stringify({ version: 1, steps: [{ prim: 'split', loop: 'i', factors: [4], tail: 'requireDivisible' }, { prim: 'unroll', loop: 'i.1' }] }));
    const r = cli(PLUGIN, 'run', ...GEMM, '--target', 'interp', '--schedule', schedule, '--min-time', '0.02');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /on the reference executor on Node/);
    assert.match(r.stdout, /result {3}correct/);
    assert.match(r.stdout, /median {3}[\d.]+ (us|ms)\s+[\d.]+ GFLOP\/s/);
  });

  it('tune finds a best kernel and records it under the target\'s kind', () => {
    const r = cli(PLUGIN, 'tune', ...GEMM, '--target', 'interp', '--trials', '6', '--min-time', '0.01', '--records', records, '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { target: string; fingerprint: { key: string }; best: { gflops: number } | null };
    assert.equal(j.target, 'interp');
    assert.match(j.fingerprint.key, /^interp:/);
    assert.ok(j.best && j.best.gflops > 0);
  });

  it('compare measures the naive and the tuned kernel in one table', () => {
    const r = cli(PLUGIN, 'compare', ...GEMM, '--target', 'interp', '--schedules', 'naive', 'best', '--rounds', '3', '--records', records);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /on interp \(interp:[0-9a-f]+\), 3 interleaved rounds/);
    assert.match(r.stdout, /^naive\s+ok\s.*baseline$/m);
    assert.match(r.stdout, /^best\s+ok\s/m);
  });

  it('the unknown-target line lists the plugin\'s target; a plugin that cannot load is one line', () => {
    assertBadInput(cli(PLUGIN, 'run', ...GEMM, '--target', 'fpga'), /unknown target 'fpga'; targets: c, webgpu, interp$/);
    assertBadInput(cli('./no/such/plugin.js', 'ops'), /cannot load plugin '\.\/no\/such\/plugin\.js' named in LOOPSMITH_PLUGINS: .*registerTarget/);
  });

  it('a plugin whose definition does not check out is one line naming the field', () => {
    const registry = fileURLToPath(new URL('../../../targets/registry.js', import.meta.url));
    const plugin = (name: string, definition: string) => {
      const file = join(dir, `${name}.mjs`);
      writeFileSync(file, `import { registerTarget } from ${JSON.stringify(registry)};\nregisterTarget(${definition});\n`);
      return file;
    };
    const cases: [string, string, RegExp][] = [
      ['no-create', `{ name: 'npu', options: [], languages: ['c'] }`, /registerTarget: target 'npu'\.create: must be a function/],
      ['bad-option', `{ name: 'npu', options: [{ name: 'Threads', describe: '' }], languages: [], create: () => null }`, /target 'npu'\.options\[0\]\.name: must be lower-case letters/],
      ['misspelt-option-field', `{ name: 'npu', options: [{ name: 'cores', describ: '' }], languages: [], create: () => null }`, /unknown field `describ`; did you mean `describe`\?/],
      ['bad-language', `{ name: 'npu', options: [], languages: ['cuda'], create: () => null }`, /languages\[0\]: must be one of c, wgsl, ts, got "cuda"/],
      ['taken-name', `{ name: 'c', options: [], languages: [], create: () => null }`, /target 'c' is registered twice/],
    ];
    for (const [name, definition, pattern] of cases) {
      const r = cli(plugin(name, definition), 'ops');
      assertBadInput(r, /^loopsmith: cannot load plugin .* named in LOOPSMITH_PLUGINS: registerTarget: /);
      assert.match(r.stderr, pattern, name);
    }
  });
});
