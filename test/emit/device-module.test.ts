import assert from 'node:assert/strict';
import ts from 'typescript';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import { workload, lowerWorkload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { defaultGpuTrace } from '../../scheduler/default-schedules.js';
import { loadSchedule } from '../../cli/schedule-file.js';
import { TunedDevice, deviceModuleArtifacts } from '../../codegen/device-module.js';
import { isaDispatchArtifacts } from '../../codegen/isa-dispatch.js';

const FIXTURES = fileURLToPath(new URL('../../../scheduler/fixtures/', import.meta.url));
const w = workload('gemm', { m: 64, n: 64, k: 64 });
const base = lowerWorkload(w);
const tuned = applyTrace(base, loadSchedule(`${FIXTURES}gemm-gpu-64.json`), { workload: w.key }); // 8x8 workgroups
const registers = applyTrace(base, loadSchedule(`${FIXTURES}gemm-gpu-registers-64.json`), { workload: w.key });
const generic = { program: applyTrace(base, defaultGpuTrace(base, 64, w.key), { workload: w.key }), traceHash: 'generic0' };
const dev = (key: string, o: Partial<TunedDevice> = {}): TunedDevice => ({ key, vendor: 'acme', architecture: 'rdna9', device: key, description: `Acme ${key}`, origin: `record of ${key}`, ...o });

interface Mod {
  variants: { id: string; generic: boolean; devices: { key: string }[]; requires: Record<string, number> }[];
  selectVariant(info: Record<string, string>, limits?: Record<string, number>): { variant: { id: string }; match: string; device?: string; reason: string };
  variantById(id: string): { id: string; generic: boolean };
}

/** The module's selector, in this process: it needs no GPU until it dispatches. */
async function load(text: string): Promise<Mod> {
  const js = ts.transpileModule(text, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText;
  const file = join(mkdtempSync(join(tmpdir(), 'loopsmith-module-')), 'mm.mjs');
  writeFileSync(file, js);
  return (await import(pathToFileURL(file).href)) as Mod;
}

describe('codegen: multi-device modules', () => {
  it('devices that chose the same code share one variant; the order of the inputs does not change a byte', async () => {
    const a = deviceModuleArtifacts([{ program: tuned, traceHash: 't1', device: dev('b') }, { program: tuned, traceHash: 't1', device: dev('a') }, { program: registers, traceHash: 't2', device: dev('c', { vendor: 'other', architecture: 'x' }) }], generic, { name: 'mm', workload: w.key });
    const b = deviceModuleArtifacts([{ program: registers, traceHash: 't2', device: dev('c', { vendor: 'other', architecture: 'x' }) }, { program: tuned, traceHash: 't1', device: dev('a') }, { program: tuned, traceHash: 't1', device: dev('b') }], generic, { name: 'mm', workload: w.key });
    assert.equal(a['mm.ts'], b['mm.ts']);
    const m = await load(a['mm.ts']!);
    assert.deepEqual(m.variants.map((v) => [v.id, v.generic, v.devices.map((d) => d.key)]), [['v1', false, ['a', 'b']], ['v2', false, ['c']], ['generic', true, []]]);
  });

  it("'generic' names the default schedule whether or not a tuned device chose the same code", async () => {
    // A device whose tuned best is the default schedule: the generic code is that device's variant (v1), not a variant of its own.
    const shared = await load(deviceModuleArtifacts([{ program: generic.program, traceHash: 'generic0', device: dev('a') }, { program: tuned, traceHash: 't1', device: dev('b') }], generic, { name: 'mm', workload: w.key })['mm.ts']!);
    assert.deepEqual(shared.variants.map((v) => [v.id, v.generic]), [['v1', true], ['v2', false]]);
    assert.deepEqual(shared.variantById('generic'), shared.variants[0]);
    assert.equal(shared.variantById('v2').id, 'v2');
    assert.throws(() => shared.variantById('v3'), /mm: no variant 'v3'; variants: v1, v2, generic/);
    const apart = await load(deviceModuleArtifacts([{ program: tuned, traceHash: 't1', device: dev('b') }], generic, { name: 'mm', workload: w.key })['mm.ts']!);
    assert.deepEqual(apart.variants.map((v) => [v.id, v.generic]), [['v1', false], ['generic', true]]);
    assert.equal(apart.variantById('generic').id, 'generic');
  });

  it('a variant the device\'s limits cannot run is passed over for the next rule, and the reason says so', async () => {
    const m = await load(deviceModuleArtifacts([{ program: tuned, traceHash: 't1', device: dev('a') }, { program: generic.program, traceHash: 'g', device: dev('b') }], generic, { name: 'mm', workload: w.key })['mm.ts']!);
    const a = { vendor: 'acme', architecture: 'rdna9', device: 'a', description: 'Acme a' };
    assert.equal(m.selectVariant(a).device, 'a');
    // 8x8 = 64 invocations: a device created with at most 32 cannot run it, nor the 64-thread generic schedule.
    assert.throws(() => m.selectVariant(a, { maxComputeInvocationsPerWorkgroup: 32 }), /mm: no variant fits this device: the generic schedule needs maxComputeInvocationsPerWorkgroup 64, the device has 32; passed over: variant v1 of Acme a \(a\) needs maxComputeInvocationsPerWorkgroup 64/);
    // Its 4 KiB of workgroup memory does not fit a device made with 1 KiB: the other acme/rdna9 variant (none) does.
    assert.equal(m.variants[0]!.requires.maxComputeWorkgroupStorageSize, 4096);
    const s = m.selectVariant(a, { maxComputeWorkgroupStorageSize: 1024 });
    assert.deepEqual([s.match, s.device], ['vendor-architecture', 'b'], s.reason);
    assert.match(s.reason, /passed over: variant v1 of Acme a \(a\) needs maxComputeWorkgroupStorageSize 4096, the device has 1024$/);
  });

  it('an adapter that reports no vendor gets the generic variant, never another vendor\'s', async () => {
    const m = await load(deviceModuleArtifacts([{ program: tuned, traceHash: 't1', device: dev('a', { vendor: '', architecture: '' }) }], generic, { name: 'mm', workload: w.key })['mm.ts']!);
    const s = m.selectVariant({ vendor: '', architecture: '', device: 'other', description: '' });
    assert.equal(s.match, 'generic');
    assert.match(s.reason, /the adapter reports no vendor; generic schedule/);
  });

  it('C: one variant per ISA level', () => {
    const cpu = applyTrace(base, loadSchedule(`${FIXTURES}gemm-cpu-64.json`), { workload: w.key });
    assert.throws(() => isaDispatchArtifacts([{ isa: 'avx2', program: cpu, traceHash: 'a', origin: 'x' }, { isa: 'avx2', program: cpu, traceHash: 'b', origin: 'y' }], { program: base, traceHash: 'n' }, { name: 'mm', workload: w.key }), /two avx2 variants/);
    const files = isaDispatchArtifacts([{ isa: 'avx2', program: cpu, traceHash: 'a', origin: 'x' }, { isa: 'avx512', program: cpu, traceHash: 'b', origin: 'y' }], { program: base, traceHash: 'n' }, { name: 'mm', workload: w.key });
    const src = files['mm.c']!;
    assert.ok(src.indexOf('mm_avx512 = ') < 0 && src.indexOf('#ifdef LS_HAVE_AVX512') < src.indexOf('#ifdef LS_HAVE_AVX2'), 'the widest ISA is tried first');
    assert.match(files['mm.h']!, /const char \*mm_variant\(void\);/);
  });
});
