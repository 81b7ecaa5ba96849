/**
 * conv2d 3x3 on the CPU: loopsmith's schedule and the naive loop nest against im2col + OpenBLAS
 * sgemm (what frameworks run without a direct kernel) at its fastest verified core type.
 */
import { Params, lowerWorkload, workload } from '../ir/ops/index.js';
import { applyTrace } from '../scheduler/apply.js';
import { expertCpuConv2d } from '../scheduler/expert.js';
import { Pipeline } from '../targets/pipeline.js';
import { openTarget } from '../targets/registry.js';
import { ReferenceSpec } from '../targets/target.js';
import { SectionContext, SectionOutput, row } from './section.js';

export const CONV_LAYERS: readonly Params[] = [
  { n: 1, c: 64, h: 56, w: 56, k: 64, kh: 3, kw: 3, pad: 1 },
  { n: 1, c: 256, h: 28, w: 28, k: 512, kh: 3, kw: 3, pad: 1 },
];

export async function convCpu(ctx: SectionContext): Promise<SectionOutput> {
  const out: SectionOutput = { rows: [], peers: [] };
  for (const params of CONV_LAYERS) {
    const w = workload('conv2d', params);
    const base = lowerWorkload(w);
    const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };
    const scheduled = applyTrace(base, expertCpuConv2d(params, w.key), { workload: w.key });
    const at = { section: 'conv-cpu', workload: w.key };
    const name = `conv2d ${params.c}x${params.h}x${params.w}->${params.k}`;
    for (const threads of ctx.threads) {
      const cpu = new Pipeline(await openTarget('c', { settings: ctx.settings, options: { threads } }));
      const t = `${threads} thread${threads > 1 ? 's' : ''}`;
      ctx.log(`${name} [${t}]: loopsmith schedule...`);
      out.rows.push(row({ ...at, threads, kernel: 'loopsmith: channel-vectorized register tile, packed weights, padded input', kind: 'loopsmith' }, await cpu.measureProgram(scheduled, ref)));
      if (typeof ctx.blas === 'string') {
        out.rows.push({ ...at, threads, kernel: 'im2col + OpenBLAS sgemm', kind: 'peer', status: 'unavailable', note: ctx.blas });
      } else {
        ctx.log(`${name} [${t}]: im2col + OpenBLAS...`);
        const { run, choice } = await ctx.blas.im2colConv({ c: params.c!, h: params.h!, w: params.w!, k: params.k!, kh: params.kh!, kw: params.kw!, pad: params.pad! }, threads, cpu, ref);
        out.rows.push(row({ ...at, threads, kernel: `im2col + ${ctx.blas.version} sgemm, ${choice.chosen ?? 'no verified configuration'}`, kind: 'peer' }, run));
        out.peers.push({ peer: `im2col + ${ctx.blas.version}`, ...at, threads, ...choice });
      }
      if (threads === 1 && !ctx.quick) {
        ctx.log(`${name} [${t}]: naive loop nest...`);
        const naive = new Pipeline(await openTarget('c', { settings: { ...ctx.settings, minSeconds: 0.1, maxRepeats: 3, warmup: 0 } }));
        out.rows.push(row({ ...at, threads, kernel: 'naive loop nest (as lowered)', kind: 'baseline' }, await naive.measureProgram(base, ref)));
      }
    }
  }
  return out;
}
