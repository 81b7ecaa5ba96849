/**
 * The suite's WebGPU layers (bench/conv-layers.ts `webgpu`): loopsmith's expert GPU schedule, the
 * tuned best from the records, and the naive one-invocation-per-output kernel against
 * TensorFlow.js's WebGPU backend at its fastest verified program choice, on one adapter in one run.
 */
import { lowerWorkload, workload } from '../ir/ops/index.js';
import { applyTrace } from '../scheduler/apply.js';
import { defaultGpuTrace } from '../scheduler/default-schedules.js';
import { Trace } from '../scheduler/trace.js';
import { Pipeline } from '../targets/pipeline.js';
import { openTarget } from '../targets/registry.js';
import { ReferenceSpec } from '../targets/target.js';
import { expertSchedules } from '../tuner/starting-points.js';
import type { BenchRow, PeakRow } from '../cli/bench-results.js';
import { ConvLayer } from './conv-layers.js';
import { gpuPeak } from './peak.js';
import { SectionContext, SectionOutput, row } from './section.js';
import { loadTf, tfjsBest } from './tfjs.js';

export async function convWebgpu(ctx: SectionContext, layers: readonly ConvLayer[], withPeak: boolean): Promise<SectionOutput & { peak?: PeakRow }> {
  const target = await openTarget('webgpu', { settings: ctx.settings });
  const gpu = new Pipeline(target);
  const out: SectionOutput = { rows: [], peers: [] };
  try {
    let peak: PeakRow | undefined;
    if (withPeak) {
      ctx.log(`webgpu: ALU peak on ${target.description}...`);
      peak = await gpuPeak(target.settings, ctx.quick ? 128 : 512, target.description);
    }
    const tf = await loadTf();
    for (const layer of layers) {
      const w = workload(layer.op, layer.params);
      const base = lowerWorkload(w);
      const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };
      const at = { section: 'conv-webgpu', workload: w.key, layer: layer.label };
      const kernels: { name: string; trace: Trace; kind: BenchRow['kind'] }[] = expertSchedules(w, target.spaceTarget).map((e) => ({ name: `loopsmith ${e.label}`, trace: e.trace, kind: 'loopsmith' }));
      const tuned = ctx.records?.best(w.key, target.fingerprint.key);
      if (tuned) kernels.push({ name: `loopsmith tuned (records: ${tuned.strategy}, trial ${tuned.trial})`, trace: tuned.trace, kind: 'loopsmith' });
      if (!ctx.quick) kernels.push({ name: 'naive: one invocation per output', trace: defaultGpuTrace(base), kind: 'baseline' });
      for (const k of kernels) {
        ctx.log(`${layer.label} [webgpu]: ${k.name}...`);
        out.rows.push(row({ ...at, kernel: k.name, kind: k.kind }, await gpu.measureProgram(applyTrace(base, k.trace, { workload: w.key }), ref)));
      }
      ctx.log(`${layer.label} [webgpu]: TensorFlow.js, each program choice...`);
      const { run, choice } = await tfjsBest(tf, w, ref, gpu, ctx.quick);
      out.rows.push(row({ ...at, kernel: `TensorFlow.js WebGPU, ${choice.chosen ?? 'no verified configuration'}`, kind: 'peer' }, run));
      out.peers.push({ peer: 'TensorFlow.js WebGPU backend', section: at.section, workload: w.key, ...choice });
    }
    return { ...out, ...(peak ? { peak } : {}) };
  } finally {
    await target.close();
  }
}
