import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/gemm-app/', import.meta.url));

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
    assert.match(r.stderr, /bad\.json: kernels\[0\]: language wgsl does not run on target c/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
