import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Buffers, execute, randomInputs } from '../../ir/execute.js';
import { collectLoops } from '../../ir/loop.js';
import { Program } from '../../ir/program.js';
import { lowerForCodegen } from '../../codegen/lower.js';
import { CKernel, renderC } from '../../codegen/c/render.js';
import { CompilerInfo, CpuFingerprint, cpuFingerprint, defaultCFlags, detectCompiler } from '../compiler.js';
import { CpuCapabilities, detectCpu } from '../cpu-info.js';
import { exec, pool } from '../exec.js';
import { Measurement } from '../measurement.js';
import { timingStats } from '../stats.js';
import { Compiled, compileC, dispose } from './build.js';
import { harnessSource } from './harness.js';
import { compareOutputs } from './verify.js';

/** What a candidate must compute: the workload key, its unscheduled program and its FLOPs. */
export interface ReferenceSpec {
  readonly key: string;
  readonly unscheduled: Program;
  readonly flops: number;
}

export interface CTargetOptions {
  cc?: string;
  cflags?: readonly string[];
  /** OpenMP threads for parallel loops. */
  threads?: number;
  compileTimeoutMs?: number;
  runTimeoutMs?: number;
  /** Timing: repeat until this much time was measured (and at least 3 runs). */
  minSeconds?: number;
  maxRepeats?: number;
  warmup?: number;
  seed?: number;
  /** Problems up to this many FLOPs are checked against the reference executor, larger ones against the naive kernel compiled. */
  jsReferenceFlops?: number;
}

/** A C kernel ready to compile: the kernel, its harness, and what it computes. */
export interface CCandidate {
  readonly kernel: CKernel;
  readonly program: Program;
  readonly source: string;
}

const FUNCTION = 'loopsmith_kernel';

export function cCandidate(p: Program, lanes = 16): CCandidate {
  const kernel = renderC(lowerForCodegen(p), FUNCTION, { lanes });
  const positions = kernel.params.map((q) => p.buffers.findIndex((b) => b.name === q.name));
  return { kernel, program: p, source: kernel.source + harnessSource(kernel, positions) };
}

/** The C compiler on this CPU: compiles candidates in parallel, runs each alone in its own process. */
export class CpuTarget {
  readonly cpu: CpuCapabilities;
  readonly compiler: CompilerInfo;
  readonly cflags: readonly string[];
  readonly fingerprint: CpuFingerprint;
  readonly opts: Required<CTargetOptions>;
  private readonly references = new Map<string, Promise<Buffers>>();

  constructor(o: CTargetOptions = {}) {
    this.cpu = detectCpu();
    this.compiler = detectCompiler(o.cc ?? 'cc');
    this.cflags = o.cflags ?? defaultCFlags(this.cpu, this.compiler);
    this.fingerprint = cpuFingerprint(this.cpu, this.compiler, this.cflags);
    this.opts = {
      cc: this.compiler.command, cflags: this.cflags, threads: o.threads ?? 1,
      compileTimeoutMs: o.compileTimeoutMs ?? 60_000, runTimeoutMs: o.runTimeoutMs ?? 60_000,
      minSeconds: o.minSeconds ?? 0.3, maxRepeats: o.maxRepeats ?? 1000, warmup: o.warmup ?? 2, seed: o.seed ?? 1,
      jsReferenceFlops: o.jsReferenceFlops ?? 3e7,
    };
  }

  compile(c: CCandidate): Promise<Compiled> {
    return compileC(c.source, { cc: this.opts.cc, cflags: this.cflags, openmp: c.kernel.usesOpenMP, timeoutMs: this.opts.compileTimeoutMs });
  }

  /** Compiles many candidates at once, one compiler per core. */
  compileAll(cs: readonly CCandidate[]): Promise<Compiled[]> {
    return pool(cs.map((c) => () => this.compile(c)), this.cpu.cores);
  }

  private env(): NodeJS.ProcessEnv {
    // Passive waiting keeps idle OpenMP threads from spinning on a core another thread needs.
    return { ...process.env, OMP_NUM_THREADS: String(this.opts.threads), OMP_WAIT_POLICY: 'passive', OMP_PROC_BIND: 'close' };
  }

