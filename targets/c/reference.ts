import { Buffers } from '../../ir/execute.js';
import { Program } from '../../ir/program.js';
import { compileC, dispose } from './build.js';
import { cCandidate } from './candidate.js';
import { runHarness } from './run.js';

const COMPILE_TIMEOUT_MS = 60_000;
/** Naive loops on a large problem are slow, but they finish: only a broken machine waits this long. */
const RUN_TIMEOUT_MS = 30 * 60_000;

/**
 * The right answer for a large problem: the unscheduled loop nest compiled as it is, without
 * -march or fast-math (the tests check this path against the reference executor).
 */
export async function compiledReference(p: Program, seed: number, cc: string): Promise<Buffers> {
  const c = cCandidate(p, 1);
  const bin = await compileC(c.compiled, { cc, cflags: ['-O2', '-std=c11'], openmp: false, timeoutMs: COMPILE_TIMEOUT_MS });
  try {
    if (bin.status !== 'ok') throw new Error(`reference kernel failed to compile: ${bin.message}`);
    const r = await runHarness(c.kernel, bin, { seed, minSeconds: 0, maxRepeats: 1, warmup: 0, timeoutMs: RUN_TIMEOUT_MS, env: process.env });
    if (r.status !== 'ok') throw new Error(`reference kernel failed: ${r.message}`);
    return r.outputs;
  } finally {
    await dispose(bin);
  }
}
