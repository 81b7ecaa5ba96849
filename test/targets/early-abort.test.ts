import assert from 'node:assert/strict';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { defaultGpuTrace } from '../../scheduler/default-schedules.js';
import { CCandidate } from '../../targets/c/candidate.js';
import { CTarget } from '../../targets/c/target.js';
import { Measurement } from '../../targets/measurement.js';
import { MeasureOptions, Pipeline } from '../../targets/pipeline.js';
import { ReferenceSpec } from '../../targets/target.js';
import { WebGpuTarget, WgslCandidate } from '../../targets/webgpu/target.js';

const w = workload('gemm', { m: 16, n: 16, k: 16 });
const base = lowerWorkload(w);
const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };
// Any real run takes longer than 3 x 1 ns: a best this small makes every candidate "far slower".
const TINY_BEST = 1e-9;

/** `code` planted at the end of the C kernel's body (as test/targets/c-faults.test.ts does). */
function plantC(c: CCandidate, code: string, where: 'start' | 'end' = 'end'): CCandidate {
  const open = c.compiled.indexOf('{\n', c.compiled.indexOf('void loopsmith_kernel(')) + 2;
  const close = c.compiled.indexOf('\n}\n', open);
  const at = where === 'start' ? open : close + 1;
  return { ...c, compiled: c.compiled.slice(0, at) + `  ${code}\n` + c.compiled.slice(at) };
}

/** About 10^8 dependent volatile additions: far more than 3x the 16^3 GEMM's microseconds. */
const SPIN = '{ volatile unsigned long ls_spin = 0; for (unsigned long ls_i = 0; ls_i < 100000000ul; ls_i++) ls_spin += ls_i; }';

function assertStoppedEarly(m: Measurement, bestSeconds: number, factor = 3): void {
  assert.equal(m.status, 'ok', m.message);
  assert.equal(m.times?.length, 1, 'one sample: the checking run');
  assert.equal(m.stats!.runs, 1);
  assert.equal(m.stats!.median, m.times![0]);
  assert.deepEqual(m.earlyAbort, { factor, bestSeconds });
  assert.ok(m.maxError !== undefined, 'it was compared with the reference');
  assert.equal(m.gflops, w.flops / m.times![0]! / 1e9);
}

describe('early abort on the C target: verified, then stopped after one run', function () {
  this.timeout(120_000);
  const target = new CTarget({ minSeconds: 0.01 });
  const pipeline = new Pipeline(target);
  const measure = async (c: CCandidate, opts: MeasureOptions, p = pipeline) => (await p.measureAll([c], ref, opts))[0]!;
  const good = () => target.candidate(base);

  it('early abort stops a planted slow kernel after one run and still verifies it', async () => {
    assertStoppedEarly(await measure(plantC(good(), SPIN, 'start'), { bestSeconds: TINY_BEST }), TINY_BEST);
  });

  it('a planted slow and wrong kernel is a wrong_answer, not stopped early: verification comes first', async () => {
    const m = await measure(plantC(plantC(good(), SPIN, 'start'), 'C[37] += 0.25f;'), { bestSeconds: TINY_BEST });
    assert.equal(m.status, 'wrong_answer');
    assert.match(m.message!, /C\[37\]/);
    assert.equal(m.times, undefined);
    assert.equal(m.earlyAbort, undefined);
  });

  it('without a best the candidate gets its full repeats', async () => {
    const m = await measure(good(), {});
    assert.equal(m.status, 'ok', m.message);
    assert.ok(m.times!.length >= 3, `${m.times!.length} times`);
    assert.equal(m.earlyAbort, undefined);
  });

  it('earlyAbortFactor Infinity turns it off', async () => {
    const off = new CTarget({ minSeconds: 0.01, earlyAbortFactor: Infinity });
    const m = await measure(off.candidate(base), { bestSeconds: TINY_BEST }, new Pipeline(off));
    assert.equal(m.status, 'ok', m.message);
    assert.ok(m.times!.length >= 3);
    assert.equal(m.earlyAbort, undefined);
  });

  it('measureAll compares each candidate with the fastest it has measured so far', async () => {
    const [fast, late] = await pipeline.measureAll([good(), plantC(good(), SPIN, 'start')], ref, { bestSeconds: Infinity });
    assert.equal(fast!.status, 'ok', fast!.message);
    assert.equal(fast!.earlyAbort, undefined, 'no best yet: timed in full');
    assertStoppedEarly(late!, fast!.stats!.median);
  });
});

describe('early abort on the WebGPU target', function () {
  this.timeout(180_000);
  const target = new WebGpuTarget({ minSeconds: 0.05 });
  const pipeline = new Pipeline(target);
  const good = () => target.candidate(applyTrace(base, defaultGpuTrace(base)));
  after(() => target.close());

  it('a verified kernel slower than the factor times the best is stopped after its checking dispatch', async () => {
    const [m] = await pipeline.measureAll([good()], ref, { bestSeconds: TINY_BEST });
    assertStoppedEarly(m!, TINY_BEST);
    assert.equal(m!.clock, target.caps.hasTimestamps ? 'gpu-timestamps' : 'wall-clock', 'the check is timed on the clock of the timed runs');
  });

  it('a wrong kernel is still a wrong_answer', async () => {
    const wrong: WgslCandidate = { ...good(), kernel: { ...good().kernel, source: good().kernel.source.replace(/fn main_1\([^\n]*\{/, '$&\n  if (lidx == 5u && wid.x == 0u) { C[5] = 7.0f; }') } };
    const [m] = await pipeline.measureAll([wrong], ref, { bestSeconds: TINY_BEST });
    assert.equal(m!.status, 'wrong_answer');
    assert.equal(m!.earlyAbort, undefined);
  });

  it('without a best it is timed in full', async () => {
    const [m] = await pipeline.measureAll([good()], ref);
    assert.equal(m!.status, 'ok', m!.message);
    assert.ok(m!.times!.length >= 3);
    assert.equal(m!.earlyAbort, undefined);
  });
});
