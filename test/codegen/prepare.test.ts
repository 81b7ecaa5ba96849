import assert from 'node:assert/strict';
import { splitPrepare } from '../../codegen/prepare.js';
import { lowerForCodegen } from '../../codegen/lower.js';
import { renderC } from '../../codegen/c/render.js';
import { cArtifacts } from '../../codegen/artifacts.js';
import { execute, outputsOf, randomInputs } from '../../ir/execute.js';
import { OPS, lowerWorkload, workload } from '../../ir/ops/index.js';
import { Program } from '../../ir/program.js';
import { applyTrace } from '../../scheduler/apply.js';
import { Step, trace } from '../../scheduler/trace.js';
import { CTarget } from '../../targets/c/target.js';
import { Pipeline } from '../../targets/pipeline.js';
import { randomLegalTrace } from '../random-trace.js';

const conv = { n: 1, c: 8, h: 9, w: 9, k: 32, kh: 3, kw: 3, pad: 1 };
/** A register-tiled conv2d whose weights are packed blocked by 16 output channels, before the nest (whole) or per block of k.0. */
const convSteps = (whole: boolean): Step[] => [
  { prim: 'split', loop: 'k', factors: [16], tail: 'requireDivisible' },
  { prim: 'split', loop: 'ow', factors: [3], tail: 'requireDivisible' },
  { prim: 'reorder', loops: ['n', 'k.0', 'oh', 'ow.0', 'rc', 'rh', 'rw', 'ow.1', 'k.1'] },
  { prim: 'layout', buffer: 'X' },
  { prim: 'layout', buffer: 'W', dims: [0], factors: [16], ...(whole ? {} : { at: 'k.0' }) },
  { prim: 'vectorize', loop: 'k.1' },
];

/** Runs prepare, then the kernel on what prepare made: the outputs a caller of the split kernel sees. */
function runSplit(p: Program, seed: number) {
  const split = splitPrepare(p);
  const inputs = randomInputs(p, seed);
  const made = split.prepare ? execute(split.prepare, inputs) : {};
  const preparedInputs = Object.fromEntries(split.prepared.map((b) => [b.name, made[b.name]!]));
  return { split, got: outputsOf(split.program, execute(split.program, { ...inputs, ...preparedInputs })), want: outputsOf(p, execute(p, inputs)) };
}

function assertClose(got: Record<string, Float32Array>, want: Record<string, Float32Array>, label: string): void {
  for (const [name, w] of Object.entries(want)) {
    const g = got[name]!;
    for (let i = 0; i < w.length; i++) {
      assert.ok(Math.abs(g[i]! - w[i]!) <= 1e-4 * (1 + Math.abs(w[i]!)), `${label}: ${name}[${i}] = ${g[i]}, expected ${w[i]}`);
    }
  }
}

