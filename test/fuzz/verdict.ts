import { Buffers, execute, outputsOf, randomInputs } from '../../ir/execute.js';
import { compareOutputs, reductionLength } from '../../targets/verify.js';
import { Prepared } from './cases.js';

/** Every way a legal schedule can go wrong; each is a bug. */
export const FAILURES = ['wrong_answer', 'crash', 'run_timeout', 'compile_error', 'compile_timeout', 'codegen_error', 'schedule_bug'] as const;
export type FailureStatus = (typeof FAILURES)[number];

export type Verdict =
  | { readonly status: 'ok' }
  /** Not a bug: the kernel is too large to be worth compiling, or over the device's limits. */
  | { readonly status: 'skipped'; readonly message: string }
  /**
   * Not loopsmith's bug, reported apart: `miscompiled`, the C is right (right at -O1, clean under the
   * sanitizers) and the compiler's -O3 code is wrong; `device_timeout`, the device's shader compiler
   * did not finish within the fuzzer's limit (loop bounds are constants, so the kernel itself cannot hang).
   */
  | { readonly status: 'miscompiled' | 'device_timeout'; readonly message: string }
  | { readonly status: FailureStatus; readonly message: string };


/** Renders, builds and runs a batch of kernels on one device, each on the inputs of `inputSeed`. */
export interface KernelRunner {
  readonly name: string;
  /** The device and toolchain, for the summary. */
  describe(): Promise<string>;
  check(cases: readonly Prepared[]): Promise<Verdict[]>;
  close(): Promise<void>;
}

/**
 * The reference executor's outputs for the unscheduled program, cached per workload: the fuzzer
 * draws few distinct shapes per op, so most cases reuse one.
 */
export class Expected {
  private readonly cache = new Map<string, Buffers>();

  constructor(readonly inputSeed: number, private readonly capacity = 512) {}

  of(p: Prepared): Buffers {
    const key = p.workload.key;
    let out = this.cache.get(key);
    if (!out) {
      out = outputsOf(p.base, execute(p.base, randomInputs(p.base, this.inputSeed)));
      if (this.cache.size >= this.capacity) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, out);
    }
    return out;
  }

  /** The target's outputs against the reference, with the pipeline's tolerance. */
  judge(p: Prepared, got: Buffers): Verdict {
    const c = compareOutputs(got, this.of(p), reductionLength(p.base));
    return c.ok ? { status: 'ok' } : { status: 'wrong_answer', message: c.message };
  }
}
