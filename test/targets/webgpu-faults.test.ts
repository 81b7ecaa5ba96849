import assert from 'node:assert/strict';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { defaultGpuTrace } from '../../scheduler/default-schedules.js';
import { trace } from '../../scheduler/trace.js';
import { Pipeline } from '../../targets/pipeline.js';
import { ReferenceSpec } from '../../targets/target.js';
import { limitViolations } from '../../targets/webgpu/limits.js';
import { WebGpuTarget, WgslCandidate } from '../../targets/webgpu/target.js';

const w = workload('gemm', { m: 64, n: 64, k: 32 });
const base = lowerWorkload(w);
const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };

function withSource(c: WgslCandidate, edit: (src: string) => string): WgslCandidate {
  return { ...c, kernel: { ...c.kernel, source: edit(c.kernel.source) } };
}

const measureOn = async (t: WebGpuTarget, c: WgslCandidate, ref: ReferenceSpec, opts: { time?: boolean } = {}) => (await new Pipeline(t).measureAll([c], ref, opts))[0]!;

describe('WebGPU target: faults cost one candidate, never the run', function () {
  this.timeout(180_000);
  const target = new WebGpuTarget({ minSeconds: 0.05, runTimeoutMs: 20_000 });
  const good = () => target.candidate(applyTrace(base, defaultGpuTrace(base)));
  after(() => target.close());

  it('a candidate over the device limits is rejected before anything is compiled', async () => {
    await target.open();
    const caps = target.caps;
    const big = caps.limits.maxComputeInvocationsPerWorkgroup * 2;
    const wide = workload('gemm', { m: 4, n: big, k: 4 });
    const p = applyTrace(lowerWorkload(wide), trace([{ prim: 'bind', loop: 'j', axis: 'thread.x' }, { prim: 'bind', loop: 'i', axis: 'workgroup.x' }]));
    const c = target.candidate(p);
    assert.ok(limitViolations(c.kernel, caps).some((v) => v.includes('invocations per workgroup')));
    const m = await measureOn(target, c, { key: wide.key, unscheduled: lowerWorkload(wide), flops: wide.flops });
    assert.equal(m.status, 'rejected');
    assert.match(m.message!, /exceeds device limits: main_1: workgroup size/);
  });

  it('a shader that does not compile is that candidate\'s compile_error, with the line', async () => {
    const m = await measureOn(target, withSource(good(), (s) => s.replace('fn main_1(', 'fn main_1(oops: nope, ')), ref);
    assert.equal(m.status, 'compile_error');
    assert.match(m.message!, /WGSL \d+:\d+:/);
  });

  it('a kernel that writes a wrong answer is caught before it is timed', async () => {
    const m = await measureOn(target, withSource(good(), (s) => s.replace(/fn main_1\([^\n]*\{/, '$&\n  if (lidx == 5u && wid.x == 0u) { C[5] = 7.0f; }')), ref);
    assert.equal(m.status, 'wrong_answer');
    assert.equal(m.times, undefined);
  });

  it('a kernel that never finishes is killed with its device process, and the next candidate runs', async () => {
    const hang = withSource(good(), (s) => s.replace(/fn main_0\([^\n]*\{/,
      '$&\n  var spin: u32 = 1u;\n  loop { spin = spin * 1664525u + 1013904223u; if (spin == 0u && lidx > 4096u) { break; } }\n  C[0] = f32(spin);'));
    const quick = new WebGpuTarget({ minSeconds: 0.05, runTimeoutMs: 5_000 });
    try {
      const m = await measureOn(quick, hang, ref, { time: false });
      assert.equal(m.status, 'run_timeout', m.message);
      const again = await measureOn(quick, good(), ref, { time: false });
      assert.equal(again.status, 'ok', again.message);
    } finally {
      await quick.close();
    }
  });

  it('after all of that, a good kernel is verified and timed', async () => {
    const m = await measureOn(target, good(), ref);
    assert.equal(m.status, 'ok', m.message);
    assert.ok(m.stats!.runs >= 3 && m.gflops! > 0);
  });
});
