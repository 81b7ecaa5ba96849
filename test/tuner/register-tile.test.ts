/**
 * The register-tile rule (tuner/space/rules/register-tile.ts) derives the experts' kernels from the
 * loop nest: each channel-vectorized CPU conv2d expert of the suite is a point the sampler draws
 * (issue 26), with a probability this test prints; every draw is a legal schedule.
 */
import assert from 'node:assert/strict';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { rng } from '../../ir/random.js';
import { applyTrace } from '../../scheduler/apply.js';
import { AVX512_UNIT, VectorUnit } from '../../scheduler/vector-unit.js';
import { Trace } from '../../scheduler/trace.js';
import { Program } from '../../ir/program.js';
import { LoopsmithError } from '../../ir/errors.js';
import { cCandidate } from '../../targets/c/candidate.js';
import { ScheduleSpace, traceHash } from '../../tuner/space.js';
import { expertSchedules } from '../../tuner/starting-points.js';
import { vectorCandidates } from '../../tuner/space/rules/register-tile.js';
import { CONV_SUITE } from '../../bench/conv-layers.js';

const target = (unit: VectorUnit) => ({ kind: 'c', style: 'cpu' as const, lanes: unit.lanes, vectorRegisters: unit.registers, threads: 2, maxInvocations: 1, maxWorkgroupDim: [1, 1, 1] as const, maxWorkgroupBytes: 0 });

/**
 * The C a trace generates with its loop variables renamed in order of appearance: two schedules are
 * the same kernel when this is equal (the expert's k.1 is the space's k.2; a tile placed at a loop
 * of extent 1 or just outside it is one program).
 */
function kernelOf(base: Program, t: Trace, lanes: number): string {
  const src = cCandidate(applyTrace(base, t, { workload: t.workload }), lanes).source;
  const names = [...new Set([...src.matchAll(/for \(int (\w+) = /g)].map((m) => m[1]!))];
  const at = new Map(names.map((n, i) => [n, `L${i}`]));
  return src.replace(/\b\w+\b/g, (w) => at.get(w) ?? w);
}

function legal<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof LoopsmithError) return undefined;
    throw e;
  }
}

