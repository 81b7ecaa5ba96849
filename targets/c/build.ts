import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../exec.js';

export type CompileStatus = 'ok' | 'compile_error' | 'compile_timeout';

export interface Compiled {
  readonly status: CompileStatus;
  /** Private directory holding the source and binary; the caller removes it with `dispose`. */
  readonly dir: string;
  readonly binary: string;
  readonly message: string;
  readonly seconds: number;
}

export interface CompileOptions {
  readonly cc: string;
  readonly cflags: readonly string[];
  readonly openmp: boolean;
  readonly timeoutMs: number;
}

/** Compiles one C program in a fresh private directory, never through a shell. */
export async function compileC(source: string, opts: CompileOptions): Promise<Compiled> {
  const dir = await mkdtemp(join(tmpdir(), 'loopsmith-'));
  const src = join(dir, 'kernel.c'), binary = join(dir, 'kernel');
  await writeFile(src, source);
  const args = [...opts.cflags, ...(opts.openmp ? ['-fopenmp'] : []), '-o', binary, src, '-lm'];
  const t0 = performance.now();
  const r = await exec(opts.cc, args, { cwd: dir, timeoutMs: opts.timeoutMs, maxOutput: 64 * 1024 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.timedOut) return { status: 'compile_timeout', dir, binary, message: `compiler did not finish in ${opts.timeoutMs / 1000} s`, seconds };
  if (r.error || r.code !== 0) {
    const first = (r.error ?? r.stderr).split('\n').find((l) => /error/.test(l)) ?? (r.error ?? r.stderr).split('\n')[0] ?? '';
    return { status: 'compile_error', dir, binary, message: `${opts.cc} failed: ${first.replace(dir + '/', '')}`.trim(), seconds };
  }
  // A "compiler" that succeeds without writing the program (`--cc true`) compiled nothing.
  if (!existsSync(binary)) return { status: 'compile_error', dir, binary, message: `${opts.cc} exited with status 0 but wrote no program (is it a C compiler? pass --cc gcc or --cc clang)`, seconds };
  return { status: 'ok', dir, binary, message: '', seconds };
}

export async function dispose(c: Compiled): Promise<void> {
  await rm(c.dir, { recursive: true, force: true });
}
