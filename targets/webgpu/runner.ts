import { fillUniform } from '../../ir/random.js';
import { MAX_TIMING_FACTOR, warmingRuns } from '../stats.js';
import type { WgslKernel } from '../../codegen/wgsl/render.js';

export interface RunRequest {
  readonly kernel: WgslKernel;
  /** Position of each binding among the program's buffers: the input seeds depend on it. */
  readonly positions: readonly number[];
  readonly seed: number;
  readonly time: boolean;
  readonly minSeconds: number;
  readonly maxRepeats: number;
  readonly warmup: number;
}

export type RunResult =
  | { readonly status: 'ok'; readonly outputs: Record<string, Float32Array>; readonly checkSeconds: number; readonly times?: number[]; readonly warmingRuns?: number; readonly clock: 'gpu-timestamps' | 'wall-clock' }
  | { readonly status: 'compile_error' | 'crash'; readonly message: string };

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a kernel on fresh buffers: shader compilation and validation errors come back as this
 * candidate's compile_error (error scopes and compilation info), never as an exception of the run.
 * `compiled` is called once the pipelines exist, so the caller can time the run apart from the
 * compile. The checking dispatch is timed on the clock the timed runs use (timestamps when the
 * device has them: a host clock around one submit would count the submit's overhead, which for a
 * short kernel is many times the kernel).
 */
