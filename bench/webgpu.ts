/**
 * GEMM 256/512/1024 and conv2d 64x56x56->64 3x3 on the WebGPU device: loopsmith's expert GPU
 * schedules and the naive one-invocation-per-output kernel against TensorFlow.js's WebGPU backend
 * at its fastest verified flag setting, on the same adapter in the same run, every kernel checked
 * against the same reference and timed with the device's timestamps; and the device's ALU peak.
 */
import type { PeakRow } from '../cli/bench-results.js';
import { Workload, lowerWorkload, workload } from '../ir/ops/index.js';
import { applyTrace } from '../scheduler/apply.js';
import { defaultGpuTrace } from '../scheduler/default-schedules.js';
import { expertGpuConv2d, expertGpuGemm, expertGpuGemmRegisters } from '../scheduler/expert.js';
import { Trace } from '../scheduler/trace.js';
import { Pipeline } from '../targets/pipeline.js';
import { openTarget } from '../targets/registry.js';
import { ReferenceSpec } from '../targets/target.js';
import { gpuPeak } from './peak.js';
import { SectionContext, SectionOutput, row } from './section.js';
import { loadTf, tfjsBest } from './tfjs.js';

export async function webgpu(ctx: SectionContext): Promise<SectionOutput & { peak: PeakRow; device: Readonly<Record<string, unknown>>; summary: readonly string[] }> {
  const target = await openTarget('webgpu', { settings: ctx.settings });
  const gpu = new Pipeline(target);
  const out: SectionOutput = { rows: [], peers: [] };
  try {
    ctx.log(`webgpu: ALU peak on ${target.description}...`);
    const peak = await gpuPeak(target.settings, ctx.quick ? 128 : 512, target.description);
    const tf = await loadTf();
    const cases: { w: Workload; kernels: [string, Trace][] }[] = [];
    for (const n of [256, 512, 1024]) {
      const w = workload('gemm', { m: n, n, k: n });
      cases.push({ w, kernels: [
        ['loopsmith expert: register tiles, uniform B loads', expertGpuGemmRegisters(n, n, n)],
        ['loopsmith expert: workgroup tiles + shared memory', expertGpuGemm(n, n, n)],
        ['naive: one invocation per output', defaultGpuTrace(lowerWorkload(w))],
      ] });
    }
    const cw = workload('conv2d', { n: 1, c: 64, h: 56, w: 56, k: 64, kh: 3, kw: 3, pad: 1 });
    cases.push({ w: cw, kernels: [
      ['loopsmith expert: register tile of 7-8 columns x 8 channels', expertGpuConv2d(cw.params)],
      ['naive: one invocation per output', defaultGpuTrace(lowerWorkload(cw))],
    ] });
    for (const { w, kernels } of cases) {
      const base = lowerWorkload(w);
      const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };
      const at = { section: 'webgpu', workload: w.key };
      // Naive kernels are baselines of the full run: at 1024 one run takes seconds.
      for (const [name, t] of kernels.filter(([name]) => !(ctx.quick && name.startsWith('naive')))) {
        ctx.log(`webgpu ${w.key}: ${name}...`);
        out.rows.push(row({ ...at, kernel: name, kind: name.startsWith('naive') ? 'baseline' : 'loopsmith' }, await gpu.measureProgram(applyTrace(base, t), ref)));
      }
      ctx.log(`webgpu ${w.key}: TensorFlow.js, each program choice...`);
      const { run, choice } = await tfjsBest(tf, w, ref, gpu, ctx.quick);
      out.rows.push(row({ ...at, kernel: `TensorFlow.js WebGPU, ${choice.chosen ?? 'no verified configuration'}`, kind: 'peer' }, run));
      out.peers.push({ peer: 'TensorFlow.js WebGPU backend', ...at, ...choice });
    }
    return { ...out, peak, device: target.fingerprint, summary: target.summary };
  } finally {
    await target.close();
  }
}
