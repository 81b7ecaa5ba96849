/**
 * The search bench's reference points, measured once per workload before its tunes: the peer
 * library at its fastest verified configuration (OpenBLAS, im2col + OpenBLAS, TensorFlow.js; the
 * code of bench/openblas.ts and bench/tfjs.ts) and the operator's expert schedules through the
 * same target pipeline as the tuned kernels.
 */
import { Workload, lowerWorkload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { Pipeline } from '../../targets/pipeline.js';
import { Candidate, ReferenceSpec } from '../../targets/target.js';
import { expertSchedules } from '../../tuner/starting-points.js';
import { convPeerShape, type OpenBlas } from '../openblas.js';
import { ONEDNN_MODES, ONEDNN_ROW, oneDnnShape, type OneDnn } from '../onednn.js';
import type { loadTf } from '../tfjs.js';
import { tfjsBest } from '../tfjs.js';
import type { PeerResult } from './result.js';
import type { BenchTargetKind } from './workloads.js';

type Tf = Awaited<ReturnType<typeof loadTf>>;

export interface PeerLibraries {
  /** The CPU peer, or why there is none. */
  readonly blas: OpenBlas | string;
  /** The CPU convolution peer, or why there is none. */
  readonly dnnl: OneDnn | string;
  /** The WebGPU peer, or why there is none. */
  readonly tf: Tf | string;
}

const unavailable = (name: string, note: string): PeerResult => ({ kind: 'peer', name, status: 'unavailable', note });

const fromRun = (kind: PeerResult['kind'], name: string, m: { status: string; gflops?: number; stats?: PeerResult['stats']; note?: string; message?: string }, choice?: PeerResult['choice']): PeerResult => {
  const note = m.message ?? m.note;
  return { kind, name, status: m.status, ...(m.gflops !== undefined ? { gflops: m.gflops } : {}), ...(m.stats ? { stats: m.stats } : {}), ...(note ? { note } : {}), ...(choice ? { choice } : {}) };
};

/** The library a workload is compared with, at its best, or why there is none. */
async function library<C extends Candidate, B>(kind: BenchTargetKind, w: Workload, threads: number, libs: PeerLibraries, pipeline: Pipeline<C, B>, ref: ReferenceSpec, quick: boolean): Promise<PeerResult | undefined> {
  const p = w.params;
  if (kind === 'c') {
    const blas = libs.blas;
    if (w.op.name === 'gemm' && !p.transA && !p.transB) {
      if (typeof blas === 'string') return unavailable('OpenBLAS cblas_sgemm', blas);
      const { run, choice } = await blas.sgemm(p.m!, p.n!, p.k!, threads, pipeline, ref);
      return fromRun('peer', `${blas.version} cblas_sgemm, ${choice.chosen ?? 'no verified configuration'}`, run, choice);
    }
    const conv = convPeerShape(w.op.name, p);
    if (typeof conv !== 'string') {
      if (typeof blas === 'string') return unavailable('im2col + OpenBLAS sgemm', blas);
      const { run, choice } = await blas.im2colConv(conv, threads, pipeline, ref);
      return fromRun('peer', `im2col + ${blas.version} sgemm, ${choice.chosen ?? 'no verified configuration'}`, run, choice);
    }
    // oneDNN's rows (above) are the peer of the convolutions OpenBLAS's im2col does not cover.
    return typeof oneDnnShape(w.op.name, p) === 'string' ? unavailable('none', `no CPU peer for ${w.op.name} here (${conv})`) : undefined;
  }
  if ((w.op.name === 'gemm' && !p.transA && !p.transB) || (w.op.name === 'conv2d' && p.groups === 1) || w.op.name === 'depthwise_conv2d') {
    if (typeof libs.tf === 'string') return unavailable('TensorFlow.js WebGPU', libs.tf);
    const { run, choice } = await tfjsBest(libs.tf, w, ref, pipeline, quick);
    return fromRun('peer', `TensorFlow.js WebGPU, ${choice.chosen ?? 'no verified configuration'}`, run, choice);
  }
  return unavailable('none', `no WebGPU peer for ${w.op.name} here`);
}

/** The library and every expert schedule of the workload, each verified, on `pipeline` (a target of the bench's kind, measured in full). */
export async function measurePeers<C extends Candidate, B>(kind: BenchTargetKind, w: Workload, threads: number, libs: PeerLibraries, pipeline: Pipeline<C, B>, quick: boolean, log: (line: string) => void): Promise<PeerResult[]> {
  const base = lowerWorkload(w);
  const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };
  const out: PeerResult[] = [];
  for (const e of expertSchedules(w, pipeline.target.spaceTarget)) {
    log(`${w.key}: ${e.label}...`);
    out.push(fromRun('expert', e.label, await pipeline.measureProgram(applyTrace(base, e.trace), ref)));
  }
  // Convolutions: oneDNN both ways first (NC(D)HW in and out is the contract of loopsmith's kernels: `x peer` is over it), then im2col + OpenBLAS.
  const dnnlShape = kind === 'c' ? oneDnnShape(w.op.name, w.params) : 'not a CPU workload';
  if (typeof dnnlShape !== 'string') {
    for (const mode of ONEDNN_MODES) {
      if (typeof libs.dnnl === 'string') {
        out.push(unavailable(ONEDNN_ROW[mode], libs.dnnl));
        continue;
      }
      log(`${w.key}: ${ONEDNN_ROW[mode]}...`);
      const r = await libs.dnnl.conv(dnnlShape, mode, threads, pipeline, ref);
      out.push(fromRun('peer', `${ONEDNN_ROW[mode]} (${libs.dnnl.version}${r.note ? `, ${r.note}` : ''})`, r));
    }
  }
  log(`${w.key}: peer library...`);
  const lib = await library(kind, w, threads, libs, pipeline, ref, quick);
  if (lib) out.push(lib);
  return out;
}
