/**
 * ONNX Runtime (onnxruntime-node, CPU) as the whole-model peer: run a model once for its output, or
 * time it. Sessions are configured so that `threads` is the only source of parallelism (no inter-op
 * pool, sequential execution), which is what a thread-count comparison with our kernels needs.
 */
import type * as Ort from 'onnxruntime-node';
import { RunError } from '../ir/errors.js';

/**
 * onnxruntime-node is a devDependency (tests, benches): loaded when first used, so the CLI runs
 * without it and `emit-model` falls back to loopsmith's reference executor where it is missing.
 */
let loaded: typeof Ort | undefined;
async function onnxRuntime(): Promise<typeof Ort> {
  try {
    loaded ??= (await import('onnxruntime-node')) as typeof Ort;
    return loaded;
  } catch (e) {
    throw new RunError(`ONNX Runtime is not installed (npm i -D onnxruntime-node, with ONNXRUNTIME_NODE_INSTALL=skip): ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Whether onnxruntime-node can be loaded here. */
export async function onnxRuntimeAvailable(): Promise<boolean> {
  try {
    await onnxRuntime();
    return true;
  } catch {
    return false;
  }
}

export interface OrtRun {
  output: Float32Array;
  shape: number[];
}

export interface OrtTiming {
  medianMs: number;
  minMs: number;
  runs: number;
  threads: number;
}

async function open(model: Uint8Array | string, threads: number): Promise<Ort.InferenceSession> {
  const ort = await onnxRuntime();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`ort: threads must be a positive integer, not ${threads}`);
  const options: Ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
    logSeverityLevel: 3, // errors only: ORT's warnings would interleave with bench tables
  };
  // create() has one overload for a path (ORT reads the file) and one for bytes: split the union.
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

function feeds(ort: typeof Ort, session: Ort.InferenceSession, input: Float32Array, inputShape: number[]): Record<string, Ort.Tensor> {
  const n = inputShape.reduce((p, d) => p * d, 1);
  if (n !== input.length) throw new Error(`ort: input has ${input.length} values, shape [${inputShape}] needs ${n}`);
  return { [session.inputNames[0]]: new ort.Tensor('float32', input, inputShape) };
}

/** One inference; the model's first output, copied out of ORT's buffer. */
export async function runOrt(model: Uint8Array | string, input: Float32Array, inputShape: number[], opts: { threads: number }): Promise<OrtRun> {
  const session = await open(model, opts.threads);
  try {
    const results = await session.run(feeds(loaded!, session, input, inputShape));
    const out = results[session.outputNames[0]];
    if (out.type !== 'float32') throw new Error(`ort: output is ${out.type}, not float32`);
    return { output: new Float32Array(out.data as Float32Array), shape: out.dims.map(Number) };
  } finally {
    await session.release();
  }
}

/** Times inference: `warmup` untimed runs, then runs until `minSeconds` have passed (at least 3 runs). */
export async function timeOrt(
  model: Uint8Array | string, input: Float32Array, inputShape: number[],
  opts: { threads: number; warmup?: number; minSeconds?: number },
): Promise<OrtTiming> {
  const { threads, warmup = 3, minSeconds = 2 } = opts;
  const session = await open(model, threads);
  try {
    const f = feeds(loaded!, session, input, inputShape);
    for (let i = 0; i < warmup; i++) await session.run(f);
    const times: number[] = [];
    const start = performance.now();
    while (times.length < 3 || performance.now() - start < minSeconds * 1000) {
      const t0 = performance.now();
      await session.run(f);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const mid = times.length >> 1;
    const medianMs = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
    return { medianMs, minMs: times[0], runs: times.length, threads };
  } finally {
    await session.release();
  }
}
