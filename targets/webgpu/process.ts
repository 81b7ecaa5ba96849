import { ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RunError } from '../../ir/errors.js';
import { GpuCapabilities } from './device.js';
import { RunRequest, RunResult } from './runner.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));
/**
 * A driver can hang in requestAdapter or requestDevice (a wedged GPU, a Vulkan loader waiting on a
 * display): past this the device process is killed and the target is not available. Dawn on
 * lavapipe opens in well under a second, a discrete GPU in a few.
 */
export const OPEN_TIMEOUT_MS = 30_000;

type Message = { type: string; caps?: GpuCapabilities; id?: number; result?: RunResult; message?: string };

/**
 * The child process that owns the Dawn device (worker.ts): one kernel at a time; a kernel that
 * kills or hangs the device costs that kernel, and the next one gets a fresh process.
 */
export class DeviceProcess {
  private child?: ChildProcess;
  private ready?: Promise<GpuCapabilities>;
  private nextId = 0;
  private pending = new Map<number, (r: RunResult) => void>();
  /** Per run in flight: the worker says its shader compiled, and the run's own limit starts. */
  private compiled = new Map<number, () => void>();

  /** `script`: the device process's module (tests give one that never opens). */
  constructor(private readonly openTimeoutMs = OPEN_TIMEOUT_MS, private readonly script = WORKER) {}

  /** Starts the process (once) and returns the device's capabilities; a RunError if it does not open. */
  open(): Promise<GpuCapabilities> {
    if (this.ready) return this.ready;
    this.ready = new Promise<GpuCapabilities>((resolveOpen, rejectOpen) => {
      let timer: NodeJS.Timeout | undefined;
      const resolve = (caps: GpuCapabilities) => {
        clearTimeout(timer);
        resolveOpen(caps);
      };
      const reject = (message: string) => {
        clearTimeout(timer);
        rejectOpen(new RunError(message));
      };
      // Its own process group: a Ctrl-C at the terminal reaches the whole foreground group, and it
      // is the tuner's to stop after the kernel in flight, not a crash of that kernel. The device
      // process ends when we close it, when we exit, or when the IPC channel closes.
      const child = fork(this.script, [], { detached: true, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
      const killOnExit = () => child.kill('SIGKILL');
      process.once('exit', killOnExit);
      child.once('exit', () => process.off('exit', killOnExit));
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
      this.child = child;
      timer = setTimeout(() => {
        this.forget();
        child.kill('SIGKILL');
        reject(`the WebGPU device did not open within ${this.openTimeoutMs / 1000} s (a hung GPU driver?); its process was killed`);
      }, this.openTimeoutMs);
      child.on('message', (m: Message) => {
        if (m.type === 'ready') resolve(m.caps!);
        else if (m.type === 'error') reject(m.message ?? 'the WebGPU device did not open');
        else if (m.type === 'compiled') this.compiled.get(m.id!)?.();
        else if (m.type === 'result') {
          this.pending.get(m.id!)?.(m.result!);
          this.pending.delete(m.id!);
        } else if (m.type === 'lost') this.fail(m.message ?? 'device lost');
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) {
          this.forget();
          this.fail(`the WebGPU process ended (${signal ?? `exit ${code}`})${stderr.includes('rror') ? `: ${stderr.trim().split('\n').pop()}` : ''}`);
        }
        reject(`WebGPU process ended before the device opened: ${stderr.trim().split('\n').pop() || `exit ${code ?? signal}`}`);
      });
    });
    return this.ready;
  }

  private forget(): ChildProcess | undefined {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    return child;
  }

  private fail(message: string): void {
    for (const [, done] of this.pending) done({ status: 'crash', message });
    this.pending.clear();
  }

  /**
   * Runs one kernel. Its shader has `compileTimeoutMs` to compile (a compile_timeout), then the run
   * has `timeoutMs` (a run_timeout): a limit derived from how fast kernels run must not count the
   * compile. Past either, the process is killed and the next kernel gets a fresh one.
   */
  async run(req: RunRequest, limits: { readonly timeoutMs: number; readonly compileTimeoutMs: number }): Promise<RunResult | { status: 'run_timeout' | 'compile_timeout'; message: string }> {
    await this.open();
    const id = this.nextId++;
    return new Promise((resolve) => {
      const kill = (r: { status: 'run_timeout' | 'compile_timeout'; message: string }) => () => {
        this.pending.delete(id);
        this.compiled.delete(id);
        this.forget()?.kill('SIGKILL');
        resolve(r);
      };
      let timer = setTimeout(kill({ status: 'compile_timeout', message: `the shader did not compile in ${limits.compileTimeoutMs / 1000} s; the device process was restarted` }), limits.compileTimeoutMs);
      this.compiled.set(id, () => {
        clearTimeout(timer);
        timer = setTimeout(kill({ status: 'run_timeout', message: `kernel did not finish in ${limits.timeoutMs / 1000} s; the device process was restarted` }), limits.timeoutMs);
      });
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        this.compiled.delete(id);
        resolve(r);
      });
      this.child!.send({ type: 'run', id, req });
    });
  }

  /** Destroys the device and ends its process, so that this process can exit. */
  async close(): Promise<void> {
    const child = this.forget();
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.send({ type: 'close' });
      setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 5000).unref();
    });
  }
}
