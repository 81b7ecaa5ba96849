import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Project } from 'ts-morph';
import ts from 'typescript';
import { workload, lowerWorkload } from '../../ir/ops/index.js';
import { execute, outputsOf, randomInputs } from '../../ir/execute.js';
import { compareOutputs, reductionLength } from '../../targets/verify.js';
import { CTarget } from '../../targets/c/target.js';
import { detectCpu } from '../../targets/cpu-info.js';
import { WebGpuTarget } from '../../targets/webgpu/target.js';
import { Target } from '../../targets/target.js';
import { RecordStore } from '../../tuner/records.js';
import { ModuleRun, runModule, tuneEach } from './device-records.js';
import { assertBadInput, cli } from '../cli.test.js';

const NODE_MODULES = fileURLToPath(new URL('../../../node_modules', import.meta.url));
const PARAMS = { m: 32, n: 48, k: 40 };
const SHAPE = ['gemm', '--m', '32', '--n', '48', '--k', '40'];
/** The second GPU: what a target whose adapter identity is overridden records. */
const ACME = { vendor: 'acme', architecture: 'rdna9', device: '0x7e57', description: 'Acme Radiant 9000' };

/** Records of two GPUs and two CPU ISA levels, tuned here: the real devices and overridden ones. */
async function tuneDevices(records: string): Promise<{ gpu: string; acme: string; cpu: string; otherCpu: string; cpuIsa: string; otherIsa: string }> {
  const w = workload('gemm', PARAMS);
  const db = new RecordStore(records);
  const real = detectCpu();
  // The other ISA level: AVX-512 on an AVX2 machine (its 16-lane code runs split in two here), AVX2 on an AVX-512 one.
  const otherIsa = real.isa === 'avx512' ? 'avx2' : 'avx512';
  const lanes = otherIsa === 'avx512' ? 16 : 8;
  const targets: Target[] = [
    new WebGpuTarget({ minSeconds: 0.02 }),
    new WebGpuTarget({ minSeconds: 0.02 }, ACME),
    new CTarget({ minSeconds: 0.02 }),
    new CTarget({ minSeconds: 0.02 }, { cpu: { ...real, model: `Test ${otherIsa} CPU`, isa: otherIsa, vectorBits: lanes * 32, f32Lanes: lanes } }),
  ];
  const keys = await tuneEach(w, targets, db, 5);
  return { gpu: keys[0]!, acme: keys[1]!, cpu: keys[2]!, otherCpu: keys[3]!, cpuIsa: real.isa, otherIsa };
}

/** The module as browser-ready JavaScript (TypeScript's own transpiler: no bundler needed, it imports nothing). */
function toJs(tsFile: string, jsFile: string): void {
  writeFileSync(jsFile, ts.transpileModule(readFileSync(tsFile, 'utf8'), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText);
}

function typeErrors(file: string): string[] {
  const project = new Project({ compilerOptions: { strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, target: 99, module: 199, moduleResolution: 99, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], skipLibCheck: true, types: ['@webgpu/types'], typeRoots: [NODE_MODULES], noEmit: true } });
  project.addSourceFileAtPath(file);
  return project.getPreEmitDiagnostics().map((d) => String(d.getMessageText()));
}

type RunResult = ModuleRun;
const runGemm = (js: string, cases: unknown[]) => runModule(js, 'gemm', PARAMS, cases);

