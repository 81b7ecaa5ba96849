/**
 * GEMM 256/512/1024 and conv2d (1, 64, 56, 56 -> 64, 3x3, pad 1) on the WebGPU device: loopsmith's
 * expert GPU schedules and the naive one-invocation-per-output kernel against TensorFlow.js's
 * WebGPU backend, on the same adapter in the same run, every kernel (TF.js's too) checked against
 * the same reference, timed with the device's timestamps.
 *
 *   npm run bench:webgpu -- [--min-time 1] [--json]
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { create, globals } from 'webgpu';
import { Workload, lowerWorkload, workload } from '../ir/ops/index.js';
import { randomInputs } from '../ir/execute.js';
import { applyTrace } from '../scheduler/apply.js';
import { defaultGpuTrace } from '../scheduler/default-schedules.js';
import { expertGpuConv2d, expertGpuGemm, expertGpuGemmRegisters } from '../scheduler/expert.js';
import { Trace } from '../scheduler/trace.js';
import { Pipeline } from '../targets/pipeline.js';
import { openTarget } from '../targets/registry.js';
import { Candidate, ReferenceSpec } from '../targets/target.js';
import { compareOutputs } from '../targets/verify.js';
import { TimingStats, timingStats } from '../targets/stats.js';
import { table } from '../cli/format.js';

interface Row { workload: string; kernel: string; status: string; stats?: TimingStats; gflops?: number; note?: string; clock?: string }

type Tf = typeof import('@tensorflow/tfjs-core');

async function loadTf(): Promise<Tf> {
  Object.assign(globalThis, globals);
  // TF.js looks for navigator.gpu; the webgpu package provides it. Its GPU object stays referenced here.
  const gpu = create(['disable-dawn-features=timestamp_quantization']);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true });
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not start its WebGPU backend');
  return tf;
}

/** TF.js on the same inputs: verified against our reference, timed by its own kernel timer (GPU timestamps). */
async function tfjsRow<C extends Candidate, B>(tf: Tf, w: Workload, ref: ReferenceSpec, gpu: Pipeline<C, B>, minSeconds: number): Promise<Row> {
  const inputs = randomInputs(ref.unscheduled, gpu.target.settings.seed);
  const p = w.params;
  let run: () => import('@tensorflow/tfjs-core').Tensor;
  let toNchw: (t: import('@tensorflow/tfjs-core').Tensor) => import('@tensorflow/tfjs-core').Tensor = (t) => t;
  if (w.op.name === 'gemm') {
    const a = tf.tensor2d(inputs.A!, [p.m!, p.k!]), b = tf.tensor2d(inputs.B!, [p.k!, p.n!]);
    run = () => tf.matMul(a, b);
  } else {
    // TF.js's native layout is NHWC with HWIO filters: the same numbers, transposed once outside the timing.
    const x = tf.transpose(tf.tensor4d(inputs.X!, [p.n!, p.c!, p.h!, p.w!]), [0, 2, 3, 1]);
    const f = tf.transpose(tf.tensor4d(inputs.W!, [p.k!, p.c!, p.kh!, p.kw!]), [2, 3, 1, 0]);
    run = () => tf.conv2d(x as import('@tensorflow/tfjs-core').Tensor4D, f as import('@tensorflow/tfjs-core').Tensor4D, p.stride!, p.pad!);
    toNchw = (t) => tf.transpose(t, [0, 3, 1, 2]);
  }
  const out = run();
  const got = new Float32Array(await toNchw(out).data() as Float32Array);
  out.dispose();
  const outName = ref.unscheduled.buffers.find((b) => b.role === 'output')!.name;
  const cmp = compareOutputs({ [outName]: got }, await gpu.reference(ref), w.op.name === 'gemm' ? p.k! : p.c! * p.kh! * p.kw!);
  const times: number[] = [];
  let total = 0;
  for (let i = 0; i < 3; i++) (await tf.time(() => { run().dispose(); }));
  while (times.length < 5 || total < minSeconds) {
    const t = await tf.time(() => { run().dispose(); });
    const ms = typeof t.kernelMs === 'number' ? t.kernelMs : t.wallMs;
    times.push(ms / 1000);
    total += ms / 1000;
    if (times.length >= 200) break;
  }
  const stats = timingStats(times);
  return { workload: w.key, kernel: 'TensorFlow.js WebGPU backend', status: cmp.ok ? 'ok' : 'wrong_answer', stats, gflops: w.flops / stats.median / 1e9, ...(cmp.ok ? {} : { note: cmp.message }) };
}

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .option('min-time', { type: 'number', default: 1, describe: 'seconds of timed runs per kernel' })
    .option('json', { type: 'boolean', default: false })
    .strict().help().parseAsync();
  const log = (s: string) => { if (!argv.json) process.stderr.write(s + '\n'); };
  const target = await openTarget('webgpu', { settings: { minSeconds: argv['min-time'], runTimeoutMs: 600_000 } });
  const gpu = new Pipeline(target);
  const tf = await loadTf();
  const rows: Row[] = [];
  const cases: { w: Workload; kernels: [string, Trace][] }[] = [];
  for (const n of [256, 512, 1024]) {
    const w = workload('gemm', { m: n, n, k: n });
    cases.push({ w, kernels: [
      ['loopsmith expert: register tiles, uniform B loads', expertGpuGemmRegisters(n, n, n)],
      ['loopsmith expert: workgroup tiles + shared memory', expertGpuGemm(n, n, n)],
      ['naive: one invocation per output', defaultGpuTrace(lowerWorkload(w))],
    ] });
  }
  const cw = workload('conv2d', { n: 1, c: 64, h: 56, w: 56, k: 64, kh: 3, kw: 3, pad: 1 });
  cases.push({ w: cw, kernels: [
    ['loopsmith expert: register tile of 16 channels', expertGpuConv2d(cw.params)],
    ['naive: one invocation per output', defaultGpuTrace(lowerWorkload(cw))],
  ] });
  try {
    for (const { w, kernels } of cases) {
      const base = lowerWorkload(w);
      const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };
      for (const [name, t] of kernels) {
        log(`${w.key}: ${name}...`);
        const m = await gpu.measureProgram(applyTrace(base, t), ref);
        rows.push({ workload: w.key, kernel: name, status: m.status, ...(m.stats ? { stats: m.stats, gflops: m.gflops! } : {}), ...(m.message ? { note: m.message } : {}), ...(m.clock ? { clock: m.clock } : {}) });
      }
      log(`${w.key}: TensorFlow.js...`);
      rows.push(await tfjsRow(tf, w, ref, gpu, argv['min-time']));
    }
  } finally {
    await target.close();
  }
  const tfjs = (key: string) => rows.find((r) => r.workload === key && r.kernel.startsWith('TensorFlow') && r.status === 'ok')?.gflops;
  if (argv.json) {
    process.stdout.write(JSON.stringify({ device: target.fingerprint, rows: rows.map((r) => ({ ...r, ratioToTfjs: r.gflops && tfjs(r.workload) ? r.gflops / tfjs(r.workload)! : null })) }, null, 2) + '\n');
  } else {
    const clock = rows.find((r) => r.clock)?.clock;
    process.stdout.write(`\nWebGPU device: ${target.summary[0]}, times from ${clock === 'gpu-timestamps' ? 'GPU timestamps' : 'the host clock'}\n\n`);
    const short = (k: string) => k.replace(/\(.*\)/, (m) => m.replace(/,transA=0,transB=0|,dilation=1|,groups=1|,stride=1/g, ''));
    process.stdout.write(table(['workload', 'kernel', 'status', 'median ms', 'GFLOP/s', 'spread', 'x TF.js'], rows.map((r) => [
      short(r.workload), r.kernel, r.status, r.stats ? (r.stats.median * 1e3).toFixed(2) : '-', r.gflops ? r.gflops.toFixed(2) : '-',
      r.stats ? `${(r.stats.spread * 100).toFixed(1)}%` : '-', r.gflops && tfjs(r.workload) ? `${(r.gflops / tfjs(r.workload)!).toFixed(2)}x` : '-',
    ])) + '\n');
    for (const r of rows) if (r.note) process.stdout.write(`note: ${short(r.workload)} ${r.kernel}: ${r.note}\n`);
    process.stdout.write('\nspread = (p80 - p20) / median; ratios are to TensorFlow.js on the same workload in this run.\n');
  }
  // TF.js's device and dawn.node's polling would keep the process alive.
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
