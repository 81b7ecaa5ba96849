import { RunError } from '../ir/errors.js';
import { Buffers, execute, randomInputs } from '../ir/execute.js';
import { Program } from '../ir/program.js';
import { compiledReference } from './c/reference.js';
import { MeasureSettings, ReferenceSpec } from './target.js';

/**
 * The reference could not be computed. No candidate can be checked without it, so this ends the
 * run instead of becoming any candidate's status: a candidate is never blamed (or recorded) for it.
 */
export class ReferenceFailure extends RunError {
  constructor(readonly status: 'reference_timeout' | 'reference_error', readonly workload: string, detail: string) {
    super(`${status}: the compiled naive reference for ${workload} ${detail}; no kernel can be checked without it, so none was blamed`);
  }
}

/**
 * The right answers, computed once per (workload, seed): the reference executor on small problems;
 * on large ones, where it would take too long, the unscheduled loop nest compiled as it is. A
 * failure is kept too, so the slow reference never runs twice.
 */
export class References {
  private readonly cache = new Map<string, Promise<Buffers>>();

  constructor(private readonly settings: Pick<MeasureSettings, 'seed' | 'jsReferenceFlops' | 'referenceCompiler' | 'referenceTimeoutMs'>) {}

  get(ref: ReferenceSpec): Promise<Buffers> {
    const k = `${ref.key}#${this.settings.seed}`;
    let r = this.cache.get(k);
    if (!r) {
      r = this.compute(ref);
      this.cache.set(k, r);
    }
    return r;
  }

  private async compute(ref: ReferenceSpec): Promise<Buffers> {
    const { seed, jsReferenceFlops, referenceCompiler, referenceTimeoutMs } = this.settings;
    if (ref.flops <= jsReferenceFlops) return executedReference(ref.unscheduled, seed);
    const r = await compiledReference(ref.unscheduled, seed, referenceCompiler, referenceTimeoutMs);
    if (r.ok) return r.outputs;
    throw new ReferenceFailure(r.status, ref.key, r.status === 'reference_timeout' ? `did not finish in ${referenceTimeoutMs / 1000} s (the referenceTimeoutMs setting)` : `failed: ${r.message}`);
  }
}

function executedReference(p: Program, seed: number): Buffers {
  const all = execute(p, randomInputs(p, seed));
  return Object.fromEntries(p.buffers.filter((b) => b.role === 'output').map((b) => [b.name, all[b.name]!]));
}
