import { limitViolations } from '../../targets/webgpu/limits.js';
import { DeviceProcess } from '../../targets/webgpu/process.js';
import { wgslCandidate } from '../../targets/webgpu/target.js';
import { Prepared } from './cases.js';
import { serialWork } from './gpu-work.js';
import { Expected, KernelRunner, Verdict } from './verdict.js';

/**
 * lavapipe used to compile a third of the random shaders for 1-8 s each, because it fully unrolled
 * their small constant nests (fuzz seed 171839758: 101 of 300 kernels over 1.5 s); loop bounds the
 * driver cannot fold (the WGSL renderer's ls_zero) took that run to 298 ok and none over the limit,
 * in 40 s instead of 120 s. A kernel that still takes longer says nothing about loopsmith: it is
 * reported as a device_timeout, not a failure.
 */
const RUN_TIMEOUT_MS = 1_500;
/** lavapipe compiles a fully unrolled 100 KB shader for minutes; such a kernel says little the others do not. */
const MAX_SOURCE_CHARS = 30_000;
/**
 * lavapipe runs a workgroup's invocations as coroutines on one CPU thread and switches all of them
 * at every barrier: 115,000 barriers of one workgroup took over 20 s (fuzz seed 159202507, kernel
 * 251), while 3,000 take ~30 ms. Such a kernel is legal and says nothing the others do not.
 */
const MAX_BARRIERS = 20_000;
const MAX_STATEMENTS = 2_000_000;

/**
 * The WebGPU target for the fuzzer: every kernel through one device process, which compiles and
 * runs them one after another; a kernel that loses the device costs itself, and the next one gets
 * a fresh process (DeviceProcess does that).
 */
export class WebGpuBatchRunner implements KernelRunner {
  readonly name = 'webgpu';
  private readonly device = new DeviceProcess();
  private readonly expected: Expected;

  constructor(inputSeed: number) {
    this.expected = new Expected(inputSeed);
  }

  async describe(): Promise<string> {
    return (await this.device.open()).description;
  }

  async check(cases: readonly Prepared[]): Promise<Verdict[]> {
    const caps = await this.device.open();
    const out: Verdict[] = [];
    for (const p of cases) {
      let c;
      try {
        c = wgslCandidate(p.program);
      } catch (e) {
        out.push({ status: 'codegen_error', message: (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split('\n')[0]! });
        continue;
      }
      if (c.kernel.source.length > MAX_SOURCE_CHARS) {
        out.push({ status: 'skipped', message: `${c.kernel.source.length} characters of WGSL` });
        continue;
      }
      const work = serialWork(p.program);
      if (work.barriers > MAX_BARRIERS || work.statements > MAX_STATEMENTS) {
        out.push({ status: 'skipped', message: `${work.barriers} barriers per workgroup and ${work.statements} statements per invocation: too slow on a CPU-emulated device` });
        continue;
      }
      const over = limitViolations(c.kernel, caps);
      if (over.length) {
        out.push({ status: 'skipped', message: `exceeds device limits: ${over.join('; ')}` });
        continue;
      }
      const req = { kernel: c.kernel, positions: c.positions, seed: this.expected.inputSeed, time: false, minSeconds: 0, maxRepeats: 1, warmup: 0 };
      const r = await this.device.run(req, { timeoutMs: RUN_TIMEOUT_MS, compileTimeoutMs: RUN_TIMEOUT_MS });
      if (r.status === 'run_timeout' || r.status === 'compile_timeout') out.push({ status: 'device_timeout', message: r.message });
      else out.push(r.status === 'ok' ? this.expected.judge(p, r.outputs) : { status: r.status, message: r.message });
    }
    return out;
  }

  close(): Promise<void> {
    return this.device.close();
  }
}

/**
 * Several device processes side by side, one batch each: lavapipe compiles a shader on one CPU
 * thread, so two processes keep both cores busy while one of them waits for a slow compile.
 */
export class WebGpuPool implements KernelRunner {
  readonly name = 'webgpu';
  private readonly runners: WebGpuBatchRunner[];
  private readonly idle: WebGpuBatchRunner[];
  private readonly waiting: ((r: WebGpuBatchRunner) => void)[] = [];

  constructor(inputSeed: number, size: number) {
    this.runners = Array.from({ length: Math.max(1, size) }, () => new WebGpuBatchRunner(inputSeed));
    this.idle = [...this.runners];
  }

  describe(): Promise<string> {
    return this.runners[0]!.describe().then((d) => (this.runners.length > 1 ? `${d}, ${this.runners.length} device processes` : d));
  }

  async check(cases: readonly Prepared[]): Promise<Verdict[]> {
    const r = this.idle.pop() ?? (await new Promise<WebGpuBatchRunner>((resolve) => this.waiting.push(resolve)));
    try {
      return await r.check(cases);
    } finally {
      const next = this.waiting.shift();
      if (next) next(r);
      else this.idle.push(r);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.close()));
  }
}
