import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workload } from '../ir/ops/index.js';
import { checkBuffersFit } from '../cli/params.js';
import { MAX_TRACE_STEPS } from '../scheduler/trace.js';
import { assertBadInput, cli } from './cli.test.js';

const GEMM = ['gemm', '--m', '8', '--n', '8', '--k', '8'];

describe('cli: inputs with limits', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-limits-'));

  it('an endless schedule file (/dev/zero) is refused without being read: it is no regular file', () => {
    assertBadInput(cli('show', ...GEMM, '--schedule', '/dev/zero'), /schedule \/dev\/zero: it is a character device, not a regular file/);
  });

  it('a schedule file over 1 MiB is refused before parsing', () => {
    const big = join(dir, 'big.json');
    writeFileSync(big, `{"version": 1, "steps": [], "pad": "${'x'.repeat(1 << 20)}"}`);
    assertBadInput(cli('show', ...GEMM, '--schedule', big), /^loopsmith: schedule .*big\.json is larger than 1 MiB; a schedule is a small JSON trace in a regular file of at most 1 MiB$/);
  });

  it(`a schedule of more than ${MAX_TRACE_STEPS} steps is refused before any is applied`, () => {
    const long = join(dir, 'long.json');
    const steps = Array.from({ length: MAX_TRACE_STEPS + 1 }, (_, i) => ({ prim: 'split', loop: ['i', ...Array<string>(i).fill('1')].join('.'), factors: [1], tail: 'guard' }));
    writeFileSync(long, JSON.stringify({ version: 1, steps }));
    assertBadInput(cli('show', ...GEMM, '--schedule', long), new RegExp(`long\\.json: schedule steps: at most ${MAX_TRACE_STEPS} steps are allowed, got ${MAX_TRACE_STEPS + 1}`));
  });

  it('a shape whose buffers cannot be indexed with 32-bit integers is refused with the size', () => {
    assertBadInput(cli('run', 'gemm', '--m', '100000', '--n', '100000', '--k', '100000'), /buffer A has 1\.00e\+10 elements; kernels index with 32-bit integers, so at most 2147483647/);
  });

  it('a shape whose buffers do not fit in memory is refused with the size', () => {
    const GiB = 2 ** 30;
    assert.doesNotThrow(() => checkBuffersFit(workload('gemm', { m: 1024, n: 1024, k: 1024 }), GiB));
    assert.throws(() => checkBuffersFit(workload('gemm', { m: 16384, n: 16384, k: 16384 }), 8 * GiB),
      /the buffers need 3\.0 GiB \(A 1\.0 GiB, B 1\.0 GiB, C 1\.0 GiB\); checking a kernel holds them 3 times and this machine has 8\.0 GiB of memory/);
  });

  it('--threads above the core count warns in one line and still runs', () => {
    const r = cli('run', ...GEMM, '--threads', '4096', '--min-time', '0.01');
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0]!, /--threads 4096 is more than the \d+ cores of this CPU/);
    assert.doesNotMatch(cli('run', ...GEMM, '--threads', '1', '--min-time', '0.01').stderr, /warning/);
  });

  it('--cflags "-O2 -march=native" (space form, one argument) is split into flags', () => {
    const j = JSON.parse(cli('run', ...GEMM, '--cflags', '-O2 -march=native', '--min-time', '0.01', '--json').stdout) as { status: string; fingerprint: { cflags: string[] } };
    assert.equal(j.status, 'ok');
    assert.deepEqual(j.fingerprint.cflags, ['-O2', '-march=native']);
  });

  it('quoted --cflags are honoured, an unterminated quote is refused', () => {
    const j = JSON.parse(cli('run', ...GEMM, '--cflags', `-O2 -DNOTE="a b" '-DOTHER=c d'`, '--min-time', '0.01', '--json').stdout) as { status: string; fingerprint: { cflags: string[] } };
    assert.equal(j.status, 'ok');
    assert.deepEqual(j.fingerprint.cflags, ['-O2', '-DNOTE=a b', '-DOTHER=c d']);
    assertBadInput(cli('run', ...GEMM, '--cflags', '-O2 -DNOTE="a b'), /--cflags has an unterminated " quote/);
  });

  it('a --cc that writes no program is a compile_error', () => {
    const r = cli('run', ...GEMM, '--cc', 'true', '--json');
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout) as { status: string; message: string };
    assert.equal(j.status, 'compile_error');
    assert.match(j.message, /true exited with status 0 but wrote no program/);
  });

  it('tune --schedule is refused, naming what does that', () => {
    assertBadInput(cli('tune', ...GEMM, '--schedule', join(dir, 'any.json')), /tune does not take --schedule .*loopsmith compare <op> \.\.\. --schedules best <file>/);
  });
});
