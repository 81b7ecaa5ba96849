/** model import, tune-model (killed and resumed) and emit-model from the command line. */
import { detectCpu } from '../../targets/cpu-info.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBadInput, cli, cliWithin } from '../cli.test.js';
import { tinyNet, unsupportedNet } from '../../bench/models/zoo.js';
import { runOrt } from '../../targets/onnxruntime.js';
import { journalPath } from '../../tuner/graph/tune-model.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

interface RecordLine { workload: { key: string }; target: { fingerprint: { key: string } }; traceHash: string; strategy: string }

describe('cli: model import, tune-model, emit-model', function () {
  this.timeout(240_000);
  let dir: string;
  let tiny: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'loopsmith-model-'));
    tiny = join(dir, 'tiny.onnx');
    writeFileSync(tiny, tinyNet().bytes);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('model import lists the fused layers and the tasks', () => {
    const r = cli('model', 'import', tiny);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /tiny: 8 layers, 8 tasks \(distinct workloads\)/);
    assert.match(r.stdout, /conv2d_fused\(act=2,bias=1,c=16,dilation=1,groups=16/);
    const j = JSON.parse(cli('model', 'import', tiny, '--json').stdout) as { layers: unknown[]; tasks: unknown[]; layout: string };
    assert.equal(j.layers.length, 8);
    assert.equal(j.layout, 'nchw');
    // auto on this CPU: tinyNet stays in blocks of 8 on AVX2 (8 lanes); on AVX-512 its 8-channel
    // layer would leave blocks of 16 midway, so NCHW.
    const a = cli('model', 'import', tiny, '--layout', 'auto');
    assert.equal(a.code, 0, a.stderr);
    const lanes = detectCpu().f32Lanes;
    if (lanes === 8) assert.match(a.stdout, /relayout\(c=8,h=10,layout=2,n=1,w=10\)[^]*layout nchw8c\n$/);
    else assert.match(a.stdout, /layout nchw\n$/);
  });

  it('names an unsupported node, a file that is not ONNX, and a bad budget in one line each', () => {
    const bad = join(dir, 'softmax.onnx');
    writeFileSync(bad, unsupportedNet().bytes);
    assertBadInput(cli('model', 'import', bad), /cannot import 1 node of type Softmax/);
    const text = join(dir, 'text.onnx');
    writeFileSync(text, 'hello');
    assertBadInput(cli('model', 'import', text), /is not an ONNX model/);
    assertBadInput(cli('tune-model', tiny, '--time-budget', '20 minutes'), /--time-budget must be a positive duration \(90, 90s, 20m, 1\.5h\)/);
    assertBadInput(cli('tune-model'), /tune-model needs an ONNX model file/);
  });

  it('tune-model killed with SIGKILL resumes: it spends what is left of the budget and measures nothing twice', async () => {
    const records = join(dir, 'tune.jsonl');
    const args = [MAIN, 'tune-model', tiny, '--time-budget', '22', '--records', records, '--json'];
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    // Listened for at once: a run that ended before the kill must fail the test, not hang it.
    const closed = new Promise<string | null>((r) => child.on('close', (_code, signal) => r(signal)));
    // Killed as soon as the journal shows a finished slice: the next slice is then under way.
    const t0 = Date.now();
    while (!existsSync(journalPath(records)) && child.exitCode === null && Date.now() - t0 < 90_000) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    assert.equal(await closed, 'SIGKILL', 'the first run was still running when it was killed');
    const spent = readFileSync(journalPath(records), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { seconds: number }).seconds).reduce((a, b) => a + b, 0);
    assert.ok(spent > 5 && spent < 22, `the first run spent ${spent} s before it was killed`);
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /resuming: \d+ s of the 22 s budget were spent by an earlier run/);
    const j = JSON.parse(r.stdout) as { earlierSeconds: number; seconds: number; medianMs: number; ortMs: number; checkedAgainst: string; tasks: { key: string; slices: number; after?: number }[] };
    const tuned = j.tasks.filter((t) => t.slices > 0);
    assert.ok(tuned.length > 0 && tuned.every((t) => t.after !== undefined && t.after > 0), `every tuned task has its best time: ${JSON.stringify(j.tasks)}`);
    assert.ok(j.seconds < 22 - j.earlierSeconds + 8, `the second run took ${j.seconds} s of the ${22 - j.earlierSeconds} s left`);
    assert.equal(j.checkedAgainst, 'ONNX Runtime');
    assert.ok(j.medianMs > 0);
    assert.ok(j.ortMs > 0, 'ONNX Runtime timed beside it');
    const seen = new Set<string>();
    for (const line of readFileSync(records, 'utf8').trim().split('\n')) {
      let rec: RecordLine;
      try { rec = JSON.parse(line) as RecordLine; } catch { continue; } // the killed run's torn last line
      const k = `${rec.workload.key} ${rec.target.fingerprint.key} ${rec.traceHash}`;
      assert.ok(!seen.has(k), `measured twice: ${k}`);
      seen.add(k);
    }
    assert.ok(seen.size > 5);
  });

  it('emit-model writes a C module that a program links and runs to ONNX Runtime\'s output', async () => {
    const out = join(dir, 'out');
    const r = cliWithin(120_000, 'emit-model', tiny, '--records', join(dir, 'none.jsonl'), '--out', out, '--name', 'tinynet');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /output within .* of ONNX Runtime's/);
    for (const f of ['tinynet.c', 'tinynet.h', 'tinynet.weights']) assert.ok(existsSync(join(out, f)), f);
    writeFileSync(join(out, 'main.c'), `#include <stdio.h>
#include <stdlib.h>
#include "tinynet.h"
int main(void) {
  static float w[TINYNET_WEIGHT_FLOATS], x[TINYNET_INPUT_FLOATS], y[TINYNET_OUTPUT_FLOATS];
  FILE *f = fopen("tinynet.weights", "rb");
  if (!f || fread(w, sizeof(float), TINYNET_WEIGHT_FLOATS, f) != TINYNET_WEIGHT_FLOATS) return 3;
  fclose(f);
  for (int i = 0; i < TINYNET_INPUT_FLOATS; i++) x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
  tinynet_model *m = tinynet_load(w);
  tinynet_run(m, x, y);
  for (int i = 0; i < TINYNET_OUTPUT_FLOATS; i++) printf("%.7g\\n", y[i]);
  tinynet_free(m);
  return 0;
}
`);
    const cc = spawnSync('cc', ['-O2', '-march=native', '-fopenmp', '-o', 'prog', 'main.c', 'tinynet.c', '-lm'], { cwd: out, encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const run = spawnSync(join(out, 'prog'), { cwd: out, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const got = run.stdout.trim().split('\n').map(Number);
    const x = Float32Array.from({ length: 3 * 20 * 20 }, (_, i) => ((i * 37) % 101) / 50 - 1);
    const want = (await runOrt(tinyNet().bytes, x, [1, 3, 20, 20], { threads: 1 })).output;
    const scale = Math.max(...Array.from(want, Math.abs));
    want.forEach((v, i) => assert.ok(Math.abs(v - got[i]!) <= 1e-4 * scale, `output ${i}: ${got[i]} vs ${v}`));
  });

  it('emit-model --lang ts writes a WebGPU module, run through its own load/run on the adapter, that type-checks strictly', () => {
    const out = join(dir, 'web');
    const r = cliWithin(180_000, 'emit-model', tiny, '--lang', 'ts', '--records', join(dir, 'none.jsonl'), '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /tiny: [\d.]+ ms per inference on WebGPU \(.*\); output within .* of ONNX Runtime's/);
    for (const f of ['tiny.ts', 'tiny.weights']) assert.ok(existsSync(join(out, f)), f);
    const weights = readFileSync(join(out, 'tiny.weights')).byteLength / 4;
    assert.match(readFileSync(join(out, 'tiny.ts'), 'utf8'), new RegExp(`export const WEIGHT_FLOATS = ${weights};`));
    const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));
    const types = fileURLToPath(new URL('../../../node_modules', import.meta.url));
    const check = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--noUncheckedIndexedAccess', '--target', 'es2022', '--module', 'esnext', '--lib', 'es2022,dom', '--types', '@webgpu/types', '--typeRoots', types, join(out, 'tiny.ts')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });
});
