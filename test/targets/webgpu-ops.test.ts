import assert from 'node:assert/strict';
import { OPS, lowerWorkload, workload } from '../../ir/ops/index.js';
import { add, cast, load, variable } from '../../ir/expr.js';
import { bufferDecl, forLoop, store } from '../../ir/loop.js';
import { program } from '../../ir/program.js';
import { applyTrace } from '../../scheduler/apply.js';
import { defaultGpuTrace } from '../../scheduler/default-schedules.js';
import { expertGpuGemm } from '../../scheduler/expert.js';
import { trace, traceToJSON } from '../../scheduler/trace.js';
import { Pipeline } from '../../targets/pipeline.js';
import { WebGpuTarget } from '../../targets/webgpu/target.js';
import { randomLegalTrace } from '../random-trace.js';

const RANDOM_PER_OP = 4;

/**
 * On the WebGPU device (lavapipe in CI): every op under the default GPU schedule and under random
 * legal schedules matches the reference. No adapter is a failure, not a skip.
 */
describe('WebGPU target: every op matches the reference on the device', function () {
  this.timeout(600_000);
  const target = new WebGpuTarget({ minSeconds: 0.05 });
  const pipeline = new Pipeline(target);
  let checked = 0;

  before(async () => {
    await target.open();
    assert.ok(target.caps.limits.maxComputeInvocationsPerWorkgroup >= 64);
  });
  after(async () => {
    await target.close();
    console.log(`      WebGPU target: ${checked} kernels checked against the reference`);
  });

  for (const op of OPS) {
    it(`${op.name}: default GPU schedule and ${RANDOM_PER_OP} random schedules`, async () => {
      const w = workload(op.name, op.example);
      const base = lowerWorkload(w);
      const variants = [{ label: 'default', steps: defaultGpuTrace(base).steps }];
      for (let i = 0; i < RANDOM_PER_OP; i++) {
        const seed = 7000 + i * 17 + op.name.length;
        // Random traces on top of the default binding, and from scratch.
        const start = i % 2 === 0 ? applyTrace(base, defaultGpuTrace(base)) : base;
        const r = randomLegalTrace(start, seed, 6);
        variants.push({ label: `seed ${seed}`, steps: [...(i % 2 === 0 ? defaultGpuTrace(base).steps : []), ...r.steps] });
      }
      for (const v of variants) {
        const m = await pipeline.measureProgram(applyTrace(base, trace(v.steps)), { key: w.key, unscheduled: base, flops: w.flops }, { time: false });
        assert.ok(m.status === 'ok' || m.status === 'rejected', `${op.name} ${v.label}: ${m.status}: ${m.message}\ntrace: ${traceToJSON(trace(v.steps))}`);
        if (m.status === 'ok') checked++;
      }
    });
  }

  it('buffers and loops named like WGSL keywords, builtin parameters, entry points and helpers compile and run', async () => {
    const bufs = ['wid', 'fn', 'main_0', 'ls_fdiv', 'self'].map((n, x) => bufferDecl(n, [4], 'f32', 'global', x === 0 ? 'output' : 'input'));
    const sum = bufs.slice(1).map((b) => load(b.name, [variable('lid')])).reduce(add);
    const p = program('p', bufs, forLoop('lid', 4, forLoop('lidx', 2, store('wid', [variable('lid')], add(sum, cast('f32', variable('lidx')))))));
    const m = await pipeline.measureProgram(p, { key: 'p', unscheduled: p, flops: 1 }, { time: false });
    assert.equal(m.status, 'ok', m.message);
  });

  it('the expert GEMM schedule (workgroup tiles, shared memory, register tile) is right and timed with the device clock', async () => {
    const w = workload('gemm', { m: 128, n: 128, k: 64 });
    const base = lowerWorkload(w);
    const m = await pipeline.measureProgram(applyTrace(base, expertGpuGemm(128, 128, 64)), { key: w.key, unscheduled: base, flops: w.flops });
    assert.equal(m.status, 'ok', m.message);
    assert.ok(m.stats!.runs >= 3);
    assert.equal(m.clock, target.caps.hasTimestamps ? 'gpu-timestamps' : 'wall-clock');
  });
});
