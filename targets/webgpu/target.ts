import { ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Buffers, execute, randomInputs } from '../../ir/execute.js';
import { structuralHash } from '../../ir/hash.js';
import { Program } from '../../ir/program.js';
import { lowerForCodegen } from '../../codegen/lower.js';
import { WgslKernel, renderWgsl } from '../../codegen/wgsl/render.js';
import { Measurement } from '../measurement.js';
import { timingStats } from '../stats.js';
import { compareOutputs } from '../c/verify.js';
import { CpuTarget, ReferenceSpec, reductionLength } from '../c/target.js';
import { GpuCapabilities } from './device.js';
import { RunRequest, RunResult } from './runner.js';

export interface WgslCandidate {
  readonly kernel: WgslKernel;
  readonly program: Program;
  readonly positions: readonly number[];
}

export interface GpuFingerprint {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly dawnVersion: string;
  readonly key: string;
}

export interface WebGpuOptions {
  seed?: number;
  minSeconds?: number;
  maxRepeats?: number;
  warmup?: number;
  /** A run that takes longer than this is killed (with its process) and reported as run_timeout. */
  runTimeoutMs?: number;
  jsReferenceFlops?: number;
}

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

export function wgslCandidate(p: Program): WgslCandidate {
  const kernel = renderWgsl(lowerForCodegen(p));
  return { kernel, program: p, positions: kernel.bindings.map((b) => p.buffers.findIndex((x) => x.name === b.name)) };
}

/** The device's limits a candidate breaks, checked before anything is compiled. */
export function limitViolations(k: WgslKernel, caps: GpuCapabilities): string[] {
  const l = caps.limits;
  const out: string[] = [];
  for (const e of k.entries) {
    const [x, y, z] = e.workgroupSize;
    if (x > l.maxComputeWorkgroupSizeX || y > l.maxComputeWorkgroupSizeY || z > l.maxComputeWorkgroupSizeZ) out.push(`${e.name}: workgroup size ${x}x${y}x${z} exceeds the device's ${l.maxComputeWorkgroupSizeX}x${l.maxComputeWorkgroupSizeY}x${l.maxComputeWorkgroupSizeZ}`);
    if (x * y * z > l.maxComputeInvocationsPerWorkgroup) out.push(`${e.name}: ${x * y * z} invocations per workgroup, the device allows ${l.maxComputeInvocationsPerWorkgroup}`);
    if (e.dispatch.some((d) => d > l.maxComputeWorkgroupsPerDimension)) out.push(`${e.name}: dispatch ${e.dispatch.join('x')} exceeds ${l.maxComputeWorkgroupsPerDimension} workgroups per dimension`);
    if (e.workgroupBytes > l.maxComputeWorkgroupStorageSize) out.push(`${e.name}: ${e.workgroupBytes} bytes of workgroup memory, the device allows ${l.maxComputeWorkgroupStorageSize}`);
    // Private arrays live in registers or spill to per-invocation scratch; beyond this, no GPU runs them well.
    if (e.privateBytes > 16384) out.push(`${e.name}: ${e.privateBytes} bytes of private scratch per invocation (at most 16384)`);
  }
  for (const b of k.bindings) if (b.elements * 4 > l.maxStorageBufferBindingSize) out.push(`buffer ${b.name} is ${b.elements * 4} bytes, the device binds at most ${l.maxStorageBufferBindingSize}`);
  if (k.bindings.length > l.maxStorageBuffersPerShaderStage) out.push(`${k.bindings.length} storage buffers, the device allows ${l.maxStorageBuffersPerShaderStage}`);
  return out;
}

/**
 * WebGPU through Dawn. The device lives in a child process; this object sends it one kernel at a
 * time, checks the outputs against the reference, and restarts it when a kernel kills or hangs it.
 */
export class WebGpuTarget {
  private child?: ChildProcess;
  private ready?: Promise<GpuCapabilities>;
  private nextId = 0;
  private pending = new Map<number, (r: RunResult) => void>();
  private caps_?: GpuCapabilities;
  private cpu?: CpuTarget;
  readonly opts: Required<WebGpuOptions>;
  private readonly references = new Map<string, Promise<Buffers>>();

  constructor(o: WebGpuOptions = {}) {
    this.opts = {
      seed: o.seed ?? 1, minSeconds: o.minSeconds ?? 0.3, maxRepeats: o.maxRepeats ?? 2000, warmup: o.warmup ?? 2,
      runTimeoutMs: o.runTimeoutMs ?? 60_000, jsReferenceFlops: o.jsReferenceFlops ?? 3e7,
    };
  }

