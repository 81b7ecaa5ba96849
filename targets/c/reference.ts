import { Buffers } from '../../ir/execute.js';
import { Program } from '../../ir/program.js';
import { compileC, dispose } from './build.js';
import { cCandidate } from './candidate.js';
import { runHarness } from './run.js';

const COMPILE_TIMEOUT_MS = 60_000;

export type CompiledReference =
  | { readonly ok: true; readonly outputs: Buffers }
  | { readonly ok: false; readonly status: 'reference_timeout' | 'reference_error'; readonly message: string };

/**
 * The right answer for a large problem: the unscheduled loop nest compiled as it is, without
 * -march or fast-math (the tests check this path against the reference executor).
 */
export async function compiledReference(p: Program, seed: number, cc: string, timeoutMs: number): Promise<CompiledReference> {
  const c = cCandidate(p, 1);
  const bin = await compileC(c.compiled, { cc, cflags: ['-O2', '-std=c11'], openmp: false, timeoutMs: COMPILE_TIMEOUT_MS });
  try {
    if (bin.status !== 'ok') return { ok: false, status: 'reference_error', message: `it did not compile: ${bin.message}` };
    const r = await runHarness(c.kernel, bin, { seed, minSeconds: 0, maxRepeats: 1, warmup: 0, timeoutMs, env: process.env });
    if (r.status === 'run_timeout') return { ok: false, status: 'reference_timeout', message: r.message };
    if (r.status !== 'ok') return { ok: false, status: 'reference_error', message: r.message };
    return { ok: true, outputs: r.outputs };
  } finally {
    await dispose(bin);
  }
}
