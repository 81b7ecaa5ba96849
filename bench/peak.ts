/**
 * The physical limit, measured in the same run as the kernels: the CPU's fp32 FMA peak at its
 * vector width (bench/c/fma-peak.c, built with the C target's compiler and flags) on 1 and N
 * threads, and the WebGPU device's ALU peak (independent FMA chains per invocation, GPU timestamps).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeakRow } from '../cli/bench-results.js';
import type { WgslKernel } from '../codegen/wgsl/render.js';
import { CTarget } from '../targets/c/target.js';
import { vectorRegistersFor } from '../targets/cpu-info.js';
import { fillUniform } from '../ir/random.js';
import { exec } from '../targets/exec.js';
import { timingStats } from '../targets/stats.js';
import { MeasureSettings } from '../targets/target.js';
import { openDevice } from '../targets/webgpu/device.js';
import { runKernel } from '../targets/webgpu/runner.js';

const FMA_SOURCE = fileURLToPath(new URL('../../bench/c/fma-peak.c', import.meta.url));
const COPY_SOURCE = fileURLToPath(new URL('../../bench/c/copy-bandwidth.c', import.meta.url));

/** Read + write bandwidth with a working set of two arrays of `floats` each (bench/c/copy-bandwidth.c), or why it did not run. */
export async function cpuCopyBandwidth(cpu: CTarget, floats: number, threads: number): Promise<{ gbps: number; spread: number } | string> {
  const dir = await mkdtemp(join(tmpdir(), 'loopsmith-bw-'));
  try {
    const bin = join(dir, 'copy-bandwidth');
    const cc = await exec(cpu.compiler.command, [...cpu.cflags, '-fopenmp', '-o', bin, COPY_SOURCE], { timeoutMs: 60_000 });
    if (cc.code !== 0) return `the bandwidth probe did not compile: ${cc.stderr.split('\n')[0]}`;
    const r = await exec(bin, [String(threads), String(floats), '9'], { timeoutMs: 120_000, env: { ...process.env, OMP_WAIT_POLICY: 'passive', OMP_PROC_BIND: 'spread' } });
    if (r.code !== 0) return `the bandwidth probe failed: ${r.stderr.split('\n')[0]}`;
    const j = JSON.parse(r.stdout) as { bytesPerRun: number; times: number[] };
    const stats = timingStats(j.times);
    return { gbps: j.bytesPerRun / stats.median / 1e9, spread: stats.spread };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function cpuPeaks(cpu: CTarget, threads: readonly number[], quick: boolean): Promise<PeakRow[]> {
  const lanes = Math.max(1, cpu.cpu.f32Lanes);
  // Enough chains to cover 4-cycle FMAs on two units, few enough that every chain stays in a register.
  const chains = Math.min(16, vectorRegistersFor(cpu.cpu.isa) - 4);
  const what = `FMA peak: ${chains} chains of ${lanes * 32}-bit FMAs per thread (${cpu.cpu.isa})`;
  const dir = await mkdtemp(join(tmpdir(), 'loopsmith-peak-'));
  try {
    const bin = join(dir, 'fma-peak');
    const cc = await exec(cpu.compiler.command, [...cpu.cflags, '-fopenmp', `-DVBYTES=${lanes * 4}`, `-DCHAINS=${chains}`, '-o', bin, FMA_SOURCE], { timeoutMs: 60_000 });
    if (cc.code !== 0) return threads.map((t) => ({ device: 'cpu', threads: t, what, status: 'compile_error', note: cc.stderr.split('\n')[0] }));
    // 2.5e10 FLOP per thread, ~0.1 s at 250 GFLOP/s: long against the timer and thread start-up, short enough to repeat.
    const iterations = Math.round((quick ? 2.5e10 / 4 : 2.5e10) / (2 * chains * lanes));
    const rows: PeakRow[] = [];
    for (const t of threads) {
      const r = await exec(bin, [String(t), String(iterations), quick ? '3' : '15'], { timeoutMs: 120_000, env: { ...process.env, OMP_WAIT_POLICY: 'passive', OMP_PROC_BIND: 'spread' } });
      if (r.code !== 0) { rows.push({ device: 'cpu', threads: t, what, status: 'crash', note: r.stderr.split('\n')[0] }); continue; }
      const j = JSON.parse(r.stdout) as { flopsPerRun: number; times: number[] };
      const stats = timingStats(j.times);
      rows.push({ device: 'cpu', threads: t, what, status: 'ok', stats, gflops: j.flopsPerRun / stats.median / 1e9 });
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const CHAINS = 16, ITERATIONS = 2048, WORKGROUP = 64;

/** x <- x * m + c with |m| <= 0.5 converges to c / (1 - m) long before the loop ends: the sum is known, and a shader that skipped the loop would not give it. */
function peakShader(): string {
  const v = Array.from({ length: CHAINS }, (_, i) => i);
  return `@group(0) @binding(0) var<storage, read> coef: array<f32>;
@group(0) @binding(1) var<storage, read_write> sums: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main_peak(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m = coef[0] * 0.5;
  let c = coef[1];
${v.map((i) => `  var a${i} = c + f32(${i});`).join('\n')}
  for (var it = 0u; it < ${ITERATIONS}u; it++) {
${v.map((i) => `    a${i} = fma(a${i}, m, c);`).join('\n')}
  }
  sums[gid.x] = ${v.map((i) => `a${i}`).join(' + ')};
}
`;
}

/** The device's ALU peak on the same adapter the WebGPU target opens, timed by the same runner. */
export async function gpuPeak(settings: MeasureSettings, workgroups: number, description: string): Promise<PeakRow> {
  const what = `ALU peak: ${CHAINS} FMA chains per invocation, ${workgroups} workgroups of ${WORKGROUP}`;
  const { device, caps } = await openDevice();
  try {
    if (caps.description !== description) return { device: 'webgpu', what, status: 'unavailable', note: `the first adapter here is ${caps.description}, not the target's ${description}` };
    const invocations = workgroups * WORKGROUP;
    const kernel: WgslKernel = {
      source: peakShader(),
      bindings: [
        { binding: 0, name: 'coef', wgslName: 'coef', role: 'input', shape: [2], elements: 2 },
        { binding: 1, name: 'sums', wgslName: 'sums', role: 'output', shape: [invocations], elements: invocations },
      ],
      entries: [{ name: 'main_peak', workgroupSize: [WORKGROUP, 1, 1], dispatch: [workgroups, 1, 1], workgroupBytes: 0, privateBytes: 0 }],
    };
    const r = await runKernel(device, caps.hasTimestamps, { kernel, positions: [0, 1], seed: settings.seed, time: true, minSeconds: settings.minSeconds, maxRepeats: settings.maxRepeats, warmup: settings.warmup });
    if (r.status !== 'ok') return { device: 'webgpu', what, status: r.status, note: r.message };
    const [c0, c] = fillUniform(2, settings.seed * 7919);
    const want = CHAINS * c! / (1 - c0! * 0.5);
    const off = r.outputs.sums!.findIndex((s) => !(Math.abs(s - want) <= 1e-4 * (Math.abs(want) + 1)));
    if (off >= 0) return { device: 'webgpu', what, status: 'wrong_answer', note: `sums[${off}] = ${r.outputs.sums![off]}, expected ${want}` };
    const stats = timingStats(r.times!);
    const flops = 2 * CHAINS * ITERATIONS * invocations;
    return { device: 'webgpu', what: `${what}, ${r.clock === 'gpu-timestamps' ? 'GPU timestamps' : 'host clock'}`, status: 'ok', stats, gflops: flops / stats.median / 1e9 };
  } finally {
    device.destroy();
  }
}
