import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Project } from 'ts-morph';
import { assertBadInput, cli } from './cli.test.js';

const FIXTURES = fileURLToPath(new URL('../../scheduler/fixtures/', import.meta.url));
const GEMM = ['gemm', '--m', '64', '--n', '64', '--k', '64'];
const tmp = () => mkdtempSync(join(tmpdir(), 'loopsmith-emit-'));

describe('cli: emit', function () {
  this.timeout(180_000);

  it('writes a C kernel and header that compile on their own, byte-identical on every run', () => {
    const a = tmp(), b = tmp();
    for (const out of [a, b]) {
      const r = cli('emit', ...GEMM, '--lang', 'c', '--out', out, '--schedule', `${FIXTURES}gemm-cpu-64.json`);
      assert.equal(r.code, 0, r.stderr);
    }
    for (const f of ['gemm.c', 'gemm.h']) assert.equal(readFileSync(join(a, f), 'utf8'), readFileSync(join(b, f), 'utf8'), `${f} is deterministic`);
    assert.match(readFileSync(join(a, 'gemm.h'), 'utf8'), /void gemm\(const float \*restrict A, const float \*restrict B, float \*restrict C\);/);
    writeFileSync(join(a, 'main.c'), '#include "gemm.h"\n#include <stdio.h>\nstatic float A[4096], B[4096], C[4096];\nint main(void) { for (int i = 0; i < 4096; i++) { A[i] = 1; B[i] = 2; } gemm(A, B, C); printf("%g\\n", C[100]); return C[100] != 128.0f; }\n');
    const cc = spawnSync('cc', ['-O2', '-fopenmp', '-o', join(a, 'main'), join(a, 'main.c'), join(a, 'gemm.c'), '-lm'], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const run = spawnSync(join(a, 'main'), { encoding: 'utf8' });
    assert.equal(run.status, 0, `C[100] = ${run.stdout}`);
  });

  it('writes WGSL with a manifest of bindings, workgroup and dispatch sizes', () => {
    const out = tmp();
    assert.equal(cli('emit', ...GEMM, '--lang', 'wgsl', '--out', out, '--schedule', `${FIXTURES}gemm-gpu-64.json`).code, 0);
    const m = JSON.parse(readFileSync(join(out, 'gemm.json'), 'utf8')) as { bindings: { name: string; bytes: number }[]; entryPoints: { workgroupSize: number[]; dispatch: number[] }[] };
    assert.deepEqual(m.bindings.map((x) => [x.name, x.bytes]), [['A', 16384], ['B', 16384], ['C', 16384]]);
    assert.deepEqual(m.entryPoints[0]!.workgroupSize, [8, 8, 1]);
    assert.match(readFileSync(join(out, 'gemm.wgsl'), 'utf8'), /@compute @workgroup_size\(8, 8, 1\)/);
  });

  it('writes a TypeScript module that type-checks against @webgpu/types', () => {
    const out = tmp();
    assert.equal(cli('emit', ...GEMM, '--lang', 'ts', '--out', out, '--schedule', `${FIXTURES}gemm-gpu-64.json`).code, 0);
    const text = readFileSync(join(out, 'gemm.ts'), 'utf8');
    assert.match(text, /export async function dispatch\(device: GPUDevice, buffers: Buffers\): Promise<void>/);
    const project = new Project({ compilerOptions: { strict: true, target: 99, module: 199, moduleResolution: 99, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], skipLibCheck: true, types: ['@webgpu/types'], typeRoots: [fileURLToPath(new URL('../../node_modules/@types', import.meta.url)), fileURLToPath(new URL('../../node_modules', import.meta.url))], noEmit: true } });
    project.createSourceFile(join(out, 'gemm.ts'), text, { overwrite: true });
    const diags = project.getPreEmitDiagnostics().map((d) => String(d.getMessageText()));
    assert.deepEqual(diags, []);
  });

  it('without a record for this device it refuses, unless --fallback', () => {
    const records = join(tmp(), 'none.jsonl');
    assertBadInput(cli('emit', ...GEMM, '--lang', 'c', '--out', tmp(), '--records', records), /no tuning record for gemm.* run `loopsmith tune` first, pass --schedule, or --fallback/);
    const r = cli('emit', ...GEMM, '--lang', 'c', '--out', tmp(), '--records', records, '--fallback');
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning: no tuning record .* emitting the default schedule/);
  });

  it('takes the best record of this device after tuning', () => {
    const dir = tmp();
    const records = join(dir, 'r.jsonl');
    assert.equal(cli('tune', ...GEMM, '--trials', '6', '--min-time', '0.01', '--records', records).code, 0);
    const r = cli('emit', ...GEMM, '--lang', 'c', '--out', dir, '--records', records, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.match((JSON.parse(r.stdout) as { origin: string }).origin, /^record [0-9a-f]{12}, [\d.]+ GFLOP\/s$/);
  });
});
