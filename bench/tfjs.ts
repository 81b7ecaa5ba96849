/**
 * TensorFlow.js's WebGPU backend as the WebGPU peer, at its best: its program-choice flags
 * (flags_webgpu.js: WEBGPU_MATMUL_PROGRAM_TYPE for matMul; WEBGPU_CONV_SEPARATE_IM2COL_SHADER and
 * WEBGPU_USE_NAIVE_CONV2D_DEBUG for conv2d) are each tried, every result checked against our
 * reference, and the fastest verified configuration kept.
 */
import { create, globals } from 'webgpu';
import type { PeerChoice } from '../cli/bench-results.js';
import { randomInputs } from '../ir/execute.js';
import { Workload } from '../ir/ops/index.js';
import { Pipeline } from '../targets/pipeline.js';
import { TimingStats, timingStats } from '../targets/stats.js';
import { Candidate, ReferenceSpec } from '../targets/target.js';
import { compareOutputs, reductionLength } from '../targets/verify.js';
import { PeerConfig, fastestVerified } from './peer-select.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type Tensor = import('@tensorflow/tfjs-core').Tensor;
type Flags = Readonly<Record<string, number | boolean>>;

export async function loadTf(): Promise<Tf> {
  Object.assign(globalThis, globals);
  // TF.js looks for navigator.gpu; the webgpu package provides it. Its GPU object stays referenced here.
  const gpu = create(['disable-dawn-features=timestamp_quantization']);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true });
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not start its WebGPU backend');
  return tf;
}

/** MatMulProgramType in webgpu_util.js; -1 lets TF.js choose by shape. */
const MATMUL: readonly PeerConfig<Flags>[] = [
  { label: 'default program choice', config: {}, isDefault: true },
  { label: 'MatMulReduceProgram', config: { WEBGPU_MATMUL_PROGRAM_TYPE: 0 } },
  { label: 'MatMulSplitKProgram', config: { WEBGPU_MATMUL_PROGRAM_TYPE: 1 } },
  { label: 'MatMulSmallOutputSizeProgram', config: { WEBGPU_MATMUL_PROGRAM_TYPE: 2 } },
  { label: 'MatMulPackedProgram', config: { WEBGPU_MATMUL_PROGRAM_TYPE: 3 } },
];
const CONV: readonly PeerConfig<Flags>[] = [
  { label: 'default (Conv2DMMProgram)', config: {}, isDefault: true },
  { label: 'separate im2col shader + matmul', config: { WEBGPU_CONV_SEPARATE_IM2COL_SHADER: true } },
  { label: 'Conv2DNaiveProgram', config: { WEBGPU_USE_NAIVE_CONV2D_DEBUG: true } },
];

/** Depthwise has no program-choice flag. */
const DEFAULT_ONLY: readonly PeerConfig<Flags>[] = [{ label: 'default program choice', config: {}, isDefault: true }];

export interface TfRun { readonly status: string; readonly stats?: TimingStats; readonly gflops?: number; readonly note?: string }

/** TF.js on our inputs, each flag setting verified and timed by its own kernel timer (GPU timestamps). */
export async function tfjsBest<C extends Candidate, B>(tf: Tf, w: Workload, ref: ReferenceSpec, gpu: Pipeline<C, B>, quick: boolean): Promise<{ run: TfRun; choice: Omit<PeerChoice, 'peer' | 'section' | 'workload' | 'threads'> }> {
  const inputs = randomInputs(ref.unscheduled, gpu.target.settings.seed);
  const want = await gpu.reference(ref);
  const p = w.params;
  const made: Tensor[] = [];
  let run: () => Tensor;
  let toNchw = (t: Tensor) => t;
  if (w.op.name === 'gemm') {
    const a = tf.tensor2d(inputs.A!, [p.m!, p.k!]), b = tf.tensor2d(inputs.B!, [p.k!, p.n!]);
    made.push(a, b);
    run = () => tf.matMul(a, b);
  } else if (w.op.name === 'conv2d' || w.op.name === 'depthwise_conv2d') {
    // TF.js's native layout is NHWC with HWIO filters (HW, channel, multiplier for depthwise): the same numbers, transposed once outside the timing.
    const x = tf.transpose(tf.tensor4d(inputs.X!, [p.n!, p.c!, p.h!, p.w!]), [0, 2, 3, 1]) as import('@tensorflow/tfjs-core').Tensor4D;
    const depthwise = w.op.name === 'depthwise_conv2d';
    // Depthwise output channel c*multiplier + m: W [c*mult][1][kh][kw] is [c][mult][kh][kw].
    const f = tf.transpose(tf.tensor4d(inputs.W!, depthwise ? [p.c!, p.multiplier!, p.kh!, p.kw!] : [p.k!, p.c!, p.kh!, p.kw!]), depthwise ? [2, 3, 0, 1] : [2, 3, 1, 0]) as import('@tensorflow/tfjs-core').Tensor4D;
    made.push(x, f);
    const dil = p.dilation ?? 1;
    run = depthwise ? () => tf.depthwiseConv2d(x, f, p.stride!, p.pad!, 'NHWC', dil) : () => tf.conv2d(x, f, p.stride!, p.pad!, 'NHWC', dil);
    toNchw = (t) => tf.transpose(t, [0, 3, 1, 2]);
  } else {
    throw new Error(`no TensorFlow.js peer for ${w.op.name}`);
  }
  const outName = ref.unscheduled.buffers.find((b) => b.role === 'output')!.name;
  const { minSeconds } = gpu.target.settings;
  try {
    const sel = await fastestVerified(w.op.name === 'gemm' ? MATMUL : w.op.name === 'conv2d' ? CONV : DEFAULT_ONLY, async (flags): Promise<TfRun> => {
      const saved = Object.keys(flags).map((k) => [k, tf.env().get(k)] as const);
      for (const [k, v] of Object.entries(flags)) tf.env().set(k, v);
      try {
        // A shader the device rejects writes nothing, and TF.js's output may then be a pooled buffer still holding a previous setting's right answer.
        const device = (tf.backend() as unknown as { device: GPUDevice }).device;
        device.pushErrorScope('validation');
        const out = run();
        const nchw = toNchw(out);
        const got = new Float32Array(await nchw.data() as Float32Array);
        tf.dispose([out, nchw]);
        const invalid = await device.popErrorScope();
        if (invalid) return { status: 'compile_error', note: `the device rejected TF.js's shader: ${invalid.message.split('\n').find((l) => l.trim()) ?? ''}` };
        const cmp = compareOutputs({ [outName]: got }, want, reductionLength(ref.unscheduled));
        if (!cmp.ok) return { status: 'wrong_answer', note: cmp.message };
        const times: number[] = [];
        let total = 0;
        for (let i = 0; i < (quick ? 1 : 3); i++) await tf.time(() => { run().dispose(); });
        while (times.length < (quick ? 3 : 5) || total < minSeconds) {
          const t = await tf.time(() => { run().dispose(); });
          const ms = typeof t.kernelMs === 'number' ? t.kernelMs : t.wallMs;
          times.push(ms / 1000);
          total += ms / 1000;
          if (times.length >= 200) break;
        }
        const stats = timingStats(times);
        return { status: 'ok', stats, gflops: w.flops / stats.median / 1e9 };
      } catch (e) {
        return { status: 'crash', note: (e as Error).message.split('\n')[0] };
      } finally {
        for (const [k, v] of saved) tf.env().set(k, v);
      }
    });
    return { run: sel.best?.result ?? { status: 'unavailable', note: sel.choice.summary }, choice: sel.choice };
  } finally {
    tf.dispose(made);
  }
}