  /** Runs a compiled candidate: its outputs for the checker and, when `time`, its run times. */
  async run(c: CCandidate, bin: Compiled, time: boolean): Promise<{ status: 'ok' | 'crash' | 'run_timeout'; message: string; outputs?: Buffers; times?: number[] }> {
    const out = join(bin.dir, 'out.bin');
    const args = [String(this.opts.seed), out, time ? String(this.opts.minSeconds) : '0', String(this.opts.maxRepeats), String(this.opts.warmup)];
    const r = await exec(bin.binary, args, { cwd: bin.dir, timeoutMs: this.opts.runTimeoutMs, env: this.env() });
    if (r.timedOut) return { status: 'run_timeout', message: `kernel did not finish in ${this.opts.runTimeoutMs / 1000} s` };
    if (r.signal) return { status: 'crash', message: `kernel killed by ${r.signal}${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}` };
    if (r.code !== 0) return { status: 'crash', message: `kernel exited with status ${r.code}${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}` };
    const raw = await readFile(out);
    const floats = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    const outputs: Buffers = {};
    let at = 0;
    for (const q of c.kernel.params.filter((x) => x.role === 'output')) {
      const n = q.shape.reduce((a, b) => a * b, 1);
      outputs[q.name] = floats.slice(at, at + n);
      at += n;
    }
    const times = time ? (JSON.parse(r.stdout) as { times: number[] }).times : undefined;
    return { status: 'ok', message: '', outputs, ...(times ? { times } : {}) };
  }

  /**
   * The right answer for a workload: the reference executor on small problems; on large ones the
   * unscheduled loop nest compiled as it is (the tests check that path against the executor).
   */
  reference(key: string, unscheduled: Program, flops: number): Promise<Buffers> {
    const k = `${key}#${this.opts.seed}`;
    let r = this.references.get(k);
    if (!r) {
      r = flops <= this.opts.jsReferenceFlops ? Promise.resolve(this.jsReference(unscheduled)) : this.compiledReference(unscheduled);
      this.references.set(k, r);
    }
    return r;
  }

  private jsReference(p: Program): Buffers {
    const all = execute(p, randomInputs(p, this.opts.seed));
    return Object.fromEntries(p.buffers.filter((b) => b.role === 'output').map((b) => [b.name, all[b.name]!]));
  }

  /** A candidate rendered for this CPU's vector width. */
  candidate(p: Program): CCandidate {
    return cCandidate(p, Math.max(1, this.cpu.f32Lanes));
  }

  private async compiledReference(p: Program): Promise<Buffers> {
    const c = this.candidate(p);
    const bin = await compileC(c.source, { cc: this.opts.cc, cflags: ['-O2', '-std=c11'], openmp: false, timeoutMs: this.opts.compileTimeoutMs });
    try {
      if (bin.status !== 'ok') throw new Error(`reference kernel failed to compile: ${bin.message}`);
      const r = await exec(bin.binary, [String(this.opts.seed), join(bin.dir, 'out.bin'), '0', '1', '0'], { cwd: bin.dir, timeoutMs: 30 * 60_000, env: this.env() });
      if (r.code !== 0) throw new Error(`reference kernel failed: ${r.signal ?? r.code} ${r.stderr}`);
      return (await this.run(c, bin, false)).outputs!;
    } finally {
      await dispose(bin);
    }
  }

  /**
   * Verify, then time: a candidate whose outputs disagree with the reference never gets a time.
   * `compiled` lets a caller compile many candidates in parallel first.
   */
  async measure(c: CCandidate, ref: ReferenceSpec, compiled?: Compiled, opts: { time?: boolean } = {}): Promise<Measurement> {
    const bin = compiled ?? (await this.compile(c));
    try {
      if (bin.status !== 'ok') return { status: bin.status, message: bin.message, compileSeconds: bin.seconds };
      const checked = await this.run(c, bin, false);
      if (checked.status !== 'ok') return { status: checked.status, message: checked.message };
      const want = await this.reference(ref.key, ref.unscheduled, ref.flops);
      const cmp = compareOutputs(checked.outputs!, want, reductionLength(ref.unscheduled));
      if (!cmp.ok) return { status: 'wrong_answer', message: cmp.message, maxError: cmp.maxError };
      if (opts.time === false) return { status: 'ok', maxError: cmp.maxError, compileSeconds: bin.seconds };
      const timed = await this.run(c, bin, true);
      if (timed.status !== 'ok') return { status: timed.status, message: timed.message };
      const stats = timingStats(timed.times!);
      return { status: 'ok', times: timed.times!, stats, gflops: ref.flops / stats.median / 1e9, maxError: cmp.maxError, compileSeconds: bin.seconds };
    } finally {
      if (!compiled) await dispose(bin);
    }
  }
}

/** Length of the longest reduction in a program: product of its reduction loops' extents. */
export function reductionLength(p: Program): number {
  return collectLoops(p.body).filter((l) => l.axis === 'reduce').reduce((a, l) => a * l.extent, 1);
}
