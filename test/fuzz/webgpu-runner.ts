import { limitViolations } from '../../targets/webgpu/limits.js';
import { DeviceProcess } from '../../targets/webgpu/process.js';
import { wgslCandidate } from '../../targets/webgpu/target.js';
import { Prepared } from './cases.js';
import { serialWork } from './gpu-work.js';
import { Expected, KernelRunner, Verdict } from './verdict.js';

const RUN_TIMEOUT_MS = 60_000;
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
      let r = await this.device.run(req, RUN_TIMEOUT_MS);
      // lavapipe shares the CPU: a kernel that takes ~0.1 s alone has taken over a minute next to another device's work. Once more, in the fresh process.
      if (r.status === 'run_timeout') r = await this.device.run(req, RUN_TIMEOUT_MS);
      out.push(r.status === 'ok' ? this.expected.judge(p, r.outputs) : { status: r.status, message: r.message });
    }
    return out;
  }

  close(): Promise<void> {
    return this.device.close();
  }
}
