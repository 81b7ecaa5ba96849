import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compileC, dispose } from '../../targets/c/build.js';
import { exec } from '../../targets/exec.js';
import { CJob, translationUnit } from './c-translation-unit.js';

const COMPILE_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 60_000;

/** One kernel's outputs from its own translation unit built with `cflags`, or why there are none. */
export type Opinion = { readonly ok: true; readonly raw: Buffer } | { readonly ok: false; readonly why: string };

async function buildAndRun(job: CJob, cc: string, cflags: readonly string[], seed: number, threads: number): Promise<Opinion> {
  const bin = await compileC(translationUnit([job]), { cc, cflags, openmp: job.kernel.usesOpenMP, timeoutMs: COMPILE_TIMEOUT_MS });
  try {
    if (bin.status !== 'ok') return { ok: false, why: `${cflags.join(' ')}: ${bin.status}` };
    const out = join(bin.dir, 'out.bin');
    const x = await exec(bin.binary, [String(seed), out, '0'], { cwd: bin.dir, timeoutMs: RUN_TIMEOUT_MS, env: { ...process.env, OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'passive' } });
    if (x.timedOut || x.code !== 0) return { ok: false, why: `${cflags.join(' ')}: ${x.timedOut ? 'timed out' : `exit ${x.code ?? x.signal}`}${x.stderr ? `: ${x.stderr.trim().split('\n').slice(0, 3).join(' / ')}` : ''}` };
    return { ok: true, raw: await readFile(out) };
  } finally {
    await dispose(bin);
  }
}

/**
 * A second opinion on a kernel that gave a wrong answer: is the C right and the compiler wrong?
 * Only when the same translation unit is right at -O1 and, at the original flags with
 * AddressSanitizer and UBSan, is right again and reports nothing (no out-of-bounds access, no
 * overflow, no misaligned access: the undefined behaviour an optimizer may exploit) is the
 * wrong answer blamed on the compiler. Anything else stays a loopsmith bug. The runs use as
 * many threads as the first did: a race between threads must not pass for a miscompile.
 */
export async function blameCompiler(
  job: CJob, cc: string, cflags: readonly string[], seed: number, right: (raw: Buffer) => boolean, threads: number,
): Promise<{ readonly compiler: boolean; readonly message: string }> {
  const o1 = await buildAndRun(job, cc, [...cflags.filter((f) => !/^-O/.test(f)), '-O1'], seed, threads);
  if (!o1.ok || !right(o1.raw)) return { compiler: false, message: o1.ok ? 'also wrong at -O1' : o1.why };
  const sanitized = await buildAndRun(job, cc, [...cflags, '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'], seed, threads);
  if (!sanitized.ok) return { compiler: false, message: `right at -O1, but the sanitizers object: ${sanitized.why}` };
  if (!right(sanitized.raw)) return { compiler: false, message: 'right at -O1, wrong with sanitizers' };
  return { compiler: true, message: `wrong with ${cflags.join(' ')}, right at -O1 and with ASan+UBSan reporting nothing: a miscompile by ${cc}` };
}
