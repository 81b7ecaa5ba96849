import { ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GpuCapabilities } from './device.js';
import { RunRequest, RunResult } from './runner.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

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

  /** Starts the process (once) and returns the device's capabilities. */
  open(): Promise<GpuCapabilities> {
    if (this.ready) return this.ready;
    this.ready = new Promise((resolve, reject) => {
      // Its own process group: a Ctrl-C at the terminal reaches the whole foreground group, and it
      // is the tuner's to stop after the kernel in flight, not a crash of that kernel. The device
      // process ends when we close it, when we exit, or when the IPC channel closes.
      const child = fork(WORKER, [], { detached: true, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
      const killOnExit = () => child.kill('SIGKILL');
      process.once('exit', killOnExit);
      child.once('exit', () => process.off('exit', killOnExit));
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
      this.child = child;
      child.on('message', (m: Message) => {
        if (m.type === 'ready') resolve(m.caps!);
        else if (m.type === 'error') reject(new Error(m.message));
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
        reject(new Error(`WebGPU process ended before the device opened: ${stderr.trim().split('\n').pop() ?? code}`));
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

  /** Runs one kernel; past `timeoutMs` the process is killed and the kernel is a run_timeout. */
  async run(req: RunRequest, timeoutMs: number): Promise<RunResult | { status: 'run_timeout'; message: string }> {
    await this.open();
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.forget()?.kill('SIGKILL');
        resolve({ status: 'run_timeout', message: `kernel did not finish in ${timeoutMs / 1000} s; the device process was restarted` });
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
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