describe('tuner: register-tile kernels derived from the loop nest', function () {
  this.timeout(120_000);

  it('the vector axes of a convolution are its output channels and its columns; of a GEMM its columns and rows; a depthwise layer\'s channels too (its input blocked by them), but not with a channel multiplier', () => {
    const space = (op: string, p: Record<string, number>) => new ScheduleSpace(lowerWorkload(workload(op, p)), target(AVX512_UNIT)).nest;
    assert.deepEqual(vectorCandidates(space('conv2d', { n: 1, c: 64, h: 32, w: 32, k: 64, kh: 3, kw: 3, pad: 1 }), 16), ['k', 'oh', 'ow']);
    assert.deepEqual(vectorCandidates(space('gemm', { m: 64, n: 48, k: 32 }), 16), ['i', 'j']);
    assert.deepEqual(vectorCandidates(space('depthwise_conv2d', { n: 1, c: 64, h: 32, w: 32, kh: 3, kw: 3, pad: 1 }), 16), ['k', 'oh', 'ow']);
    // Two output channels per input channel: the input's channel is k / 2, which no block makes a vector.
    assert.deepEqual(vectorCandidates(space('depthwise_conv2d', { n: 1, c: 32, h: 32, w: 32, multiplier: 2, kh: 3, kw: 3, pad: 1 }), 16), ['oh', 'ow']);
  });

  for (const unit of [AVX512_UNIT, { lanes: 8, registers: 16 }]) {
    const name = unit.lanes === 16 ? 'AVX-512' : 'AVX2';
    for (const layer of CONV_SUITE.filter((l) => l.op === 'conv2d' && (l.params.kh !== 1 || l.params.kw !== 1))) {
      const w = workload(layer.op, layer.params);
      const base = lowerWorkload(w);
      const space = new ScheduleSpace(base, target(unit));
      const expert = expertSchedules(w, space.target)[0]!.trace;
      // Padded runs (a split with a 'pad' tail) are not exact splits: no point of the space has them.
      if (expert.steps.some((s) => s.prim === 'split' && s.tail !== 'requireDivisible') || !expert.steps.some((s) => s.prim === 'vectorize' && s.loop === 'k.1')) continue;
      it(`${name}, ${layer.label}: the expert is a point the sampler draws`, () => {
        const want = kernelOf(base, expert, unit.lanes);
        const r = rng(11);
        const draws = 1000;
        // Traces are compared by their decisions first (rendering every draw would take minutes).
        const same = new Map<string, boolean>();
        let hits = 0;
        for (let i = 0; i < draws; i++) {
          const t = space.toTrace(space.sample(r), w.key);
          const key = traceHash(t);
          // A few draws of the generic rules are illegal (a pack over the size limit): not the expert either.
          if (!same.has(key)) same.set(key, legal(() => kernelOf(base, t, unit.lanes)) === want);
          if (same.get(key)) hits++;
        }
        console.log(`      ${name} ${layer.label}: ${hits} of ${draws} draws are the expert's kernel (${(hits / draws * 100).toFixed(2)} %)`);
        assert.ok(hits > 0, `the expert's kernel is never drawn: ${JSON.stringify(expert.steps)}`);
      });
    }
  }

  it('a transposed convolution\'s output phases go outside the reduction: each unrolled copy holds a register tile of its own, and no phase guard is left', () => {
    const w = workload('conv3d_transpose', { n: 1, c: 16, d: 4, h: 6, w: 14, k: 32, kd: 4, kh: 4, kw: 4, stride: 2, pad: 1 });
    const base = lowerWorkload(w);
    const space = new ScheduleSpace(base, target(AVX512_UNIT));
    const r = rng(3);
    let outside = 0, big = 0;
    for (let i = 0; i < 300; i++) {
      const p = space.sample(r);
      const firstReduce = p.order.findIndex((x) => space.nest.tiledLoop(x).axis.axis === 'reduce');
      const phases = ['od.2', 'oh.2'].filter((x) => p.order.indexOf(x) >= 0 && p.order.indexOf(x) < firstReduce && p.factors[x.split('.')[0]!]![1] === 2);
      if (phases.length < 2) continue;
      outside++;
      const t = space.toTrace(p, w.key);
      // The accumulators live inside the phase copies (at the inner one), and both phases are unrolled.
      const cw = t.steps.find((s) => s.prim === 'cacheWrite');
      if (cw) assert.equal((cw as { at: string }).at, p.order[Math.max(...phases.map((x) => p.order.indexOf(x)))]);
      for (const x of phases) assert.ok(t.steps.some((s) => s.prim === 'unroll' && s.loop === x), `${x} is not unrolled: ${JSON.stringify(t.steps)}`);
      // Tiles that would not fit the register file if the 4 phases shared it (512 / 4 elements).
      if (p.factors.k![1]! * p.factors.ow![1]! > 128 && big++ < 3) {
        const src = cCandidate(applyTrace(base, t, { workload: w.key }), 16).source;
        assert.ok(!/ls_fmod|% 2\b/.test(src.slice(src.indexOf('void loopsmith_kernel'))), 'a stride phase guard is left in the kernel');
      }
    }
    console.log(`      conv3d_transpose: ${outside} of 300 draws run the phases outside the reduction, ${big} with a tile larger than a shared one could be`);
    assert.ok(outside > 0 && big > 0);
  });

  it('every draw of the rule is a legal schedule (conv1d, conv2d, conv3d, grouped, depthwise, GEMM, batch matmul)', () => {
    const cases: [string, Record<string, number>][] = [
      ['conv1d', { n: 1, c: 32, w: 64, k: 32, kw: 3, pad: 1 }], ['conv2d', { n: 1, c: 32, h: 14, w: 14, k: 64, kh: 3, kw: 3, pad: 1, stride: 2 }],
      ['conv3d', { n: 1, c: 16, d: 4, h: 8, w: 8, k: 32, kd: 3, kh: 3, kw: 3, pad: 1 }], ['grouped_conv2d', { n: 1, c: 64, h: 8, w: 8, k: 64, kh: 3, kw: 3, pad: 1, groups: 2 }],
      ['depthwise_conv2d', { n: 1, c: 32, h: 16, w: 16, kh: 3, kw: 3, pad: 1 }], ['gemm', { m: 64, n: 64, k: 64 }], ['batch_matmul', { b: 2, m: 32, n: 32, k: 32 }],
      ['conv2d_transpose', { n: 1, c: 32, h: 8, w: 8, k: 32, kh: 4, kw: 4, stride: 2, pad: 1 }],
      ['conv3d_transpose', { n: 1, c: 16, d: 4, h: 6, w: 14, k: 32, kd: 4, kh: 4, kw: 4, stride: 2, pad: 1 }],
    ];
    for (const [op, p] of cases) {
      const w = workload(op, p);
      const base = lowerWorkload(w);
      const space = new ScheduleSpace(base, target(AVX512_UNIT));
      const r = rng(5);
      for (let i = 0; i < 60; i++) {
        const point = space.sample(r);
        assert.doesNotThrow(() => applyTrace(base, space.toTrace(point, w.key), { workload: w.key }), `${op}: ${JSON.stringify(point)}`);
      }
    }
  });
});
