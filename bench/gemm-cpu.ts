/**
 * SGEMM 1024^3 on the CPU: the expert schedule (scheduler/expert.ts) and the naive loop nest
 * against OpenBLAS at its fastest verified core type, 1 and N threads, same inputs, same checker,
 * same timing protocol.
 */
import { lowerWorkload, workload } from '../ir/ops/index.js';
import { applyTrace } from '../scheduler/apply.js';
import { Pipeline } from '../targets/pipeline.js';
import { openTarget } from '../targets/registry.js';
import { ReferenceSpec } from '../targets/target.js';
import { expertSchedules } from '../tuner/starting-points.js';
import { SectionContext, SectionOutput, row } from './section.js';

const SIZE = 1024;

export async function gemmCpu(ctx: SectionContext): Promise<SectionOutput> {
  const w = workload('gemm', { m: SIZE, n: SIZE, k: SIZE });
  const base = lowerWorkload(w);
  const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };
  const out: SectionOutput = { rows: [], peers: [] };
  const at = { section: 'gemm-cpu', workload: w.key };
  for (const threads of ctx.threads) {
    const cpu = new Pipeline(await openTarget('c', { settings: ctx.settings, options: { threads } }));
    const expert = applyTrace(base, expertSchedules(w, cpu.target.spaceTarget)[0]!.trace, { workload: w.key });
    const t = `${threads} thread${threads > 1 ? 's' : ''}`;
    ctx.log(`gemm ${SIZE} [${t}]: loopsmith expert schedule...`);
    out.rows.push(row({ ...at, threads, kernel: 'loopsmith expert schedule', kind: 'loopsmith' }, await cpu.measureProgram(expert, ref)));
    if (typeof ctx.blas === 'string') {
      out.rows.push({ ...at, threads, kernel: 'OpenBLAS cblas_sgemm', kind: 'peer', status: 'unavailable', note: ctx.blas });
    } else {
      ctx.log(`gemm ${SIZE} [${t}]: OpenBLAS, ${ctx.blas.configs.filter((c) => !c.skip).length} configurations...`);
      const { run, choice } = await ctx.blas.sgemm(SIZE, SIZE, SIZE, threads, cpu, ref);
      out.rows.push(row({ ...at, threads, kernel: `${ctx.blas.version} cblas_sgemm, ${choice.chosen ?? 'no verified configuration'}`, kind: 'peer' }, run));
      out.peers.push({ peer: ctx.blas.version, ...at, threads, ...choice });
    }
    // Naive i-j-k at 1024 runs for seconds per repeat: a baseline for the full run only.
    if (threads === 1 && !ctx.quick) {
      ctx.log(`gemm ${SIZE} [${t}]: naive loop nest...`);
      const naive = new Pipeline(await openTarget('c', { settings: { ...ctx.settings, minSeconds: 0.1, maxRepeats: 3, warmup: 0 } }));
      out.rows.push(row({ ...at, threads, kernel: 'naive loop nest (as lowered)', kind: 'baseline' }, await naive.measureProgram(base, ref)));
    }
  }
  return out;
}
