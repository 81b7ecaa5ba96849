import { RunError } from '../ir/errors.js';
import { Buffers, execute, randomInputs } from '../ir/execute.js';
import { Program } from '../ir/program.js';
import { compiledReference } from './c/reference.js';
import { ReferenceCache, referenceCacheOn } from './reference-cache.js';
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
 * on large ones, where it would take too long, the unscheduled loop nest compiled as it is, which
 * is also kept on disk (reference-cache.ts) for the next run. A failure is kept too (in memory
 * only), so the slow reference never runs twice.
 */
export class References {
  private readonly cache = new Map<string, Promise<Buffers>>();
  private readonly disk?: ReferenceCache;

  /** `compiled` is the seam the tests count calls through. */
  constructor(
    private readonly settings: Pick<MeasureSettings, 'seed' | 'jsReferenceFlops' | 'referenceCompiler' | 'referenceTimeoutMs' | 'referenceCacheDir'>,
    private readonly compiled: typeof compiledReference = compiledReference,
  ) {
    if (referenceCacheOn(settings.referenceCacheDir)) this.disk = new ReferenceCache(settings.referenceCacheDir);
  }

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
    const stored = await this.disk?.read(ref.key, seed, ref.unscheduled);
    if (stored) return stored;
    const r = await this.compiled(ref.unscheduled, seed, referenceCompiler, referenceTimeoutMs);
    if (r.ok) {
      await this.disk?.write(ref.key, seed, ref.unscheduled, r.outputs);
      return r.outputs;
    }
    throw new ReferenceFailure(r.status, ref.key, r.status === 'reference_timeout' ? `did not finish in ${referenceTimeoutMs / 1000} s (the referenceTimeoutMs setting)` : `failed: ${r.message}`);
  }
}

function executedReference(p: Program, seed: number): Buffers {
  const all = execute(p, randomInputs(p, seed));
  return Object.fromEntries(p.buffers.filter((b) => b.role === 'output').map((b) => [b.name, all[b.name]!]));
}
