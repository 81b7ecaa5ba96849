import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBadInput, cli } from './cli.test.js';

const SCHEDULE = fileURLToPath(new URL('../../scheduler/fixtures/gemm-cpu-64.json', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'loopsmith-manifest-'));
const kernel = (o: object = {}) => ({ name: 'gemm64', op: 'gemm', params: { m: 64, n: 64, k: 64 }, out: 'kernels', schedule: SCHEDULE, ...o });

function manifest(dir: string, body: object): string {
  const path = join(dir, 'kernels.json');
  writeFileSync(path, JSON.stringify(body));
  return path;
}

describe('cli: build manifests', function () {
  this.timeout(180_000);

  it('absolute out, schedule and records paths are taken as they are', () => {
    const dir = tmp(), elsewhere = tmp();
    const out = join(dir, 'generated', 'c');
    const records = join(elsewhere, 'records.jsonl');
    const r = cli('build', manifest(dir, { records, kernels: [kernel({ out }), kernel({ name: 'fallback64', out, schedule: undefined, fallback: true, verify: false })] }));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(out, 'gemm64.c')) && existsSync(join(out, 'fallback64.c')));
    assert.ok(r.stderr.includes(`in ${records};`), `the records path is used as given: ${r.stderr}`);
  });

  it('a kernel\'s bad schedule names the manifest and the kernel', () => {
    const dir = tmp();
    assertBadInput(cli('build', manifest(dir, { kernels: [kernel({ name: 'small', params: { m: 16, n: 16, k: 16 } })] })),
      /^loopsmith: .*kernels\.json: kernel small: schedule was written for gemm\(k=64,m=64,n=64,transA=0,transB=0\):f32, not gemm\(k=16,m=16,n=16,transA=0,transB=0\):f32/);
    assertBadInput(cli('build', manifest(dir, { kernels: [kernel({ schedule: '/dev/zero' })] })), /^loopsmith: .*kernels\.json: kernel gemm64: cannot read schedule \/dev\/zero: it is a character device/);
  });

  it('an out that leaves the manifest\'s folder is refused in one line, unless --allow-outside', () => {
    const dir = tmp();
    const project = join(dir, 'project');
    mkdirSync(project);
    assertBadInput(cli('build', manifest(project, { kernels: [kernel({ out: '../escaped' })] })), /kernels\[0\]\.out: \.\.\/escaped is outside the manifest's folder .*project; write under it, or pass --allow-outside$/);
    assertBadInput(cli('build', manifest(project, { kernels: [kernel({ out: join(dir, 'abs') })] })), /kernels\[0\]\.out: .*abs is outside the manifest's folder/);
    assert.equal(existsSync(join(dir, 'escaped')) || existsSync(join(dir, 'abs')), false);
    const r = cli('build', manifest(project, { kernels: [kernel({ out: '../escaped' })] }), '--allow-outside');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'escaped', 'gemm64.c')));
  });

  it('a folder whose name starts with two dots is still inside', () => {
    const dir = tmp();
    const r = cli('build', manifest(dir, { kernels: [kernel({ out: '..gen' })] }), '--no-verify');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, '..gen', 'gemm64.c')));
  });

  const malformed: [string, unknown, RegExp][] = [
    ['a misspelt field', { kernels: [{ ...kernel(), shedule: 'x.json' }] }, /kernels\[0\]: unknown field `shedule`; did you mean `schedule`\?/],
    ['a misspelt top-level field', { kernel: [kernel()] }, /unknown field `kernel`; did you mean `kernels`\?/],
    ['a list', [kernel()], /: must be an object, got \[/],
    ['no kernels', { kernels: [] }, /kernels: must list at least one kernel/],
    ['a fraction', { kernels: [kernel({ params: { m: 64.5, n: 64, k: 64 } })] }, /kernels\[0\]\.params\.m: must be an integer, got 64\.5/],
    ['a number past 2^53 (JSON rounds it)', { kernels: [kernel({ params: { m: 64, n: 64, k: 2 ** 53 + 2 } })] }, /kernels\[0\]\.params\.k: must be a safe integer/],
    ['an unknown operator', { kernels: [kernel({ op: 'gemmm' })] }, /kernels\[0\]\.params: unknown op 'gemmm'/],
    ['a verify-false kernel whose buffers do not fit', { kernels: [kernel({ params: { m: 65536, n: 65536, k: 65536 }, verify: false, schedule: undefined, fallback: true })] }, /kernels\[0\]\.params: .*32-bit integers/],
    ['a bad language', { kernels: [kernel({ language: 'rust' })] }, /kernels\[0\]\.language: must be one of c, wgsl, ts, got "rust"/],
    ['a bad target', { kernels: [kernel({ target: 'fpga' })] }, /kernels\[0\]\.target: must be one of c, webgpu, got "fpga"/],
  ];
  for (const [what, body, pattern] of malformed) {
    it(`a manifest with ${what} is one line, exit 2, nothing written`, () => {
      const dir = tmp();
      assertBadInput(cli('build', manifest(dir, body as object)), pattern);
      assert.equal(existsSync(join(dir, 'kernels')), false);
    });
  }

  it('two kernels with one name are an error naming both entries', () => {
    const dir = tmp();
    assertBadInput(cli('build', manifest(dir, { kernels: [kernel(), kernel({ name: 'other' }), kernel({ out: 'more' })] })), /kernels\[0\] and kernels\[2\] are both named "gemm64"; kernel names must be unique/);
  });
});
