/**
 * The conv suite's speed targets (issue 26: against oneDNN, the convolution library frameworks run
 * on CPUs; issue 12's were against im2col + OpenBLAS), computed from the rows of one run: every figure is a
 * ratio of two rows measured side by side, so it holds on the machine that measured it and nowhere
 * else.
 */
import type { BenchRow, SpeedGoal } from '../cli/bench-results.js';
import { ConvLayer, PREPACKED_ROW } from './conv-layers.js';
import { ONEDNN_ROW } from './onednn.js';

const ok = (r?: BenchRow): r is BenchRow & { gflops: number } => r !== undefined && r.status === 'ok' && (r.gflops ?? 0) > 0;
const geomean = (xs: readonly number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

function goal(what: string, value: number | undefined, want: number, note?: string): SpeedGoal {
  return { what, goal: want, ...(value !== undefined ? { value } : {}), met: value !== undefined && value >= want, ...(note ? { note } : {}) };
}

/** 3x3 convolutions with at least 64 input and output channels: where direct convolution must beat im2col. */
export function isWide3x3(l: ConvLayer): boolean {
  const p = l.params;
  return l.op === 'conv2d' && p.kh === 3 && p.kw === 3 && p.c! >= 64 && p.k! >= 64;
}

/** Dense 3x3 convolutions (issue 26: each within 0.9x of oneDNN at its best). */
export function is3x3(l: ConvLayer): boolean {
  return l.op === 'conv2d' && l.params.kh === 3 && l.params.kw === 3 && (l.params.groups ?? 1) === 1;
}

export interface GoalInputs {
  readonly rows: readonly BenchRow[];
  readonly layers: readonly ConvLayer[];
  readonly threads: readonly number[];
  /** The depthwise layer's bandwidth roofline, GFLOP/s at 1 thread, when it was measured. */
  readonly depthwiseRoofline?: { readonly gflops: number; readonly gbps: number; readonly label: string };
}

export function convGoals({ rows, layers, threads, depthwiseRoofline }: GoalInputs): SpeedGoal[] {
  const out: SpeedGoal[] = [];
  const find = (section: string, label: string, t: number | undefined, pick: (r: BenchRow) => boolean) =>
    rows.find((r) => r.section === section && r.layer === label && r.threads === t && pick(r));
  const expert = (r: BenchRow) => r.kind === 'loopsmith' && r.kernel.includes('expert');
  const prepacked = (r: BenchRow) => r.kind === 'loopsmith' && r.kernel.startsWith(PREPACKED_ROW);
  const tuned = (r: BenchRow) => r.kind === 'loopsmith' && r.kernel.includes('tuned') && !prepacked(r);
  const peer = (r: BenchRow) => r.kind === 'peer';
  const naive = (r: BenchRow) => r.kind === 'baseline';
  const over = (a?: BenchRow, b?: BenchRow) => (ok(a) && ok(b) ? a.gflops / b.gflops : undefined);
  const cpuLayers = layers.filter((l) => rows.some((r) => r.section === 'conv-cpu' && r.layer === l.label));
  const dnnlBest = (r: BenchRow) => peer(r) && r.kernel.startsWith(ONEDNN_ROW.best);
  const dnnlNchw = (r: BenchRow) => peer(r) && r.kernel.startsWith(ONEDNN_ROW.nchw);
  // loopsmith's figure for a layer: the faster of its expert and its tuned kernel (when the records
  // hold one); against oneDNN at its best, which reorders its weights outside the time, also the
  // kernel tuned with its weights packed at load (prepack).
  const ours = (label: string, t: number, withPrepacked = false) => {
    const xs = rows.filter((r) => r.section === 'conv-cpu' && r.layer === label && r.threads === t && (expert(r) || tuned(r) || (withPrepacked && prepacked(r))) && ok(r));
    return xs.reduce<BenchRow | undefined>((b, r) => (!b || r.gflops! > b.gflops! ? r : b), undefined);
  };
  for (const t of threads) {
    const tt = `${t} thread${t > 1 ? 's' : ''}`;
    const vsNchw = cpuLayers.map((l) => ({ l, x: over(ours(l.label, t), find('conv-cpu', l.label, t, dnnlNchw)) })).filter((v): v is { l: ConvLayer; x: number } => v.x !== undefined);
    if (vsNchw.length) {
      out.push(goal(`loopsmith >= 1.2x oneDNN NCHW in and out, geometric mean of ${vsNchw.length} layers, ${tt}`, geomean(vsNchw.map((v) => v.x)), 1.2));
      const worst = vsNchw.reduce((a, b) => (b.x < a.x ? b : a));
      out.push(goal(`loopsmith >= 0.9x oneDNN NCHW in and out on every layer, ${tt}`, worst.x, 0.9, `weakest: ${worst.l.label}`));
    }
    for (const l of cpuLayers.filter(is3x3)) {
      const mine = ours(l.label, t, true);
      out.push(goal(`loopsmith >= 0.9x oneDNN at its best, ${l.label}, ${tt}`, over(mine, find('conv-cpu', l.label, t, dnnlBest)), 0.9, mine && prepacked(mine) ? 'weights packed at load (prepack)' : undefined));
    }
  }
  const many = Math.max(...threads);
  if (many > 1) {
    for (const l of cpuLayers) {
      const one = ours(l.label, 1), all = ours(l.label, many);
      // Layers with under 1 ms of work on one thread have too little to split.
      if (!ok(one) || !one.stats || one.stats.median < 1e-3) continue;
      out.push(goal(`loopsmith ${many} threads >= 1.8x 1 thread, ${l.label}`, over(all, one), 1.8));
    }
  }
  const dw = cpuLayers.find((l) => l.op === 'depthwise_conv2d' && l.params.c === 144);
  if (dw) {
    const e = find('conv-cpu', dw.label, 1, expert);
    const roof = depthwiseRoofline && ok(e) ? `${(e.gflops / depthwiseRoofline.gflops * 100).toFixed(0)}% of its bandwidth roofline (${depthwiseRoofline.gflops.toFixed(1)} GFLOP/s = ${depthwiseRoofline.gbps.toFixed(1)} GB/s measured ${depthwiseRoofline.label})` : undefined;
    out.push(goal(`expert >= 4x the naive loop nest, ${dw.label}, 1 thread`, over(e, find('conv-cpu', dw.label, 1, naive)), 4, roof));
  }
  const yolo = cpuLayers.find((l) => l.label === 'YOLO C8');
  if (yolo) {
    const tr = find('conv-cpu', yolo.label, 1, tuned);
    if (tr) out.push(goal(`tuned (from the records) >= 0.9x expert, ${yolo.label}, 1 thread`, over(tr, find('conv-cpu', yolo.label, 1, expert)), 0.9, tr.kernel));
  }
  const gpuConv = layers.find((l) => l.op === 'conv2d' && l.params.c === 64 && l.params.h === 56 && l.params.k === 64 && l.params.kh === 3);
  if (gpuConv && rows.some((r) => r.section === 'conv-webgpu' && r.layer === gpuConv.label)) {
    out.push(goal(`WebGPU expert >= 1.5x TensorFlow.js, ${gpuConv.label}`, over(find('conv-webgpu', gpuConv.label, undefined, expert), find('conv-webgpu', gpuConv.label, undefined, peer)), 1.5));
  }
  return out;
}
