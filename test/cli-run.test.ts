import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { assertBadInput, cli } from './cli.test.js';

const FIXTURES = fileURLToPath(new URL('../../scheduler/fixtures/', import.meta.url));
const GEMM = ['gemm', '--m', '64', '--n', '64', '--k', '64'];

describe('cli: run --target c', function () {
  this.timeout(120_000);

  it('checks and times a scheduled kernel', () => {
    const r = cli('run', ...GEMM, '--schedule', `${FIXTURES}gemm-cpu-64.json`, '--min-time', '0.05');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /result {3}correct/);
    assert.match(r.stdout, /median {3}[\d.]+ (us|ms)\s+[\d.]+ GFLOP\/s/);
    assert.match(r.stdout, /spread {3}p20 .* of the median\), \d+ runs/);
  });

  it('gives the measurement as JSON', () => {
    const j = JSON.parse(cli('run', ...GEMM, '--json', '--min-time', '0.05').stdout) as { status: string; gflops: number; fingerprint: { key: string }; stats: { runs: number } };
    assert.equal(j.status, 'ok');
    assert.ok(j.gflops > 0 && j.stats.runs >= 3);
    assert.match(j.fingerprint.key, /^cpu:/);
  });

  it('emits the C source', () => {
    const r = cli('run', ...GEMM, '--schedule', `${FIXTURES}gemm-cpu-64.json`, '--emit');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /void loopsmith_kernel\(const float \*restrict A, const float \*restrict B, float \*restrict C\)/);
    assert.match(r.stdout, /#pragma omp parallel for/);
    assert.match(r.stdout, /ls_v\d+ C_local_r0_c0/);
  });

  const bad: [string[], RegExp][] = [
    [['run', ...GEMM, '--target', 'fpga'], /unknown target 'fpga'; targets: c, webgpu/],
    [['run', ...GEMM, '--threads', '0'], /--threads must be an integer of at least 1/],
    [['run', ...GEMM, '--min-time', 'soon'], /--min-time must be a positive number/],
    [['run', ...GEMM, '--cc', 'no-such-compiler-xyz'], /C compiler 'no-such-compiler-xyz' not found/],
  ];
  for (const [args, pattern] of bad) it(`bad input: ${args.slice(args.length - 2).join(' ')}`, () => assertBadInput(cli(...args), pattern));
});

describe('cli: run --target webgpu and devices', function () {
  this.timeout(180_000);

  it('checks and times a kernel on the WebGPU device (default GPU schedule without --schedule)', () => {
    const r = cli('run', ...GEMM, '--target', 'webgpu', '--min-time', '0.05');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /result {3}correct/);
  });

  it('emits WGSL with its bindings and dispatch sizes', () => {
    const r = cli('run', ...GEMM, '--target', 'webgpu', '--schedule', `${FIXTURES}gemm-gpu-64.json`, '--emit');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /@compute @workgroup_size\(8, 8, 1\)/);
    assert.match(r.stdout, /var<workgroup> A_shared: array<f32, 512>;/);
    assert.match(r.stdout, /workgroupBarrier\(\);/);
    assert.match(r.stdout, /\/\/ entry points, in dispatch order: \[\{"name":"main_0","workgroupSize":\[8,8,1\],"dispatch":\[2,2,1\]/);
  });

  it('devices lists the CPU and the WebGPU adapter with fingerprints', () => {
    const j = JSON.parse(cli('devices', '--json').stdout) as { c: { fingerprint: { key: string } }; webgpu: { available: boolean; reason?: string; fingerprint: { key: string } } };
    assert.match(j.c.fingerprint.key, /^cpu:/);
    assert.ok(j.webgpu.available, `no WebGPU adapter: ${j.webgpu.reason}`);
    assert.match(j.webgpu.fingerprint.key, /^webgpu:/);
  });
});
