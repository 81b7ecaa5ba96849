/**
 * oneDNN as the CPU convolution peer (what PyTorch and ONNX Runtime run on CPUs), from Debian's
 * libdnnl-dev: bench/c/onednn-conv.cpp, built once per bench run. Two rows per layer: oneDNN at its
 * best (its own blocked layouts, inputs and weights reordered once outside the time) and with
 * NC(D)HW in and out (its reorders timed: the contract loopsmith's kernels work under). Each output
 * is checked against the same reference as loopsmith's kernels before its time counts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../targets/exec.js';
import { Pipeline } from '../targets/pipeline.js';
import { Candidate, ReferenceSpec } from '../targets/target.js';
import { PeerRun, checkedPeerRun, runPeerProgram } from './peer-run.js';
import { writePeerTiming } from './peer-timing.js';

/** What oneDNN runs of a workload: batch-1 convolutions, 1-, 2- or 3-d, forward or transposed. */
export interface OneDnnShape {
  readonly c: number; readonly k: number; readonly groups: number; readonly transposed: boolean;
  /** Spatial extents and kernel taps, outermost first (1-d: [w], 2-d: [h, w], 3-d: [d, h, w]). */
  readonly input: readonly number[]; readonly kernel: readonly number[];
  readonly stride: number; readonly pad: number; readonly dilation: number;
}

export type OneDnnMode = 'best' | 'nchw';
export const ONEDNN_MODES: readonly OneDnnMode[] = ['nchw', 'best'];
/** The bench rows' names: what the goals look the rows up by. */
export const ONEDNN_ROW: Readonly<Record<OneDnnMode, string>> = { best: 'oneDNN at its best', nchw: 'oneDNN NCHW in and out' };

/** Its note is the implementation oneDNN chose ("brgconv:avx512_core"), or why there is none. */
export type OneDnnRun = PeerRun;

const SPATIAL: Readonly<Record<string, readonly string[]>> = { 1: ['w'], 2: ['h', 'w'], 3: ['d', 'h', 'w'] };
const OPS: Readonly<Record<string, { dims: 1 | 2 | 3; transposed: boolean; depthwise?: boolean }>> = {
  conv1d: { dims: 1, transposed: false }, conv2d: { dims: 2, transposed: false }, conv3d: { dims: 3, transposed: false },
  grouped_conv2d: { dims: 2, transposed: false }, dilated_conv2d: { dims: 2, transposed: false }, conv2d_bias_relu: { dims: 2, transposed: false },
  depthwise_conv2d: { dims: 2, transposed: false, depthwise: true },
  conv1d_transpose: { dims: 1, transposed: true }, conv2d_transpose: { dims: 2, transposed: true }, conv3d_transpose: { dims: 3, transposed: true },
};

/** The peer's shape of a workload (its parameters with the operator's defaults filled in), or why oneDNN's peer cannot run it. */
export function oneDnnShape(op: string, p: Readonly<Record<string, number>>): OneDnnShape | string {
  const kind = OPS[op];
  if (!kind) return `the oneDNN peer runs ${Object.keys(OPS).join(', ')}, not ${op}`;
  if (op === 'conv2d_bias_relu') return 'the oneDNN peer runs plain convolutions (no bias + ReLU epilogue yet)';
  if ((p.n ?? 1) !== 1) return `the oneDNN peer runs batch 1, not n=${p.n}`;
  const names = SPATIAL[kind.dims]!;
  const input = names.map((d) => p[d]!), kernel = names.map((d) => p[`k${d}`]!);
  const base = { input, kernel, stride: p.stride ?? 1, pad: p.pad ?? 0, dilation: p.dilation ?? 1, transposed: kind.transposed };
  if (kind.depthwise) return { ...base, c: p.c!, k: p.c! * (p.multiplier ?? 1), groups: p.c! };
  return { ...base, c: p.c!, k: p.k!, groups: p.groups ?? 1 };
}

interface Printed { impl: string; times: number[] }

export class OneDnn {
  private constructor(private readonly dir: string, private readonly bin: string, readonly version: string) {}

  /** Builds the peer against libdnnl; a string says why there is none (apt-get install libdnnl-dev). */
  static async open(): Promise<OneDnn | string> {
    const dir = await mkdtemp(join(tmpdir(), 'loopsmith-onednn-'));
    const src = fileURLToPath(new URL('../../bench/c/onednn-conv.cpp', import.meta.url));
    const bin = join(dir, 'onednn-conv');
    await writePeerTiming(dir);
    const cc = await exec('g++', ['-O2', '-std=c++17', '-I', fileURLToPath(new URL('../../bench/c/', import.meta.url)), '-I', dir, '-o', bin, src, '-ldnnl'], { timeoutMs: 120_000 });
    if (cc.code !== 0) {
      await rm(dir, { recursive: true, force: true });
      return `could not build against oneDNN (apt-get install libdnnl-dev g++): ${(cc.error ?? cc.stderr).split('\n').find((l) => /error/.test(l)) ?? cc.stderr.split('\n')[0]}`;
    }
    const version = await exec('dpkg-query', ['-W', '-f=${Version}', 'libdnnl-dev'], { timeoutMs: 10_000 });
    return new OneDnn(dir, bin, `oneDNN ${version.code === 0 ? version.stdout.trim() : '(version unknown)'}`);
  }

  /** One layer under one contract on `threads` OpenMP threads, verified against `ref` (the reference of loopsmith's own kernels). */
  async conv<C extends Candidate, B>(shape: OneDnnShape, mode: OneDnnMode, threads: number, cpu: Pipeline<C, B>, ref: ReferenceSpec): Promise<OneDnnRun> {
    const s = cpu.target.settings;
    const pad3 = (xs: readonly number[]) => [...Array(3 - xs.length).fill(1), ...xs];
    const out = join(this.dir, `out-${mode}.bin`);
    const args = [
      mode, shape.c, shape.k, shape.groups, shape.transposed ? 1 : 0, shape.input.length, ...pad3(shape.input), ...pad3(shape.kernel),
      shape.stride, shape.pad, shape.dilation, s.seed, out, s.minSeconds, s.maxRepeats, s.warmup,
    ].map(String);
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), OMP_PROC_BIND: 'close', OMP_WAIT_POLICY: 'passive' };
    const printed = await runPeerProgram<Printed>(this.bin, args, env);
    if ('status' in printed) return printed;
    return checkedPeerRun(out, printed.times, await cpu.reference(ref), ref, printed.impl);
  }

  close(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}
