/**
 * Verify, then time, on any target: a candidate whose outputs disagree with the reference never
 * gets a time, and whatever goes wrong with one candidate (the code generator, the compiler, the
 * kernel) is that candidate's measurement, not an exception of the run. Given the best time so far,
 * a verified candidate whose checking run was already far slower is not timed further.
 */
import { Buffers } from '../ir/execute.js';
import { Program } from '../ir/program.js';
import { Measurement } from './measurement.js';
import { References } from './reference.js';
import { RunLimit, checkRunLimit, timedRunLimit } from './run-limits.js';
import { timingStats } from './stats.js';
import { Built, Candidate, ReferenceSpec, RunResult, Target } from './target.js';
import { compareOutputs, reductionLength } from './verify.js';

export type Rendered<C> = { readonly ok: true; readonly candidate: C } | { readonly ok: false; readonly measurement: Measurement };

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

export interface MeasureOptions {
  /** false: verify only. */
  readonly time?: boolean;
  /**
   * The fastest verified median so far, in seconds (Infinity while there is none yet). Given, it
   * turns on early abort and relative time limits, and measureAll lowers it as its candidates
   * finish. Left out (run, compare, benches, re-measuring), every candidate is measured in full
   * under the absolute cap.
   */
  readonly bestSeconds?: number;
}

export class Pipeline<C extends Candidate, B> {
  private readonly references: References;

  constructor(readonly target: Target<C, B>) {
    this.references = new References(target.settings);
  }

  /** A code generator that throws on one candidate costs that candidate: its codegen_error. */
  render(p: Program): Rendered<C> {
    try {
      return { ok: true, candidate: this.target.candidate(p) };
    } catch (e) {
      return { ok: false, measurement: { status: 'codegen_error', message: `internal code generation error (please report): ${firstLine(e)}` } };
    }
  }

  /** The right answer for `ref` (peers compared with loopsmith's kernels are checked against it too). */
  reference(ref: ReferenceSpec): Promise<Buffers> {
    return this.references.get(ref);
  }

  build(cs: readonly C[]): Promise<Built<B>[]> {
    return this.target.build(cs);
  }

  release(built: readonly Built<B>[]): Promise<void> {
    return Promise.all(built.map((b) => (b.status === 'ok' ? this.target.release(b.artifact) : undefined))).then(() => undefined);
  }

  /** One program from start to end: render, build, verify, time. */
  async measureProgram(p: Program, ref: ReferenceSpec, opts: MeasureOptions = {}): Promise<Measurement> {
    const r = this.render(p);
    return r.ok ? (await this.measureAll([r.candidate], ref, opts))[0]! : r.measurement;
  }

  /** Builds the batch at once, then measures each candidate alone (timings must not share the machine). */
  async measureAll(cs: readonly C[], ref: ReferenceSpec, opts: MeasureOptions = {}): Promise<Measurement[]> {
    const built = await this.build(cs);
    try {
      const out: Measurement[] = [];
      let best = opts.bestSeconds;
      for (let i = 0; i < cs.length; i++) {
        const m = await this.measure(cs[i]!, built[i]!, ref, { ...opts, ...(best !== undefined ? { bestSeconds: best } : {}) });
        if (best !== undefined && m.stats && !m.earlyAbort) best = Math.min(best, m.stats.median);
        out.push(m);
      }
      return out;
    } finally {
      await this.release(built);
    }
  }

  async measure(c: C, built: Built<B>, ref: ReferenceSpec, opts: MeasureOptions = {}): Promise<Measurement> {
    if (built.status !== 'ok') return built;
    const compiled = built.compileSeconds !== undefined ? { compileSeconds: built.compileSeconds } : {};
    const s = this.target.settings;
    const checkLimit = checkRunLimit(s, opts.bestSeconds);
    const checked = await this.run(c, built.artifact, false, checkLimit);
    if (checked.status !== 'ok') return failed(checked, checkLimit);
    const cmp = compareOutputs(checked.outputs, await this.references.get(ref), reductionLength(ref.unscheduled));
    if (!cmp.ok) return { status: 'wrong_answer', message: cmp.message, maxError: cmp.maxError };
    if (opts.time === false) return { status: 'ok', maxError: cmp.maxError, ...compiled };
    const { checkSeconds } = checked, best = opts.bestSeconds;
    // Verified first, so a wrong kernel is never stopped early as merely slow. The checking run is
    // cold (first touch, thread start-up), so a kernel past the factor there is roughly as slow warm.
    if (best !== undefined && checkSeconds !== undefined && checkSeconds > s.earlyAbortFactor * best) {
      return {
        status: 'ok', times: [checkSeconds], stats: timingStats([checkSeconds]), gflops: ref.flops / checkSeconds / 1e9, maxError: cmp.maxError, ...compiled,
        ...(checked.clock ? { clock: checked.clock } : {}), earlyAbort: { factor: s.earlyAbortFactor, bestSeconds: best },
      };
    }
    const timedLimit = timedRunLimit(s, checkSeconds);
    const timed = await this.run(c, built.artifact, true, timedLimit);
    if (timed.status !== 'ok') return failed(timed, timedLimit);
    if (!timed.times?.length) return { status: 'crash', message: `the ${this.target.name} target returned no times for a timed run` };
    const stats = timingStats(timed.times);
    return {
      status: 'ok', times: timed.times, stats, gflops: ref.flops / stats.median / 1e9, maxError: cmp.maxError, ...compiled,
      ...(timed.clock ? { clock: timed.clock } : {}), ...(timed.warmingRuns ? { warmingRuns: timed.warmingRuns } : {}),
      ...(timed.prepareSeconds !== undefined ? { prepareSeconds: timed.prepareSeconds } : {}),
    };
  }

  /** The target's own failures (a crashed device, unreadable output) are a crash of this candidate. */
  private async run(c: C, artifact: B, time: boolean, limit: RunLimit): Promise<RunResult> {
    try {
      return await this.target.run(c, artifact, time, { timeoutMs: limit.timeoutMs });
    } catch (e) {
      return { status: 'crash', message: `the ${this.target.name} target failed to run the kernel: ${firstLine(e)}` };
    }
  }
}

/** A failed run as a measurement; a timeout under a derived limit says which limit it was. */
function failed(r: Exclude<RunResult, { status: 'ok' }>, limit: RunLimit): Measurement {
  return { status: r.status, message: r.status === 'run_timeout' && limit.why ? `${r.message}; ${limit.why}` : r.message };
}
