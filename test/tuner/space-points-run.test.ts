/**
 * Issue 26: random points of every convolution's schedule space (the register-tile draws of the CPU
 * set among them: half the CPU draws are that kind when a vector axis exists) compile and agree
 * with the reference on both targets. The shapes keep channels a multiple of 16 so the CPU space
 * draws register tiles on AVX-512 as well as on AVX2, and are small so the reference is quick.
 */
import assert from 'node:assert/strict';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { rng } from '../../ir/random.js';
import { applyTrace } from '../../scheduler/apply.js';
import { traceToJSON } from '../../scheduler/trace.js';
import { CTarget } from '../../targets/c/target.js';
import { Pipeline } from '../../targets/pipeline.js';
import { Target } from '../../targets/target.js';
import { WebGpuTarget } from '../../targets/webgpu/target.js';
import { ScheduleSpace } from '../../tuner/space.js';
import { loopExtent } from '../../tuner/space/point.js';

const CONVS: readonly [string, Record<string, number>][] = [
  ['conv1d', { n: 1, c: 16, w: 40, k: 32, kw: 3, pad: 1 }],
  ['conv2d', { n: 1, c: 16, h: 10, w: 14, k: 32, kh: 3, kw: 3, pad: 1 }],
  ['conv2d', { n: 1, c: 16, h: 11, w: 11, k: 32, kh: 3, kw: 3, pad: 1, stride: 2 }],
  ['conv3d', { n: 1, c: 16, d: 4, h: 6, w: 6, k: 32, kd: 3, kh: 3, kw: 3, pad: 1 }],
  ['grouped_conv2d', { n: 1, c: 32, h: 8, w: 8, k: 64, kh: 3, kw: 3, pad: 1, groups: 2 }],
  ['depthwise_conv2d', { n: 1, c: 32, h: 12, w: 16, kh: 3, kw: 3, pad: 1 }],
  ['dilated_conv2d', { n: 1, c: 16, h: 12, w: 12, k: 32, kh: 3, kw: 3, pad: 2, dilation: 2 }],
  // Blocked layouts (issue 27): five output axes (n, ko, oh, ow, ki), the reduction split (rco, rci);
  // a strided dense layer with bias, residual and relu in nchw16c (conv2d_bias_relu's epilogue and
  // more), and a depthwise one in nchw8c, its channels the vector.
  ['conv2d_fused', { n: 1, c: 16, h: 9, w: 10, k: 32, kh: 3, kw: 3, pad: 1, stride: 2, residual: 1, act: 1, prepack: 1, layout: 3 }],
  ['conv2d_fused', { n: 1, c: 32, h: 12, w: 12, k: 32, groups: 32, kh: 3, kw: 3, pad: 1, act: 2, prepack: 1, layout: 2 }],
  ['conv1d_transpose', { n: 1, c: 16, w: 20, k: 32, kw: 4, stride: 2, pad: 1 }],
  ['conv2d_transpose', { n: 1, c: 16, h: 6, w: 6, k: 32, kh: 4, kw: 4, stride: 2, pad: 1 }],
  ['conv3d_transpose', { n: 1, c: 16, d: 3, h: 4, w: 4, k: 16, kd: 3, kh: 3, kw: 3, stride: 2, pad: 1 }],
  // Even outputs: the stride phases split whole (the 3x3x3 layer above has odd ones, 5x7x7).
  ['conv3d_transpose', { n: 1, c: 16, d: 2, h: 3, w: 4, k: 16, kd: 4, kh: 4, kw: 4, stride: 2, pad: 1 }],
];

/** Draws `count` points of `target`'s space for each convolution, measures them unclocked, and fails on any that is not ok. */
async function checkSpacePoints(target: Target, count: number): Promise<number> {
  const pipeline = new Pipeline(target);
  let checked = 0;
  for (const [op, params] of CONVS) {
    const w = workload(op, params);
    const base = lowerWorkload(w);
    const space = new ScheduleSpace(base, target.spaceTarget);
    const r = rng(op.length * 7 + (params.stride ?? 1));
    const points = Array.from({ length: count }, () => space.sample(r));
    // A CPU transposed convolution of 2 or 3 dimensions: at least one draw runs its output phases
    // outside the reduction (unrolled copies of the reduction nest, each with its own register tile).
    const phaseCopies = (p: (typeof points)[number]) => p.order.some((x) => space.nest.isPhaseCopy(p.order, x, loopExtent(space.nest, p, x)));
    const whole = [...space.nest.phases].filter(([a, { stride }]) => space.nest.axis(a).axis === 'spatial' && space.nest.axis(a).extent % stride === 0);
    const phased = target.spaceTarget.style === 'cpu' && whole.length >= 2;
    for (let i = 0; phased && !points.some(phaseCopies) && i < 200; i++) points[count - 1] = space.sample(r);
    if (phased) assert.ok(points.some(phaseCopies), `${op}: no draw runs its stride phases outside the reduction`);
    const traces = points.map((p) => space.toTrace(p, w.key));
    const rendered = traces.map((t) => pipeline.render(applyTrace(base, t, { workload: w.key })));
    const cands = rendered.flatMap((x) => (x.ok ? [x.candidate] : []));
    const measured = await pipeline.measureAll(cands, { key: w.key, unscheduled: base, flops: w.flops }, { time: false });
    rendered.forEach((x, i) => {
      const m = x.ok ? measured[cands.indexOf(x.candidate)]! : x.measurement;
      assert.equal(m.status, 'ok', `${op} ${JSON.stringify(params)}: ${m.status}: ${m.message}\ntrace: ${traceToJSON(traces[i]!)}`);
      checked++;
    });
  }
  return checked;
}

describe('tuner: random points of every convolution\'s space agree with the reference', function () {
  this.timeout(600_000);

  it('C target (2 threads): 4 points per convolution', async () => {
    const n = await checkSpacePoints(new CTarget({}, { threads: 2 }), 4);
    console.log(`      C: ${n} space points compiled and checked`);
  });

  it('WebGPU target: 3 points per convolution', async () => {
    const target = new WebGpuTarget({ minSeconds: 0.05 });
    await target.open();
    try {
      const n = await checkSpacePoints(target, 3);
      console.log(`      WebGPU: ${n} space points checked on the device`);
    } finally {
      await target.close();
    }
  });
});
