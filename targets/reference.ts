import { Buffers, execute, randomInputs } from '../ir/execute.js';
import { Program } from '../ir/program.js';
import { compiledReference } from './c/reference.js';
import { MeasureSettings, ReferenceSpec } from './target.js';

/**
 * The right answers, computed once per (workload, seed): the reference executor on small problems;
 * on large ones, where it would take too long, the unscheduled loop nest compiled as it is.
 */
export class References {
  private readonly cache = new Map<string, Promise<Buffers>>();

  constructor(private readonly settings: Pick<MeasureSettings, 'seed' | 'jsReferenceFlops' | 'referenceCompiler'>) {}

  get(ref: ReferenceSpec): Promise<Buffers> {
    const { seed, jsReferenceFlops, referenceCompiler } = this.settings;
    const k = `${ref.key}#${seed}`;
    let r = this.cache.get(k);
    if (!r) {
      r = ref.flops <= jsReferenceFlops ? Promise.resolve(executedReference(ref.unscheduled, seed)) : compiledReference(ref.unscheduled, seed, referenceCompiler);
      this.cache.set(k, r);
    }
    return r;
  }
}

function executedReference(p: Program, seed: number): Buffers {
  const all = execute(p, randomInputs(p, seed));
  return Object.fromEntries(p.buffers.filter((b) => b.role === 'output').map((b) => [b.name, all[b.name]!]));
}
