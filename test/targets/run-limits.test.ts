import assert from 'node:assert/strict';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { defaultGpuTrace } from '../../scheduler/default-schedules.js';
import { CCandidate } from '../../targets/c/candidate.js';
import { CTarget } from '../../targets/c/target.js';
import { Pipeline } from '../../targets/pipeline.js';
import { TIMED_RUN_SAFETY, checkRunLimit, timedRunLimit } from '../../targets/run-limits.js';
import { ReferenceSpec, measureSettings } from '../../targets/target.js';
import { MAX_TIMING_FACTOR } from '../../targets/stats.js';
import { WebGpuTarget } from '../../targets/webgpu/target.js';

const w = workload('gemm', { m: 16, n: 16, k: 16 });
const base = lowerWorkload(w);
const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };

function plantC(c: CCandidate, code: string): CCandidate {
  const at = c.compiled.indexOf('{\n', c.compiled.indexOf('void loopsmith_kernel(')) + 2;
  return { ...c, compiled: c.compiled.slice(0, at) + `  ${code}\n` + c.compiled.slice(at) };
}

const HANG = 'for (;;) __asm__ volatile("");';

describe('run limits: relative to the best while tuning, the absolute cap otherwise', function () {
  this.timeout(120_000);
  // A short floor keeps the killed runs short; the cap is far above anything these tests wait for.
  const target = new CTarget({ minSeconds: 0.01, relativeTimeoutFloorMs: 300, runTimeoutMs: 60_000 });
  const pipeline = new Pipeline(target);

  it('the checking run gets max(floor, 20 x best) under the cap; without a best, the cap', () => {
    const s = measureSettings({ relativeTimeoutFloorMs: 2000, runTimeoutMs: 60_000 });
    assert.deepEqual(checkRunLimit(s, undefined), { timeoutMs: 60_000 });
    assert.deepEqual(checkRunLimit(s, Infinity), { timeoutMs: 60_000 });
    assert.equal(checkRunLimit(s, 1e-3).timeoutMs, 2000, 'the floor');
    assert.equal(checkRunLimit(s, 0.5).timeoutMs, 10_000, '20 x the best');
    assert.deepEqual(checkRunLimit(s, 10), { timeoutMs: 60_000 }, 'the cap, which is no relative limit');
    assert.deepEqual(timedRunLimit(s, undefined), { timeoutMs: 60_000 }, 'a target that reports no check time gets the cap');
    const t = 0.01, { warmup, minSeconds } = s;
    assert.equal(timedRunLimit(s, t).timeoutMs, Math.ceil(2000 + TIMED_RUN_SAFETY * 1000 * ((1 + warmup) * t + Math.max(MAX_TIMING_FACTOR * minSeconds + t, 3 * t))));
  });

  it('a kernel past the relative limit of its checking run is a run_timeout that says the limit was relative to the best', async () => {
    const [m] = await pipeline.measureAll([plantC(target.candidate(base), HANG)], ref, { bestSeconds: 1e-6 });
    assert.equal(m!.status, 'run_timeout');
    assert.match(m!.message!, /^kernel did not finish in 0\.3 s; the limit was relative to the best so far \(20 x 1 us, at least 300 ms, at most the 60 s cap\): this kernel is far slower than the best$/);
  });

  it('a kernel that hangs only in its timed runs is stopped by the limit its own checking run set', async () => {
    // Its first call (the checking run, and the first of the timed run) is right; the next never returns.
    const once = plantC(target.candidate(base), `static int ls_calls = 0; if (ls_calls++ > 0) ${HANG}`);
    const [m] = await pipeline.measureAll([once], ref, { bestSeconds: 1 });
    assert.equal(m!.status, 'run_timeout');
    assert.match(m!.message!, /^kernel did not finish in 0\.3\d* s; the limit was derived from its own checking run \(\d.*, at most the 60 s cap\)$/);
  });
});

describe('run limits on WebGPU', function () {
  this.timeout(180_000);
  const target = new WebGpuTarget({ minSeconds: 0.05, relativeTimeoutFloorMs: 1000, runTimeoutMs: 30_000 });
  after(() => target.close());

  it('a hanging kernel is a run_timeout under the relative limit, which starts once its shader compiled', async () => {
    const good = target.candidate(applyTrace(base, defaultGpuTrace(base)));
    const hang = { ...good, kernel: { ...good.kernel, source: good.kernel.source.replace(/fn main_0\([^\n]*\{/, '$&\n  var spin: u32 = 1u;\n  loop { spin = spin * 1664525u + 1013904223u; if (spin == 0u && lidx > 4096u) { break; } }\n  C[0] = f32(spin);') } };
    const [m] = await new Pipeline(target).measureAll([hang], ref, { bestSeconds: 1e-6 });
    assert.equal(m!.status, 'run_timeout', m!.message);
    assert.match(m!.message!, /^kernel did not finish in 1 s; the device process was restarted; the limit was relative to the best so far \(/);
  });
});
