import { spawn } from 'node:child_process';

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly error?: string;
}

/** How to kill each program still running: they go when this process exits. */
const running = new Set<() => void>();
process.on('exit', () => running.forEach((kill) => kill()));

/**
 * Runs a program without a shell (arguments are never parsed by one), with a hard timeout that
 * kills it with SIGKILL, collecting at most `maxOutput` characters of each stream.
 */
export function exec(command: string, args: readonly string[], opts: { cwd?: string; timeoutMs: number; env?: NodeJS.ProcessEnv; maxOutput?: number }): Promise<ExecResult> {
  const cap = opts.maxOutput ?? 1 << 20;
  return new Promise((resolve) => {
    let stdout = '', stderr = '', timedOut = false, settled = false;
    // Its own process group, so a timeout kills what it started too (the compiler driver's cc1).
    // A Ctrl-C at the terminal does not reach that group either: it stops the tuner after the
    // kernel in flight instead of failing the kernel. If we exit first (a second Ctrl-C), it goes too.
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], shell: false, detached: true });
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    running.add(killGroup);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => { if (stdout.length < cap) stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { if (stderr.length < cap) stderr += d.toString(); });
    const done = (r: ExecResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      running.delete(killGroup);
      resolve(r);
    };
    child.on('error', (e) => done({ code: null, signal: null, stdout, stderr, timedOut, error: e.message }));
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr, timedOut }));
  });
}

/** Runs tasks with at most `limit` in flight; results keep the order of the tasks. */
export async function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  return out;
}
