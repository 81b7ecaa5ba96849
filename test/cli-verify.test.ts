import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBadInput, cliWith } from './cli.test.js';

// Registers wrong-c (one output element off) and crash-c: bad kernels planted behind the Target seam.
const FAULTY = fileURLToPath(new URL('./targets/faulty-plugin.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../scheduler/fixtures/', import.meta.url));
const GEMM = ['gemm', '--m', '64', '--n', '64', '--k', '64'];
const SCHEDULE = `${FIXTURES}gemm-cpu-64.json`;
const tmp = () => mkdtempSync(join(tmpdir(), 'loopsmith-verify-'));

function cli(...args: string[]) {
  return cliWith({ timeout: 90_000, env: { LOOPSMITH_PLUGINS: FAULTY } }, ...args);
}

/** A failed verification: exit 1, one line on stderr without a stack trace. */
function assertRejected(r: ReturnType<typeof cli>, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+|internal error/);
  assert.match(lines[0]!, pattern);
}

describe('cli: emit and build verify the kernel before writing it', function () {
  this.timeout(240_000);

  it('emit refuses a wrong kernel naming the workload, the schedule and the mismatch, and writes nothing', () => {
    const out = join(tmp(), 'kernels');
    const r = cli('emit', ...GEMM, '--target', 'wrong-c', '--out', out, '--schedule', SCHEDULE);
    assertRejected(r, /^loopsmith: gemm\(k=64,m=64,n=64,transA=0,transB=0\):f32 fails verification on .*wrong-c: wrong_answer \(wrong answer: C\[0\] = .*, expected .*\); schedule \(schedule file .*gemm-cpu-64\.json\): s\.split\("i", .*; nothing was written \(--no-verify writes it anyway\)$/);
    assert.equal(existsSync(out), false, 'not even the output folder');
  });

  it('emit refuses a kernel that crashes, and leaves files already there alone', () => {
    const out = tmp();
    writeFileSync(join(out, 'gemm.c'), 'old\n');
    assertRejected(cli('emit', ...GEMM, '--target', 'crash-c', '--out', out, '--schedule', SCHEDULE), /fails verification on .*: crash \(kernel killed by SIGSEGV\); schedule/);
    assert.deepEqual(readdirSync(out), ['gemm.c']);
    assert.equal(readFileSync(join(out, 'gemm.c'), 'utf8'), 'old\n');
  });

  it('emit --no-verify writes the unchecked kernel, byte for byte what a verified emit writes', () => {
    const unchecked = tmp(), checked = tmp();
    const r = cli('emit', ...GEMM, '--target', 'wrong-c', '--out', unchecked, '--schedule', SCHEDULE, '--no-verify');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /not verified/);
    assert.equal(cli('emit', ...GEMM, '--out', checked, '--schedule', SCHEDULE).code, 0);
    for (const f of ['gemm.c', 'gemm.h']) assert.equal(readFileSync(join(unchecked, f), 'utf8'), readFileSync(join(checked, f), 'utf8'), f);
  });

  it('emit --target must run the language', () => {
    assertBadInput(cli('emit', ...GEMM, '--lang', 'wgsl', '--target', 'wrong-c', '--schedule', SCHEDULE), /target wrong-c does not run wgsl; targets that do: webgpu$/);
  });

  it('the WebGPU languages are verified on the WebGPU target', () => {
    const out = tmp();
    const r = cli('emit', ...GEMM, '--lang', 'ts', '--out', out, '--schedule', `${FIXTURES}gemm-gpu-64.json`, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { verified: boolean }).verified, true);
  });

  describe('build', () => {
    const manifest = (dir: string, kernels: object[]) => {
      writeFileSync(join(dir, 'kernels.json'), JSON.stringify({ kernels }));
      return join(dir, 'kernels.json');
    };
    const good = { name: 'good', op: 'gemm', params: { m: 64, n: 64, k: 64 }, target: 'c', out: 'k', schedule: SCHEDULE };
    const bad = { ...good, name: 'bad', target: 'wrong-c' };

    it('a wrong kernel fails the build with one line naming it, and nothing is written, not even the good kernels', () => {
      const dir = tmp();
      assertRejected(cli('build', manifest(dir, [good, bad])), /^loopsmith: bad: gemm\(.*\):f32 fails verification on .*wrong_answer .*; schedule \(schedule file .*\): s\.split/);
      assert.equal(existsSync(join(dir, 'k')), false);
    });

    it('"verify": false on the kernel, or --no-verify, writes it anyway', () => {
      const dir = tmp();
      const r = cli('build', manifest(dir, [good, { ...bad, verify: false }]));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readdirSync(join(dir, 'k')).sort(), ['bad.c', 'bad.h', 'good.c', 'good.h']);
      const again = tmp();
      assert.equal(cli('build', manifest(again, [bad]), '--no-verify').code, 0);
      assert.ok(existsSync(join(again, 'k', 'bad.c')));
    });

    it('"verify" must be a boolean', () => {
      const dir = tmp();
      mkdirSync(join(dir, 'k'));
      assertBadInput(cli('build', manifest(dir, [{ ...good, verify: 'no' }])), /kernels\[0\]\.verify: must be true or false, got "no"/);
    });
  });
});