export async function runKernel(device: GPUDevice, hasTimestamps: boolean, req: RunRequest, compiled: () => void = () => {}): Promise<RunResult> {
  const { kernel } = req;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: kernel.source });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  const scoped = await device.popErrorScope();
  if (errors.length || scoped) {
    const m = errors[0];
    return { status: 'compile_error', message: oneLine(m ? `WGSL ${m.lineNum}:${m.linePos}: ${m.message}` : scoped!.message) };
  }
  const layout = device.createBindGroupLayout({
    entries: kernel.bindings.map((b) => ({ binding: b.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.role === 'input' ? 'read-only-storage' : 'storage' } })),
  });
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  const pipelines: GPUComputePipeline[] = [];
  for (const e of kernel.entries) {
    try {
      pipelines.push(await device.createComputePipelineAsync({ layout: pipelineLayout, compute: { module, entryPoint: e.name } }));
    } catch (err) {
      return { status: 'compile_error', message: oneLine(`pipeline ${e.name}: ${(err as Error).message}`) };
    }
  }
  const buffers = kernel.bindings.map((b, i) => {
    const buf = device.createBuffer({ size: Math.max(4, b.elements * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    const data = b.role === 'input' ? fillUniform(b.elements, req.seed * 7919 + req.positions[i]!) : new Float32Array(b.elements).fill(NaN);
    device.queue.writeBuffer(buf, 0, data as Float32Array<ArrayBuffer>);
    return buf;
  });
  const bindGroup = device.createBindGroup({ layout, entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
  compiled();
  // Drivers may compile a pipeline's machine code at its first dispatch rather than at creation
  // (lavapipe does: ~1 s for a register-blocked GEMM 1024): one workgroup of each entry makes it
  // happen here, so that the checking run's time, which early abort reads, does not include it.
  // (It runs code, so it is under the run limit: a kernel that hangs is a run_timeout.) The
  // checking run then writes every output again.
  const warm = device.createCommandEncoder();
  const warmPass = warm.beginComputePass();
  warmPass.setBindGroup(0, bindGroup);
  pipelines.forEach((pl) => {
    warmPass.setPipeline(pl);
    warmPass.dispatchWorkgroups(1, 1, 1);
  });
  warmPass.end();
  device.queue.submit([warm.finish()]);
  await device.queue.onSubmittedWorkDone();
  const encodeRun = (enc: GPUCommandEncoder, ts?: { set: GPUQuerySet; at: number }) => {
    const pass = enc.beginComputePass(ts ? { timestampWrites: { querySet: ts.set, beginningOfPassWriteIndex: ts.at, endOfPassWriteIndex: ts.at + 1 } } : {});
    pass.setBindGroup(0, bindGroup);
    kernel.entries.forEach((e, i) => {
      pass.setPipeline(pipelines[i]!);
      pass.dispatchWorkgroups(...e.dispatch);
    });
    pass.end();
  };
  const check = hasTimestamps ? { set: device.createQuerySet({ type: 'timestamp', count: 2 }), at: 0 } : undefined;
  const ticks = check ? device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }) : undefined;
  const ticksRead = check ? device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }) : undefined;
  try {
    device.pushErrorScope('validation');
    const enc = device.createCommandEncoder();
    encodeRun(enc, check);
    if (check) {
      enc.resolveQuerySet(check.set, 0, 2, ticks!, 0);
      enc.copyBufferToBuffer(ticks!, 0, ticksRead!, 0, 16);
    }
    // The copies to host-visible buffers go in a later submit, out of the checking run's wall-clock time.
    const copies = device.createCommandEncoder();
    const reads = kernel.bindings.map((b, i) => {
      if (b.role !== 'output') return undefined;
      const rb = device.createBuffer({ size: Math.max(4, b.elements * 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      copies.copyBufferToBuffer(buffers[i]!, 0, rb, 0, b.elements * 4);
      return rb;
    });
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    let checkSeconds = (performance.now() - t0) / 1000;
    device.queue.submit([copies.finish()]);
    const err = await device.popErrorScope();
    if (err) return { status: 'crash', message: oneLine(`validation: ${err.message}`) };
    if (ticksRead) {
      await ticksRead.mapAsync(GPUMapMode.READ);
      const t = new BigInt64Array(ticksRead.getMappedRange().slice(0));
      ticksRead.unmap();
      checkSeconds = Math.max(0, Number(t[1]! - t[0]!) / 1e9);
    }
    const clock = check ? 'gpu-timestamps' : 'wall-clock';
    const outputs: Record<string, Float32Array> = {};
    for (let i = 0; i < reads.length; i++) {
      const rb = reads[i];
      if (!rb) continue;
      await rb.mapAsync(GPUMapMode.READ);
      outputs[kernel.bindings[i]!.name] = new Float32Array(rb.getMappedRange().slice(0));
      rb.unmap();
      rb.destroy();
    }
    if (!req.time) return { status: 'ok', outputs, checkSeconds, clock };
    const times = await timeRuns(device, hasTimestamps, encodeRun, req);
    return { status: 'ok', outputs, checkSeconds, times: times.times, warmingRuns: times.warmingRuns, clock: times.clock };
  } finally {
    buffers.forEach((b) => b.destroy());
    check?.set.destroy();
    ticks?.destroy();
    ticksRead?.destroy();
  }
}

/**
 * Times repeated runs. Runs are batched: one submit holds a batch of runs, each its own compute
 * pass with a pair of timestamps, so submit and map overhead do not enter the per-run times; the
 * batch is sized from the warm-up so a wait lasts ~50 ms. While the batch runs we sleep for most of
 * its expected duration before awaiting: Dawn busy-polls a core while a promise is pending, and on
 * a CPU-emulated device (lavapipe) that core is one the kernel would use.
 */
async function timeRuns(device: GPUDevice, hasTimestamps: boolean, encodeRun: (enc: GPUCommandEncoder, ts?: { set: GPUQuerySet; at: number }) => void, req: RunRequest): Promise<{ times: number[]; warmingRuns: number; clock: 'gpu-timestamps' | 'wall-clock' }> {
  const wall = async (n: number) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < n; i++) encodeRun(enc);
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / 1000 / n;
  };
  let estimate = Infinity;
  for (let i = 0; i < Math.max(1, req.warmup); i++) estimate = Math.min(estimate, await wall(1));
  const batch = Math.max(1, Math.min(256, Math.floor(0.05 / Math.max(estimate, 1e-6))));
  const times: number[] = [];
  let total = 0;
  const set = hasTimestamps ? device.createQuerySet({ type: 'timestamp', count: 2 * batch }) : undefined;
  const resolve = set ? device.createBuffer({ size: 16 * batch, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }) : undefined;
  let spent = 0, dropped = 0;
  try {
    for (;;) {
      if (times.length >= 3 && total >= req.minSeconds) {
        // The rule of the C harness (targets/c/timing-loop.ts): a kernel still getting faster is timed further.
        const warming = spent < MAX_TIMING_FACTOR * req.minSeconds ? warmingRuns(times) : 0;
        if (!warming) break;
        total -= times.splice(0, warming).reduce((a, b) => a + b, 0);
        dropped += warming;
      }
      if (times.length + dropped >= req.maxRepeats) break;
      if (!set || !resolve) {
        const t0 = performance.now();
        const enc = device.createCommandEncoder();
        for (let i = 0; i < batch; i++) encodeRun(enc);
        device.queue.submit([enc.finish()]);
        await sleep(Math.max(0, estimate * batch * 1000 * 0.8 - 1));
        await device.queue.onSubmittedWorkDone();
        const per = (performance.now() - t0) / 1000 / batch;
        for (let i = 0; i < batch; i++) times.push(per);
        total += per * batch;
        spent += per * batch;
        continue;
      }
      const enc = device.createCommandEncoder();
      for (let i = 0; i < batch; i++) encodeRun(enc, { set, at: 2 * i });
      enc.resolveQuerySet(set, 0, 2 * batch, resolve, 0);
      const rb = device.createBuffer({ size: 16 * batch, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      enc.copyBufferToBuffer(resolve, 0, rb, 0, 16 * batch);
      device.queue.submit([enc.finish()]);
      await sleep(Math.max(0, estimate * batch * 1000 * 0.8 - 1));
      await rb.mapAsync(GPUMapMode.READ);
      const ticks = new BigInt64Array(rb.getMappedRange().slice(0));
      rb.unmap();
      rb.destroy();
      for (let i = 0; i < batch; i++) {
        const dt = Number(ticks[2 * i + 1]! - ticks[2 * i]!) / 1e9;
        times.push(dt);
        total += dt;
        spent += dt;
      }
    }
  } finally {
    set?.destroy();
    resolve?.destroy();
  }
  return { times, warmingRuns: dropped, clock: set ? 'gpu-timestamps' : 'wall-clock' };
}