describe('constant inputs: packs hoisted into a prepare stage (codegen/prepare.ts)', () => {
  it('prepack=1 names the constant inputs; prepack=0 keeps the key records were written under', () => {
    assert.equal(workload('conv2d', conv).key, 'conv2d(c=8,dilation=1,groups=1,h=9,k=32,kh=3,kw=3,n=1,pad=1,stride=1,w=9):f32');
    const w = workload('conv2d', { ...conv, prepack: 1 });
    assert.match(w.key, /prepack=1/);
    assert.deepEqual(lowerWorkload(w).buffers.filter((b) => b.constant).map((b) => b.name), ['W']);
    assert.deepEqual(lowerWorkload(workload('gemm_bias_relu', { m: 4, n: 4, k: 4, prepack: 1 })).buffers.filter((b) => b.constant).map((b) => b.name), ['B', 'bias']);
    assert.equal(lowerWorkload(workload('conv2d', conv)).buffers.some((b) => b.constant), false);
  });

  it('a whole-buffer pack of the weights moves to prepare; the padded input and a per-block pack stay per call', () => {
    const base = lowerWorkload(workload('conv2d', { ...conv, prepack: 1 }));
    const whole = runSplit(applyTrace(base, trace(convSteps(true))), 3);
    assert.deepEqual(whole.split.prepared.map((b) => [b.name, b.shape.join('x'), b.offset]), [['W.packed', '2x8x3x3x16', 0]]);
    assert.equal(whole.split.floats, 2 * 8 * 9 * 16);
    assert.deepEqual(whole.split.prepare!.buffers.map((b) => `${b.role} ${b.name}`), ['input W', 'output W.packed']);
    assert.ok(whole.split.program.buffers.some((b) => b.name === 'W.packed' && b.role === 'input' && b.constant));
    assertClose(whole.got, whole.want, 'whole pack');

    const perBlock = runSplit(applyTrace(base, trace(convSteps(false))), 4);
    assert.deepEqual(perBlock.split.prepared, [], 'a pack inside k.0 is per call');
    assert.ok(perBlock.split.prepare, 'a workload with constants always has a prepare stage, maybe empty');
    assertClose(perBlock.got, perBlock.want, 'per-block pack');

    const plain = lowerWorkload(workload('conv2d', conv));
    assert.equal(splitPrepare(applyTrace(plain, trace(convSteps(true)))).prepare, undefined, 'without prepack nothing is hoisted');
  });

  it('every operator with prepack: random schedules split into prepare and kernel compute what the schedule computes', () => {
    let hoisted = 0, cases = 0;
    for (const op of OPS.filter((o) => o.params.some((p) => p.name === 'prepack'))) {
      const base = lowerWorkload(workload(op.name, { ...op.example, prepack: 1 }));
      const weights = base.buffers.filter((b) => b.constant).map((b) => b.name);
      for (let seed = 0; seed < 12; seed++) {
        const r = randomLegalTrace(base, 900 + seed * 17 + op.name.length, 6);
        // Half of them end with a whole pack of a weight, where the nest allows one.
        let p = r.program;
        if (seed % 2 === 0) {
          try {
            p = applyTrace(r.program, trace([{ prim: 'layout', buffer: weights[seed % weights.length]! }]));
          } catch {
            // a nest the pack cannot go before (a GPU-bound one): the random schedule as it is
          }
        }
        const { split, got, want } = runSplit(p, seed);
        hoisted += split.prepared.length;
        cases++;
        assertClose(got, want, `${op.name} seed ${seed}`);
      }
    }
    assert.ok(hoisted >= cases / 3, `${hoisted} packs hoisted in ${cases} schedules`);
  });

  it('C: the kernel reads the prepared block through one pointer; the emitted header says how to call prepare', () => {
    const w = workload('conv2d', { ...conv, prepack: 1 });
    const p = applyTrace(lowerWorkload(w), trace(convSteps(true)));
    const k = renderC(lowerForCodegen(p, undefined, { prepare: true }), 'conv');
    assert.deepEqual(k.params.map((q) => `${q.role} ${q.name}`), ['input X', 'input W', 'prepared prepared', 'output Y']);
    assert.equal(k.signature, 'void conv(const float *restrict X, const float *restrict W, const float *restrict prepared, float *restrict Y)');
    assert.equal(k.prepare?.signature, 'void conv_prepare(const float *restrict W, float *restrict prepared)');
    assert.equal(k.prepare?.floats, 2 * 8 * 9 * 16);
    const files = cArtifacts(p, { name: 'conv', workload: w.key, traceHash: 't', origin: 'test', lanes: 16 });
    assert.match(files['conv.h']!, /#define CONV_PREPARED_FLOATS 2304\nvoid conv_prepare\(const float \*restrict W, float \*restrict prepared\);\nvoid conv\(/);
    assert.match(files['conv.h']!, /call conv_prepare\(\) once/);
    // Without prepack the same schedule is one function, as before.
    const plain = renderC(lowerForCodegen(applyTrace(lowerWorkload(workload('conv2d', conv)), trace(convSteps(true))), undefined, { prepare: true }), 'conv');
    assert.equal(plain.prepare, undefined);
    assert.equal(plain.signature, 'void conv(const float *restrict X, const float *restrict W, float *restrict Y)');
  });

  it('C target: prepared kernels compile, run prepare once and match the reference', async function () {
    this.timeout(300_000);
    const pipeline = new Pipeline(new CTarget({}, { threads: 2 }));
    const cases = [
      { op: 'conv2d', params: { ...conv, prepack: 1 }, steps: convSteps(true) },
      { op: 'conv2d', params: { ...conv, prepack: 1 }, steps: convSteps(false) },
      { op: 'conv2d', params: { ...conv, prepack: 1 }, steps: [] },
      { op: 'gemm', params: { m: 20, n: 32, k: 12, prepack: 1 }, steps: [{ prim: 'split', loop: 'j', factors: [16], tail: 'requireDivisible' }, { prim: 'reorder', loops: ['j.0', 'i', 'k', 'j.1'] }, { prim: 'layout', buffer: 'B', dims: [1], factors: [16] }, { prim: 'vectorize', loop: 'j.1' }] },
      { op: 'gemm_bias_relu', params: { m: 9, n: 7, k: 5, prepack: 1 }, steps: [{ prim: 'layout', buffer: 'B' }, { prim: 'layout', buffer: 'bias' }] },
    ] as { op: string; params: Record<string, number>; steps: Step[] }[];
    for (const c of cases) {
      const w = workload(c.op, c.params);
      const base = lowerWorkload(w);
      const m = await pipeline.measureProgram(applyTrace(base, trace(c.steps)), { key: w.key, unscheduled: base, flops: w.flops }, { time: false });
      assert.equal(m.status, 'ok', `${c.op} ${JSON.stringify(c.steps)}: ${m.status}: ${m.message}`);
    }
    // A timed measurement says how long prepare took (once, outside the times); one without constants has none.
    const w = workload('conv2d', { ...conv, prepack: 1 }), plain = workload('conv2d', conv);
    const timed = await pipeline.measureProgram(applyTrace(lowerWorkload(w), trace(convSteps(true))), { key: w.key, unscheduled: lowerWorkload(w), flops: w.flops });
    assert.equal(timed.status, 'ok');
    assert.equal(typeof timed.prepareSeconds, 'number');
    const untimedPrepare = await pipeline.measureProgram(applyTrace(lowerWorkload(plain), trace(convSteps(true))), { key: plain.key, unscheduled: lowerWorkload(plain), flops: plain.flops });
    assert.equal(untimedPrepare.prepareSeconds, undefined);
  });
});