  /** Starts the device process (once) and returns the device's capabilities. */
  open(): Promise<GpuCapabilities> {
    if (this.ready) return this.ready;
    this.ready = new Promise((resolve, reject) => {
      const child = fork(WORKER, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
      this.child = child;
      child.on('message', (m: { type: string; caps?: GpuCapabilities; id?: number; result?: RunResult; message?: string }) => {
        if (m.type === 'ready') {
          this.caps_ = m.caps!;
          resolve(m.caps!);
        } else if (m.type === 'error') reject(new Error(m.message));
        else if (m.type === 'result') {
          this.pending.get(m.id!)?.(m.result!);
          this.pending.delete(m.id!);
        } else if (m.type === 'lost') this.fail(m.message ?? 'device lost');
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
          this.fail(`the WebGPU process ended (${signal ?? `exit ${code}`})${stderr.includes('rror') ? `: ${stderr.trim().split('\n').pop()}` : ''}`);
        }
        reject(new Error(`WebGPU process ended before the device opened: ${stderr.trim().split('\n').pop() ?? code}`));
      });
    });
    return this.ready;
  }

  private fail(message: string): void {
    for (const [, done] of this.pending) done({ status: 'crash', message });
    this.pending.clear();
  }

  get caps(): GpuCapabilities {
    if (!this.caps_) throw new Error('WebGPU target not opened');
    return this.caps_;
  }

  get fingerprint(): GpuFingerprint {
    const c = this.caps;
    const f = { vendor: c.vendor, architecture: c.architecture, device: c.device, description: c.description, dawnVersion: c.dawnVersion };
    return { ...f, key: `webgpu:${structuralHash(f)}` };
  }

  candidate(p: Program): WgslCandidate {
    return wgslCandidate(p);
  }

  private async run(c: WgslCandidate, time: boolean): Promise<RunResult | { status: 'run_timeout'; message: string }> {
    await this.open();
    const id = this.nextId++;
    const req: RunRequest = { kernel: c.kernel, positions: c.positions, seed: this.opts.seed, time, minSeconds: this.opts.minSeconds, maxRepeats: this.opts.maxRepeats, warmup: this.opts.warmup };
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        const child = this.child;
        this.child = undefined;
        this.ready = undefined;
        child?.kill('SIGKILL');
        resolve({ status: 'run_timeout', message: `kernel did not finish in ${this.opts.runTimeoutMs / 1000} s; the device process was restarted` });
      }, this.opts.runTimeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.child!.send({ type: 'run', id, req });
    });
  }

  reference(ref: ReferenceSpec): Promise<Buffers> {
    const k = `${ref.key}#${this.opts.seed}`;
    let r = this.references.get(k);
    if (!r) {
      if (ref.flops <= this.opts.jsReferenceFlops) {
        const all = execute(ref.unscheduled, randomInputs(ref.unscheduled, this.opts.seed));
        r = Promise.resolve(Object.fromEntries(ref.unscheduled.buffers.filter((b) => b.role === 'output').map((b) => [b.name, all[b.name]!])));
      } else {
        this.cpu ??= new CpuTarget({ seed: this.opts.seed });
        r = this.cpu.reference(ref.key, ref.unscheduled, ref.flops);
      }
      this.references.set(k, r);
    }
    return r;
  }

  /** Limits first, then compile and run on fresh buffers, verify, and only then time. */
  async measure(c: WgslCandidate, ref: ReferenceSpec, opts: { time?: boolean } = {}): Promise<Measurement> {
    const caps = await this.open();
    const over = limitViolations(c.kernel, caps);
    if (over.length) return { status: 'rejected', message: `exceeds device limits: ${over.join('; ')}` };
    const checked = await this.run(c, false);
    if (checked.status !== 'ok') return { status: checked.status, message: checked.message };
    const cmp = compareOutputs(checked.outputs, await this.reference(ref), reductionLength(ref.unscheduled));
    if (!cmp.ok) return { status: 'wrong_answer', message: cmp.message, maxError: cmp.maxError };
    if (opts.time === false) return { status: 'ok', maxError: cmp.maxError };
    const timed = await this.run(c, true);
    if (timed.status !== 'ok') return { status: timed.status, message: timed.message };
    const stats = timingStats(timed.times!);
    return { status: 'ok', times: timed.times!, stats, gflops: ref.flops / stats.median / 1e9, maxError: cmp.maxError, clock: timed.clock! };
  }

  /** Destroys the device and ends its process, so that this process can exit. */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.send({ type: 'close' });
      setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 5000).unref();
    });
  }
}
