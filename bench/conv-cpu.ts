/**
 * Convolutions on the CPU: for each layer of the suite (bench/conv-layers.ts), loopsmith's expert
 * schedule, the tuned best from the records (when they hold one for this device), the naive loop
 * nest, and im2col + OpenBLAS sgemm (what frameworks run without a direct kernel) at its fastest
 * verified core type, on 1 and N threads, same inputs, same checker, same timing protocol.
 */
import { lowerWorkload, workload } from '../ir/ops/index.js';
import { applyTrace } from '../scheduler/apply.js';
import { Pipeline } from '../targets/pipeline.js';
import { openTarget } from '../targets/registry.js';
import { ReferenceSpec } from '../targets/target.js';
import { expertSchedules } from '../tuner/starting-points.js';
import { ConvLayer, PREPACKED_ROW } from './conv-layers.js';
import { convPeerShape } from './openblas.js';
import { ONEDNN_MODES, ONEDNN_ROW, oneDnnShape } from './onednn.js';
import { SectionContext, SectionOutput, row } from './section.js';

export async function convCpu(ctx: SectionContext, layers: readonly ConvLayer[]): Promise<SectionOutput> {
  const out: SectionOutput = { rows: [], peers: [] };
  const untuned = new Set<string>();
  // One target per thread count (and one for the naive nest) for the whole suite: opening one probes the compiler.
  const cpus = new Map(await Promise.all(ctx.threads.map(async (threads) => [threads, new Pipeline(await openTarget('c', { settings: ctx.settings, options: { threads } }))] as const)));
  // The experts' tiles depend on the vector unit, the same for every thread count.
  const spaceTarget = cpus.get(ctx.threads[0]!)!.target.spaceTarget;
  const naive = new Pipeline(await openTarget('c', { settings: { ...ctx.settings, minSeconds: 0.1, maxRepeats: 3, warmup: 0 } }));
  for (const layer of layers) {
    const w = workload(layer.op, layer.params);
    const base = lowerWorkload(w);
    const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };
    const experts = expertSchedules(w, spaceTarget).map((e) => ({ ...e, program: applyTrace(base, e.trace, { workload: w.key }) }));
    const at = { section: 'conv-cpu', workload: w.key, layer: layer.label };
    const peerShape = convPeerShape(layer.op, w.params);
    const dnnlShape = oneDnnShape(layer.op, w.params);
    for (const threads of ctx.threads) {
      const cpu = cpus.get(threads)!;
      const t = `${threads} thread${threads > 1 ? 's' : ''}`;
      const say = (what: string) => ctx.log(`${layer.label} [${t}]: ${what}...`);
      for (const e of experts) {
        say(e.label);
        out.rows.push(row({ ...at, threads, kernel: `loopsmith ${e.label}`, kind: 'loopsmith' }, await cpu.measureProgram(e.program, ref)));
      }
      if (ctx.records) {
        const best = ctx.records.best(w.key, cpu.target.fingerprint.key);
        if (best) {
          say('tuned best from the records');
          const kernel = `loopsmith tuned (records: ${best.strategy}, trial ${best.trial}, ${best.outcome.gflops?.toFixed(1) ?? '?'} GFLOP/s when tuned)`;
          out.rows.push(row({ ...at, threads, kernel, kind: 'loopsmith' }, await cpu.measureProgram(applyTrace(base, best.trace, { workload: w.key }), ref)));
        } else untuned.add(layer.label);
        // The same layer with its weights constant (prepack=1): packed once by the kernel's prepare
        // function, outside the time, as oneDNN's "at its best" row reorders them outside its time.
        const pw = workload(layer.op, { ...layer.params, prepack: 1 });
        const packed = ctx.records.best(pw.key, cpu.target.fingerprint.key);
        if (packed) {
          say('tuned best with weights packed at load');
          const pbase = lowerWorkload(pw);
          const kernel = `${PREPACKED_ROW} (records: ${packed.strategy}, trial ${packed.trial}, ${packed.outcome.gflops?.toFixed(1) ?? '?'} GFLOP/s when tuned)`;
          out.rows.push(row({ ...at, workload: pw.key, threads, kernel, kind: 'loopsmith' }, await cpu.measureProgram(applyTrace(pbase, packed.trace, { workload: pw.key }), { key: pw.key, unscheduled: pbase, flops: pw.flops })));
        }
      }
      // oneDNN NC(D)HW in and out first: the rows' `x peer` is over the peer of loopsmith's own contract.
      if (typeof dnnlShape === 'string' || typeof ctx.dnnl === 'string') {
        for (const mode of ONEDNN_MODES) out.rows.push({ ...at, threads, kernel: ONEDNN_ROW[mode], kind: 'peer', status: 'unavailable', note: typeof dnnlShape === 'string' ? dnnlShape : String(ctx.dnnl) });
      } else {
        for (const mode of ONEDNN_MODES) {
          say(ONEDNN_ROW[mode]);
          const r = await ctx.dnnl.conv(dnnlShape, mode, threads, cpu, ref);
          out.rows.push(row({ ...at, threads, kernel: `${ONEDNN_ROW[mode]} (${ctx.dnnl.version})`, kind: 'peer' }, r));
          if (r.note) out.peers.push({ peer: `${ctx.dnnl.version}, ${mode === 'best' ? 'at its best' : 'NC(D)HW in and out'}`, section: at.section, workload: w.key, threads, chosen: r.note, summary: r.note, tried: [{ label: r.note, status: r.status, ...(r.gflops !== undefined ? { gflops: r.gflops } : {}) }] });
        }
      }
      if (typeof peerShape === 'string' || typeof ctx.blas === 'string') {
        out.rows.push({ ...at, threads, kernel: 'im2col + OpenBLAS sgemm', kind: 'peer', status: 'unavailable', note: typeof peerShape === 'string' ? peerShape : String(ctx.blas) });
      } else {
        say(peerShape.transposed ? 'sgemm + col2im (OpenBLAS)' : 'im2col + OpenBLAS');
        const { run, choice } = await ctx.blas.im2colConv(peerShape, threads, cpu, ref);
        const how = peerShape.transposed ? `sgemm + col2im, ${ctx.blas.version}` : `im2col + ${ctx.blas.version} sgemm`;
        out.rows.push(row({ ...at, threads, kernel: `${how}, ${choice.chosen ?? 'no verified configuration'}`, kind: 'peer' }, run));
        out.peers.push({ peer: how, section: at.section, workload: w.key, threads, ...choice });
      }
      if (threads === 1 && !ctx.quick) {
        say('naive loop nest');
        out.rows.push(row({ ...at, threads, kernel: 'naive loop nest (as lowered)', kind: 'baseline' }, await naive.measureProgram(base, ref)));
      }
    }
  }
  if (ctx.records) {
    const tuned = layers.length - untuned.size;
    out.summary = [`tuned rows from ${ctx.records.path}: ${tuned} of ${layers.length} layers have an ok record for this device${untuned.size ? ` (none for ${[...untuned].join(', ')})` : ''}`];
  }
  return out;
}
