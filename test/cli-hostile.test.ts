/**
 * Cases from a hostile pass over the commands (issue 25: nothing lost, nothing hangs, no wrong
 * kernel or figure): each was lost data, a hang or a stack trace before its fix.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordStore, TuningRecord, recordId } from '../tuner/records.js';
import { connectionOf } from '../targets/farm/protocol.js';
import { assertBadInput, cli, cliWith, cliWithin } from './cli.test.js';

const REGISTRY = fileURLToPath(new URL('../targets/registry.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../scheduler/fixtures/', import.meta.url));
const FLOPS = 2 * 8 * 8 * 8;

function rec(id: string, gflops: number): TuningRecord {
  return {
    format: 1, id: recordId(id), workload: { key: 'gemm(k=8,m=8,n=8,transA=0,transB=0):f32', op: 'gemm', params: { m: 8, n: 8, k: 8 }, dtype: 'f32' },
    target: { kind: 'c', fingerprint: { key: 'cpu:a' } }, trace: { version: 1, steps: [] }, traceHash: id,
    outcome: { status: 'ok', gflops, median: FLOPS / gflops / 1e9 }, strategy: 'flex', seed: 1, trial: 0, timestamp: new Date(0).toISOString(), loopsmith: 'test',
  };
}

function withPlugins(plugins: string, ...args: string[]) {
  return cliWith({ timeout: 20_000, env: { LOOPSMITH_PLUGINS: plugins } }, ...args);
}

describe('cli: hostile inputs', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-hostile-'));

  it('report --out onto its own records file (any spelling) is refused and the records stay', () => {
    const records = join(dir, 'r.jsonl');
    new RecordStore(records).append(rec('x', 5));
    const before = readFileSync(records);
    for (const out of [records, join(dir, '.', 'r.jsonl')]) {
      assertBadInput(cli('report', '--records', records, '--out', out), /^loopsmith: cannot write .*r\.jsonl: it is the records file .*r\.jsonl, which this command reads; write to another file$/);
    }
    assert.ok(readFileSync(records).equals(before), 'the records file is unchanged');
  });

  it('a kernel whose generated file is the manifest itself is refused; the manifest stays', () => {
    // As a WGSL kernel "kernels" beside kernels.json would write kernels.json; C writes <name>.c.
    const sub = mkdtempSync(join(dir, 'build-'));
    const manifest = join(sub, 'self.c');
    const text = JSON.stringify({ kernels: [{ name: 'self', op: 'gemm', params: { m: 8, n: 8, k: 8 }, out: '.', fallback: true, verify: false }] });
    writeFileSync(manifest, text);
    const r = cli('build', manifest);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^loopsmith: cannot write .*self\.c: it is the manifest .*self\.c, which this command reads; write to another file$/m);
    assert.equal(readFileSync(manifest, 'utf8'), text);
  });

  it('emit never writes over the schedule file it was given', () => {
    const sub = mkdtempSync(join(dir, 'emit-'));
    copyFileSync(join(FIXTURES, 'gemm-gpu-64.json'), join(sub, 'gemm.json'));
    const before = readFileSync(join(sub, 'gemm.json'));
    assertBadInput(cli('emit', 'gemm', '--m', '64', '--n', '64', '--k', '64', '--lang', 'wgsl', '--schedule', join(sub, 'gemm.json'), '--out', sub, '--no-verify'),
      /^loopsmith: cannot write .*gemm\.json: it is the schedule file .*gemm\.json, which this command reads; write to another file$/);
    assert.ok(readFileSync(join(sub, 'gemm.json')).equals(before));
  });

  it('a records line nested 5000 lists deep is skipped with a warning, not a crash', () => {
    const records = join(dir, 'deep.jsonl');
    const deep = JSON.stringify(rec('y', 9)).replace('"seed":1', `"seed":${'['.repeat(5000)}${']'.repeat(5000)}`);
    writeFileSync(records, `${JSON.stringify(rec('x', 5))}\n${deep}\n`);
    const r = cli('records', 'best', '--records', records);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: .*skipped 1 invalid line: line 2 is not a tuning record \(seed: must be a number, got a list nested too deeply to show\)\n$/);
  });

  it('a hand-edited median (its times left as they were) is not taken as best', () => {
    const records = join(dir, 'median.jsonl');
    const honest = { ...rec('honest', 20), outcome: { status: 'ok' as const, times: [FLOPS / 20e9, FLOPS / 20e9, FLOPS / 20e9], median: FLOPS / 20e9, gflops: 20 } };
    const slow = FLOPS / 2e9;
    const edited = { ...rec('edited', 200), outcome: { status: 'ok' as const, times: [slow, slow, slow], median: FLOPS / 200e9, gflops: 200 } };
    writeFileSync(records, [honest, edited].map((x) => JSON.stringify(x)).join('\n') + '\n');
    const r = cli('records', 'best', '--records', records, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as TuningRecord[]).map((x) => x.id), [recordId('honest')]);
    assert.match(r.stderr, /outcome\.median: 5\.12e-9 is not the median of its 3 times \(5\.12e-7\)/);
  });

  it('a FIFO or a device as --redis-ca is refused before it is opened (it used to wait forever)', () => {
    assertBadInput(cliWithin(20_000, 'farm', 'status', '--farm', 'rediss://127.0.0.1:1', '--redis-ca', '/dev/zero', '--connect-timeout', '1'),
      /^loopsmith: cannot read the Redis CA file \/dev\/zero: it is a character device, not a regular file; --redis-ca is a PEM file of at most 1 MiB$/);
  });

  it('a regular --redis-ca file is still read as the TLS CA', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    assert.equal((connectionOf({ url: 'rediss://h:1', caFile: ca }).tls as { ca: string }).ca, readFileSync(ca, 'utf8'));
  });

  it('a FIFO or a device in LOOPSMITH_PLUGINS is refused before it is imported (it used to wait forever)', () => {
    const fifo = join(dir, 'plugin.mjs');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    assertBadInput(withPlugins(fifo, 'ops'), /^loopsmith: cannot load plugin '.*plugin\.mjs' named in LOOPSMITH_PLUGINS: it is a FIFO \(named pipe\), not a regular file; give comma-separated paths/);
    assertBadInput(withPlugins('/dev/zero', 'ops'), /cannot load plugin '\/dev\/zero' named in LOOPSMITH_PLUGINS: it is a character device, not a regular file/);
  });

  it('a plugin that registers no target (it used another copy\'s registerTarget) is one line; one named twice loads once', () => {
    const none = join(dir, 'none.mjs');
    writeFileSync(none, 'export const nothing = 1;\n');
    assertBadInput(withPlugins(none, 'ops'), /^loopsmith: plugin '.*none\.mjs' named in LOOPSMITH_PLUGINS registered no target; it must call registerTarget from this loopsmith's .*targets\/registry\.js$/);
    const one = join(dir, 'one.mjs');
    writeFileSync(one, `import { registerTarget } from ${JSON.stringify(REGISTRY)};\nregisterTarget({ name: 'once', options: [], languages: [], create: () => ({}) });\n`);
    const r = withPlugins(`${one},${one}`, 'run', 'gemm', '--m', '8', '--n', '8', '--k', '8', '--target', 'nosuch');
    assertBadInput(r, /unknown target 'nosuch'; targets: c, webgpu, once$/);
  });

  it("a plugin target that fails to start, or is not a Target, is one line naming the plugin, not loopsmith's internal error", () => {
    const plugin = (name: string, create: string) => {
      const file = join(dir, `${name}.mjs`);
      writeFileSync(file, `import { registerTarget } from ${JSON.stringify(REGISTRY)};\nregisterTarget({ name: 'fake', options: [], languages: [], create: ${create} });\n`);
      return file;
    };
    const GEMM = ['gemm', '--m', '8', '--n', '8', '--k', '8', '--target', 'fake'];
    assertBadInput(withPlugins(plugin('throws', '() => { throw new Error("no device\\nsecond line"); }'), 'run', ...GEMM),
      /^loopsmith: target 'fake' of plugin '.*throws\.mjs' \(LOOPSMITH_PLUGINS\) failed to start: no device$/);
    assertBadInput(withPlugins(plugin('partial', "() => ({ name: 'fake', settings: {} })"), 'run', ...GEMM),
      /^loopsmith: target 'fake' of plugin '.*partial\.mjs' \(LOOPSMITH_PLUGINS\) made an object that is not a Target: open: must be a function \(and 6 more problems\)$/);
  });
});
