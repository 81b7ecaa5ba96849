/** The CLI as child processes: workers that run until killed, and commands that run to their end. */
import { ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export interface Running {
  readonly proc: ChildProcess;
  readonly stderr: () => string;
  readonly stdout: () => string;
  readonly exited: Promise<number | null>;
}

export function start(args: readonly string[], env: Record<string, string> = {}): Running {
  const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return { proc, stderr: () => err, stdout: () => out, exited };
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A worker of the C target, 1 thread, ready when it has registered; its id is read from its first line. */
export async function startWorker(url: string, extra: readonly string[] = [], env: Record<string, string> = {}): Promise<Running & { id: string }> {
  const w = start(['worker', '--redis', url, '--target', 'c', '--threads', '1', '--lock-ms', '1500', ...extra], { LOOPSMITH_TEST_MODE: '1', ...env });
  const id = await waitFor('a worker to register', () => {
    if (w.proc.exitCode !== null) throw new Error(`the worker exited (${w.proc.exitCode}): ${w.stderr()}`);
    return /^worker (\S+):/m.exec(w.stderr())?.[1];
  }, 60_000);
  return { ...w, id };
}

export async function stop(r: Running | undefined): Promise<void> {
  if (!r || r.proc.exitCode !== null || r.proc.signalCode !== null) return;
  r.proc.kill('SIGTERM');
  await r.exited;
}
