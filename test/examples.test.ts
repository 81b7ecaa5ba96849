import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workload } from '../ir/ops/index.js';
import { WebGpuTarget } from '../targets/webgpu/target.js';
import { RecordStore } from '../tuner/records.js';
import { runModule, tuneEach } from './emit/device-records.js';
import { PageResult, runPage } from './browser.js';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/gemm-app/', import.meta.url));
const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));
const GEMM128 = { m: 128, n: 128, k: 128 };

describe('examples/gemm-app: loopsmith as a build step', function () {
  this.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-example-'));
  cpSync(EXAMPLE, dir, { recursive: true });
  // The example's npm scripts call `loopsmith`: put this checkout's CLI on the PATH under that name.
  const bin = join(dir, '.bin');
  spawnSync('mkdir', ['-p', bin]);
  writeFileSync(join(bin, 'loopsmith'), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
  chmodSync(join(bin, 'loopsmith'), 0o755);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: dir, env, encoding: 'utf8' });

  it('npm run build:kernels generates the kernels', () => {
    const r = run('npm', ['run', '--silent', 'build:kernels']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /gemm128 \(schedule file .*\): wrote .*gemm128\.h/);
  });

  it('make builds the demo, which checks the generated kernel against a triple loop', () => {
    const r = run('make', ['demo', `LOOPSMITH=${join(bin, 'loopsmith')}`]);
    assert.equal(r.status, 0, r.stderr);
    const demo = run(join(dir, 'demo'), []);
    assert.equal(demo.status, 0, demo.stdout);
    assert.match(demo.stdout, /gemm128: max abs error/);
    assert.match(demo.stdout, /gemm128_cpus \(scalar variant\): max abs error/, 'without records: the scalar fallback');
  });

  it('--check passes on fresh files and catches a stale one', () => {
    assert.equal(run('npm', ['run', '--silent', 'check:kernels']).status, 0);
    appendFileSync(join(dir, 'kernels', 'gemm128_gpu.ts'), '// edited by hand\n');
    const r = run('npm', ['run', '--silent', 'check:kernels']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /out of date:\n.*kernels\/gemm128_gpu\.ts/);
    assert.equal(run('npm', ['run', '--silent', 'build:kernels']).status, 0);
    assert.equal(run('npm', ['run', '--silent', 'check:kernels']).status, 0, 'rebuilding fixes it');
  });

  it('a bad manifest is one line and exit 2', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ kernels: [{ name: 'x', op: 'gemm', params: { m: 4, n: 4, k: 4 }, target: 'c', language: 'wgsl', out: 'k' }] }));
    const r = run(process.execPath, [MAIN, 'build', 'bad.json']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad\.json: kernels\[0\]\.language: wgsl does not run on target c/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});

describe('examples/gemm-app: one GPU module for many devices, in Chromium and in Node', function () {
  this.timeout(600_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-example-web-'));
  cpSync(EXAMPLE, dir, { recursive: true });
  // tsc and @webgpu/types, as the example's own npm install would provide them.
  symlinkSync(NODE_MODULES, join(dir, 'node_modules'));
  const bin = join(dir, '.bin');
  spawnSync('mkdir', ['-p', bin]);
  writeFileSync(join(bin, 'loopsmith'), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
  chmodSync(join(bin, 'loopsmith'), 0o755);
  const env = { ...process.env, PATH: `${bin}:${join(NODE_MODULES, '.bin')}:${process.env.PATH}` };
  const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: dir, env, encoding: 'utf8' });
  const page = (n: number) => runPage(join(dir, 'web', 'serve.mjs'), dir, join(dir, `profile-${n}`));
  let first: PageResult;

  it('without records the module holds the generic variant, and it runs right in headless Chromium', async () => {
    const b = run('npm', ['run', '--silent', 'build:web']);
    assert.equal(b.status, 0, b.stderr + b.stdout);
    assert.match(b.stderr, /gemm128_gpus: no successful webgpu record .* the module holds the generic fallback alone/);
    first = await page(1);
    assert.ok(first.ok, first.line);
    assert.equal(first.match, 'generic', first.line);
  });

  it('tuned for this machine\'s lavapipe and for the browser\'s adapter, it picks each one\'s variant on it', async () => {
    // The browser's adapter (SwiftShader in headless Chromium here) is not one loopsmith measures on:
    // its records come from a target that runs on lavapipe under the browser adapter's identity.
    const info = first.adapter as Record<string, string>;
    const db = new RecordStore(join(dir, '.loopsmith', 'records.jsonl'));
    const keys = await tuneEach(workload('gemm', GEMM128), [new WebGpuTarget({ minSeconds: 0.02 }), new WebGpuTarget({ minSeconds: 0.02 }, info)], db, 4);
    const b = run('npm', ['run', '--silent', 'build:web']);
    assert.equal(b.status, 0, b.stderr + b.stdout);
    const text = readFileSync(join(dir, 'kernels', 'gemm128_gpus.ts'), 'utf8');
    assert.ok(keys.every((k) => text.includes(k)), 'a variant for each device');
    for (let i = 0; i < 2; i++) assert.equal(run('npm', ['run', '--silent', 'check:kernels']).status, 0, '--check is byte-stable');
    const browser = await page(2);
    assert.ok(browser.ok, browser.line);
    assert.equal(browser.match, 'exact', browser.line);
    assert.match(String(browser.reason), new RegExp(`tuned on this device, .*\\(${keys[1]}\\)`));
    const [real, unknown] = runModule(join(dir, 'web', 'dist', 'kernels', 'gemm128_gpus.js'), 'gemm', GEMM128, [{ info: 'real' }, { info: { vendor: 'nobody' } }]).results;
    assert.deepEqual([real!.match, real!.device], ['exact', keys[0]]);
    assert.equal(unknown!.match, 'generic');
    assert.ok(real!.ok && unknown!.ok, `${real!.message} ${unknown!.message}`);
  });
});
