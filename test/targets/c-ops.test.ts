import assert from 'node:assert/strict';
import { OPS, lowerWorkload, workload } from '../../ir/ops/index.js';
import { CTarget } from '../../targets/c/target.js';
import { Pipeline } from '../../targets/pipeline.js';
import { randomLegalTrace } from '../random-trace.js';
import { traceToJSON, trace } from '../../scheduler/trace.js';
import { applyTrace } from '../../scheduler/apply.js';
import { f32, load, mul, variable } from '../../ir/expr.js';
import { bufferDecl, forLoop, store } from '../../ir/loop.js';
import { Program, program } from '../../ir/program.js';

const RANDOM_PER_OP = 8;

/**
 * Every operator, unscheduled (which is also how the large-shape reference is built) and under
 * random legal schedules, compiles to C and agrees with the reference executor.
 */
describe('C target: every op compiles and matches the reference', function () {
  this.timeout(600_000);
  const pipeline = new Pipeline(new CTarget({}, { threads: 2 }));
  let checked = 0;

  for (const op of OPS) {
    it(`${op.name}: unscheduled and ${RANDOM_PER_OP} random schedules`, async () => {
      const w = workload(op.name, op.example);
      const base = lowerWorkload(w);
      const variants = [{ label: 'unscheduled', program: base, json: '[]' }];
      for (let i = 0; i < RANDOM_PER_OP; i++) {
        const seed = 5000 + i * 31 + op.name.length;
        const r = randomLegalTrace(base, seed, 8);
        variants.push({ label: `seed ${seed}`, program: r.program, json: traceToJSON(trace(r.steps)) });
      }
      // A code generator exception is a codegen_error here, and fails like any other status.
      const rendered = variants.map((v) => pipeline.render(v.program));
      const cands = rendered.flatMap((r) => (r.ok ? [r.candidate] : []));
      const measured = await pipeline.measureAll(cands, { key: w.key, unscheduled: base, flops: w.flops }, { time: false });
      rendered.forEach((r, i) => {
        const m = r.ok ? measured[cands.indexOf(r.candidate)]! : r.measurement;
        assert.equal(m.status, 'ok', `${op.name} ${variants[i]!.label}: ${m.status}: ${m.message}\ntrace: ${variants[i]!.json}`);
        checked++;
      });
    });
  }

  after(() => console.log(`      C target: ${checked} kernels compiled and checked against the reference`));
});

describe('C target: regressions', function () {
  this.timeout(300_000);
  const pipeline = new Pipeline(new CTarget({}, { threads: 1 }));

  async function check(p: Program, unscheduled: Program, key: string): Promise<void> {
    const m = await pipeline.measureProgram(p, { key, unscheduled, flops: 1 }, { time: false });
    assert.equal(m.status, 'ok', `${m.status}: ${m.message}`);
  }

  it('a padded update into an unrolled register tile keeps its sum out of the condition (issue 14)', async () => {
    const w = workload('depthwise_conv2d', { n: 1, c: 8, h: 32, w: 32, kh: 3, kw: 3, pad: 1 });
    const base = lowerWorkload(w);
    const p = applyTrace(base, trace([
      { prim: 'split', loop: 'k', factors: [4], tail: 'requireDivisible' },
      { prim: 'split', loop: 'ow', factors: [8], tail: 'requireDivisible' },
      { prim: 'cacheWrite', buffer: 'Y', scope: 'local', at: 'ow.0' },
      { prim: 'unroll', loop: 'k.1' },
    ]));
    await check(p, base, w.key);
  });

  // Found by the fuzzer (npm run fuzz): a write-back loop made parallel or bound cannot hold a register tile's rows.
  it('grouped_conv2d with a 6-step schedule renders (fuzz seed 158923243)', async () => {
    const w = workload('grouped_conv2d', { n: 1, c: 1, h: 2, w: 2, k: 1, kh: 1, kw: 1, stride: 1, pad: 0, dilation: 1, groups: 1 });
    const base = lowerWorkload(w);
    const p = applyTrace(base, trace([
      { prim: 'split', loop: 'oh', factors: [2], tail: 'guard' },
      { prim: 'split', loop: 'ow', factors: [2], tail: 'pad' },
      { prim: 'reorder', loops: ['rw', 'oh.1'] },
      { prim: 'cacheWrite', buffer: 'Y', scope: 'local', at: 'ow.0' },
      { prim: 'unroll', loop: 'oh.1' },
      { prim: 'parallel', loop: 'Y.local.w.2' },
    ]));
    await check(p, base, w.key);
  });

  it('bilinear with a 6-step schedule renders (fuzz seed 158923243)', async () => {
    const w = workload('bilinear', { n: 2, i: 1, j: 1, o: 2 });
    const base = lowerWorkload(w);
    const p = applyTrace(base, trace([
      { prim: 'split', loop: 'b', factors: [2], tail: 'guard' },
      { prim: 'split', loop: 'o', factors: [2], tail: 'requireDivisible' },
      { prim: 'reorder', loops: ['rj', 'b.1'] },
      { prim: 'cacheWrite', buffer: 'Y', scope: 'local', at: 'o.0' },
      { prim: 'unroll', loop: 'b.1' },
      { prim: 'bind', loop: 'Y.local.w.0', axis: 'thread.y' },
    ]));
    await check(p, base, w.key);
  });

  // A workgroup cache at a loop whose tile has holes (i = 2 * i.0 + i.1 at i.1) writes back by
  // adding; the register cache inside its flat write-back loop assigned, zeroing the holes' elements.
  it('gemm with a 4-step schedule computes the right answer (fuzz seed 620175255)', async () => {
    const w = workload('gemm', { m: 3, n: 1, k: 1, transA: 0, transB: 0 });
    const base = lowerWorkload(w);
    const p = applyTrace(base, trace([
      { prim: 'unroll', loop: 'i', factor: 2 },
      { prim: 'reorder', loops: ['i.1', 'i.0'] },
      { prim: 'cacheWrite', buffer: 'C', scope: 'workgroup', at: 'i.1' },
      { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'C.shared.w.c' },
    ]));
    await check(p, base, w.key);
  });

  it('a loop and a buffer of the same name stay two variables', async () => {
    const A = bufferDecl('A', [4], 'f32', 'global', 'input'), B = bufferDecl('B', [4], 'f32', 'global', 'output');
    const p = program('p', [A, B], forLoop('A', 4, store('B', [variable('A')], mul(load('A', [variable('A')]), f32(2)))));
    await check(p, p, 'p');
  });
});
