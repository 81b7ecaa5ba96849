/**
 * Issue 11's speed targets, computed from the runs of this bench (never asserted, never
 * hard-coded): each is a ratio with its threshold, "met" or "not met", or "not run".
 */
import { median } from 'simple-statistics';
import { ConfigSummary, marks, peerGflops, summarize, topFinal } from './curves.js';
import type { SearchBenchResult, SpeedTarget, WorkloadResult } from './result.js';
import { ONEDNN_ROW } from '../onednn.js';

type Unscored = Omit<SearchBenchResult, 'targets'>;

/** What "tuned" means in a target: `flex` with the model, the tuner's default, else the configuration with the best median. */
export function tunedConfig(r: Unscored, w: WorkloadResult): ConfigSummary | undefined {
  const at = marks(r.settings);
  const all = r.settings.configs.map((c) => summarize(w, c.label, at));
  return all.find((s) => s.config === 'flex') ?? [...all].sort((a, b) => (b.final?.median ?? 0) - (a.final?.median ?? 0))[0];
}

export function speedTargets(r: Unscored): SpeedTarget[] {
  const s = r.settings, out: SpeedTarget[] = [];
  const budget = s.timeBudgetSeconds;
  const conditions = (w: WorkloadResult) => [
    ...(budget !== 180 ? [`tuned ${budget === undefined ? `for ${Number.isFinite(s.trials) ? s.trials : '?'} trials` : `for ${budget} s`}, the target says 180 s`] : []),
    ...(w.target === 'c' && s.threads !== 1 ? [`${s.threads} threads, the target says 1`] : []),
    ...(s.startingPoints === 0 ? ['without starting points'] : []),
  ];
  const add = (what: string, id: string, threshold: number, unit: SpeedTarget['unit'], ratio: (w: WorkloadResult) => { ratio?: number; note?: string }) => {
    const w = r.workloads.find((x) => x.id === id);
    if (!w) {
      out.push({ what, workload: id, threshold, unit, note: `not run (--workloads ${id})` });
      return;
    }
    const got = ratio(w);
    const note = [...(got.note ? [got.note] : []), ...conditions(w)].join('; ');
    out.push({ what, workload: id, threshold, unit, ...(got.ratio !== undefined ? { ratio: got.ratio, met: got.ratio >= threshold } : {}), ...(note ? { note } : {}) });
  };
  const tuned = (w: WorkloadResult) => tunedConfig(r, w);
  const over = (w: WorkloadResult, denominator: number | undefined, of: string) => {
    const t = tuned(w);
    if (!t?.final) return { note: 'no verified tuned kernel' };
    if (!denominator) return { note: `${of} not measured` };
    return { ratio: t.final.median / denominator, note: `${t.config}, median of ${t.final.of} seeds` };
  };
  const registerExpert = (w: WorkloadResult) => w.peers.find((p) => p.kind === 'expert' && /register/.test(p.name) && p.status === 'ok')?.gflops;

  add('WebGPU GEMM 1024 tuned vs the expert register-blocked schedule', 'wgemm1024', 0.9, 'x', (w) => over(w, registerExpert(w), 'the register-blocked expert'));
  add('WebGPU GEMM 1024 tuned vs TensorFlow.js', 'wgemm1024', 2, 'x', (w) => over(w, peerGflops(w), 'TensorFlow.js'));
  add('C GEMM 1024, 1 thread, tuned vs OpenBLAS at its best kernel', 'gemm1024', 0.95, 'x', (w) => over(w, peerGflops(w), 'OpenBLAS'));
  add('C GEMM 768x3072x768, 1 thread, tuned vs OpenBLAS at its best kernel', 'gemm768x3072x768', 0.95, 'x', (w) => over(w, peerGflops(w), 'OpenBLAS'));
  add('C conv2d 256x28x28->512 tuned vs the best any configuration found in this run', 'conv256', 0.9, 'x', (w) => over(w, topFinal(w), 'no run'));
  const rate = (w: WorkloadResult) => (w.runs.length ? { ratio: median(w.runs.map((x) => x.candidatesPerSecond)), note: `median of all ${w.runs.length} runs` } : { note: 'no runs' });
  add('candidates measured per second on C GEMM 1024', 'gemm1024', 2, '/s', rate);
  add('candidates measured per second on WebGPU GEMM 1024', 'wgemm1024', 1, '/s', rate);
  const end = marks(s).at(-1)!;
  const vsRandom = (label: string) => (w: WorkloadResult) => {
    const at = marks(s), i = at.indexOf(end);
    const a = summarize(w, label, at), b = summarize(w, 'random', at);
    if (!a.seeds || !b.seeds) return { note: `needs --strategies with ${label} and random (model on)` };
    const x = a.atMarks[i]!, y = b.atMarks[i]!;
    return y > 0 ? { ratio: x / y, note: `best at ${end} s, median of seeds: ${x.toFixed(1)} vs ${y.toFixed(1)} GFLOP/s` } : { note: 'random found no verified kernel' };
  };
  // Issue 26: convolutions without a hand-written schedule (run with --starting-points 0 to mean it).
  const present = (...ids: string[]) => ids.find((id) => r.workloads.some((w) => w.id === id)) ?? ids[0]!;
  const dnnlNchw = (w: WorkloadResult) => w.peers.find((p) => p.kind === 'peer' && p.name.startsWith(ONEDNN_ROW.nchw) && p.status === 'ok')?.gflops;
  const expert = (w: WorkloadResult) => w.peers.find((p) => p.kind === 'expert' && p.status === 'ok')?.gflops;
  add('C conv2d YOLO C8 tuned vs its expert schedule (issue 26: starting points off)', present('yolo-c8', 'conv256'), 0.9, 'x', (w) => over(w, expert(w), 'the expert'));
  add('C conv2d ResNet-18 conv2_x tuned vs its expert schedule (issue 26: starting points off)', present('resnet-18-conv2-x', 'conv64'), 0.9, 'x', (w) => over(w, expert(w), 'the expert'));
  for (const id of ['conv1d256', 'conv3d64', 'conv3dt64', present('mobilenetv2-depthwise', 'dw144'), 'dcgan-style-transposed']) {
    add(`C ${id} tuned vs oneDNN NC(D)HW in and out (issue 26: starting points off)`, id, 0.9, 'x', (w) => over(w, dnnlNchw(w), 'oneDNN'));
  }
  const convs = r.workloads.filter((w) => /conv/.test(w.key)).map((w) => w.id);
  for (const id of convs.length ? convs : ['conv256', 'conv64', 'dw144', 'wconv64']) {
    add(`flex vs random at ${end} s`, id, 1.2, 'x', vsRandom('flex'));
    add(`q vs random at ${end} s`, id, 1, 'x', vsRandom('q'));
  }
  return out;
}