describe('emit --devices: one module for many devices', function () {
  this.timeout(600_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-devices-'));
  const records = join(dir, 'records.jsonl');
  let d: Awaited<ReturnType<typeof tuneDevices>>;

  before(async () => {
    d = await tuneDevices(records);
  });

  it('records list --by-device lists each device with its best', () => {
    const r = cli('records', 'list', '--by-device', '--records', records);
    assert.equal(r.code, 0, r.stderr);
    for (const k of [d.gpu, d.acme, d.cpu, d.otherCpu]) assert.match(r.stdout, new RegExp(`^${k}  `, 'm'));
    assert.match(r.stdout, /Acme Radiant 9000 \(acme\/rdna9\)/);
    assert.match(r.stdout, new RegExp(`Test ${d.otherIsa} CPU \\(${d.otherIsa}\\)`));
    const j = JSON.parse(cli('records', 'list', '--by-device', '--json', '--records', records).stdout) as { devices: { key: string; records: number; best: { gflops: number }[] }[] };
    assert.deepEqual(j.devices.map((x) => x.key).sort(), [d.gpu, d.acme, d.cpu, d.otherCpu].sort());
    for (const x of j.devices) assert.ok(x.best.length === 1 && x.best[0]!.gflops > 0, `${x.key} has a best`);
    assertBadInput(cli('records', 'best', '--by-device', '--records', records), /--by-device goes with records list/);
  });

  it('the TypeScript module selects each device\'s variant on its adapter info, the generic one elsewhere, and every one matches the reference', () => {
    const out = join(dir, 'ts');
    const r = cli('emit', ...SHAPE, '--lang', 'ts', '--devices', 'all', '--records', records, '--out', out, '--name', 'mm');
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(join(out, 'mm.ts'), 'utf8');
    assert.ok(text.includes(d.gpu) && text.includes(d.acme), 'both devices are in the module');
    assert.deepEqual(typeErrors(join(out, 'mm.ts')), []);
    const again = join(dir, 'ts-again');
    assert.equal(cli('emit', ...SHAPE, '--lang', 'ts', '--devices', 'all', '--records', records, '--out', again, '--name', 'mm').code, 0);
    assert.equal(readFileSync(join(again, 'mm.ts'), 'utf8'), text, 'byte-identical on every run');
    const js = join(dir, 'mm.mjs');
    toJs(join(out, 'mm.ts'), js);
    const { adapter, results } = runGemm(js, [
      { info: 'real' }, { info: ACME }, { info: { ...ACME, device: '0x1111', description: 'Acme Radiant 100' } },
      { info: { vendor: 'nobody', architecture: 'unknown-arch', device: '', description: '' } }, { info: {} }, { variant: 'generic' },
    ]);
    const [real, acme, kin, unknown, empty, generic] = results as [RunResult, RunResult, RunResult, RunResult, RunResult, RunResult];
    assert.deepEqual([real.match, real.device], ['exact', d.gpu], `${JSON.stringify(adapter)}: ${real.reason}`);
    assert.deepEqual([acme.match, acme.device], ['exact', d.acme], acme.reason);
    assert.deepEqual([kin.match, kin.device], ['vendor-architecture', d.acme], kin.reason);
    assert.match(kin.reason, /same vendor and architecture \(acme\/rdna9\)/);
    assert.equal(unknown.match, 'generic', unknown.reason);
    assert.match(unknown.reason, /no variant tuned on this device or on nobody\/unknown-arch; generic schedule/);
    assert.equal(empty.match, 'generic', empty.reason);
    assert.equal(generic.match, 'requested');
    for (const x of results) assert.ok(x.ok, `${x.variant} (${x.match}): ${x.message}`);
  });

  it('a device list picks those devices; an adapter of another vendor gets the generic variant', () => {
    const out = join(dir, 'acme-only');
    const r = cli('emit', ...SHAPE, '--lang', 'ts', '--devices', d.acme.slice(0, 12), '--records', records, '--out', out, '--name', 'mm');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!readFileSync(join(out, 'mm.ts'), 'utf8').includes(d.gpu));
    const js = join(dir, 'acme-only.mjs');
    toJs(join(out, 'mm.ts'), js);
    const [real, acme] = runGemm(js, [{ info: 'real' }, { info: ACME }]).results as [RunResult, RunResult];
    assert.equal(real.match, 'generic', real.reason);
    assert.equal(acme.match, 'exact');
    assert.ok(real.ok && acme.ok, `${real.message} ${acme.message}`);
  });

  it('the C file dispatches to the widest ISA the CPU has, honours LOOPSMITH_ISA, and every variant it can run matches the reference', () => {
    const out = join(dir, 'c');
    const r = cli('emit', ...SHAPE, '--lang', 'c', '--devices', 'all', '--records', records, '--out', out, '--name', 'mm');
    assert.equal(r.code, 0, r.stderr);
    const src = readFileSync(join(out, 'mm.c'), 'utf8');
    assert.ok(src.includes(`static void mm_${d.otherIsa}(`) && src.includes(`static void mm_${d.cpuIsa}(`) && src.includes('static void mm_scalar('));
    const p = lowerWorkload(workload('gemm', PARAMS));
    const inputs = randomInputs(p, 1);
    const want = outputsOf(p, execute(p, inputs));
    writeFileSync(join(out, 'A.bin'), inputs.A!);
    writeFileSync(join(out, 'B.bin'), inputs.B!);
    writeFileSync(join(out, 'main.c'), `#include <stdio.h>
#include "mm.h"
static float A[32 * 40], B[40 * 48], C[32 * 48];
static int load(const char *f, float *p, size_t n) { FILE *h = fopen(f, "rb"); if (!h) return 1; size_t r = fread(p, sizeof *p, n, h); fclose(h); return r != n; }
int main(int argc, char **argv) {
  if (argc != 4 || load(argv[1], A, sizeof A / sizeof *A) || load(argv[2], B, sizeof B / sizeof *B)) return 2;
  mm(A, B, C);
  FILE *h = fopen(argv[3], "wb");
  if (!h || fwrite(C, sizeof *C, sizeof C / sizeof *C, h) != sizeof C / sizeof *C) return 3;
  fclose(h);
  printf("%s\\n", mm_variant());
  return 0;
}
`);
    // No -march: each variant carries its own ISA.
    const cc = spawnSync('cc', ['-O3', '-Wall', '-Wextra', '-Werror', '-fopenmp', '-o', join(out, 'main'), join(out, 'main.c'), join(out, 'mm.c'), '-lm'], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const ran = (isa?: string) => {
      const res = join(out, `C-${isa ?? 'default'}.bin`);
      const x = spawnSync(join(out, 'main'), [join(out, 'A.bin'), join(out, 'B.bin'), res], { encoding: 'utf8', env: { ...process.env, ...(isa ? { LOOPSMITH_ISA: isa } : {}) } });
      assert.equal(x.status, 0, x.stderr);
      const got = new Float32Array(readFileSync(res).buffer.slice(0));
      const cmp = compareOutputs({ C: got }, want, reductionLength(p));
      assert.ok(cmp.ok, `${isa ?? 'default'}: ${cmp.message}`);
      return x.stdout.trim();
    };
    const widest = d.cpuIsa === 'avx512' ? 'avx512' : 'avx2';
    assert.equal(ran(), widest, 'the widest ISA this CPU supports');
    assert.equal(ran('scalar'), 'scalar');
    assert.equal(ran('avx2'), 'avx2');
    if (widest === 'avx2') assert.equal(ran('avx512'), 'avx2', 'an ISA the CPU lacks is not run');
  });

  it('bad device choices are one line each, naming the devices that have records', () => {
    const out = join(dir, 'bad');
    assertBadInput(cli('emit', ...SHAPE, '--lang', 'ts', '--devices', 'webgpu:nope', '--records', records, '--out', out), new RegExp(`no webgpu records of gemm.* on device 'webgpu:nope'; devices with webgpu records of it: .*${d.acme}`));
    assertBadInput(cli('emit', ...SHAPE, '--lang', 'wgsl', '--devices', 'all', '--records', records, '--out', out), /--devices writes one module for many devices: --lang ts .* or --lang c/);
    assertBadInput(cli('emit', 'gemm', '--m', '8', '--n', '8', '--k', '8', '--lang', 'ts', '--devices', 'all', '--records', records, '--out', out), /no successful webgpu record of gemm\(k=8.* has no webgpu records of it; run `loopsmith tune` on each device first \(or pass --fallback/);
    assertBadInput(cli('emit', ...SHAPE, '--lang', 'ts', '--devices', ',', '--records', records, '--out', out), /--devices takes 'all' or fingerprint keys/);
    assertBadInput(cli('emit', ...SHAPE, '--lang', 'ts', '--devices', '', '--records', records, '--out', out), /^loopsmith: --devices needs a value \(it was given none, or an empty one\); run `loopsmith emit --help`/);
  });

  it('report shows a device table: each device\'s best, and how it ran on the other devices', () => {
    const html = join(dir, 'report.html');
    assert.equal(cli('report', '--records', records, '--out', html).code, 0);
    const text = readFileSync(html, 'utf8');
    assert.match(text, /<h2>Devices<\/h2>/);
    for (const k of [d.gpu, d.acme, d.cpu, d.otherCpu]) assert.ok(text.includes(k), k);
    assert.match(text, /best of D\d \(\w+\)<\/td><td class="n own">\d+\.\d\d<\/td>/);
  });

  it('a build manifest with "devices" writes the module and --check stays byte-stable', () => {
    const proj = join(dir, 'proj');
    mkdirSync(proj);
    writeFileSync(join(proj, 'kernels.json'), JSON.stringify({
      records, kernels: [
        { name: 'mm_gpus', op: 'gemm', params: PARAMS, target: 'webgpu', language: 'ts', out: 'kernels', devices: 'all' },
        { name: 'mm_cpus', op: 'gemm', params: PARAMS, target: 'c', language: 'c', out: 'kernels', devices: [d.cpu, d.otherCpu] },
      ],
    }));
    const b = cli('build', join(proj, 'kernels.json'));
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /mm_gpus \(variants: .*generic: the default schedule\): wrote/);
    const first = readFileSync(join(proj, 'kernels', 'mm_gpus.ts'), 'utf8');
    for (let i = 0; i < 2; i++) {
      const c = cli('build', join(proj, 'kernels.json'), '--check');
      assert.equal(c.code, 0, c.stdout + c.stderr);
      assert.match(c.stdout, /all 3 generated files are up to date/);
    }
    assert.equal(readFileSync(join(proj, 'kernels', 'mm_gpus.ts'), 'utf8'), first);
    writeFileSync(join(proj, 'bad.json'), JSON.stringify({ records, kernels: [{ name: 'x', op: 'gemm', params: PARAMS, target: 'webgpu', language: 'wgsl', out: 'k', devices: 'all' }] }));
    assertBadInput(cli('build', join(proj, 'bad.json')), /kernels\[0\]\.devices: writes a module for many devices in language ts or c, not wgsl/);
  });
});
