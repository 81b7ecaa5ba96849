import { Program } from '../../ir/program.js';
import { CompilerInfo, CpuFingerprint, cpuFingerprint, defaultCFlags, detectCompiler } from '../compiler.js';
import { CpuCapabilities, detectCpu, vectorRegistersFor } from '../cpu-info.js';
import { pool } from '../exec.js';
import { Built, MeasureSettings, RunOptions, RunResult, Target, TargetDefinition, integerOption, measureSettings } from '../target.js';
import { SpaceTarget } from '../../tuner/space.js';
import { Compiled, compileC, dispose } from './build.js';
import { CCandidate, cCandidate } from './candidate.js';
import { parseCFlags } from './flags.js';
import { runHarness } from './run.js';

export interface COptions {
  readonly cc?: string;
  readonly cflags?: readonly string[];
  /** OpenMP threads for parallel loops. */
  readonly threads?: number;
  readonly compileTimeoutMs?: number;
  /**
   * The CPU to tune for instead of the one detected: its vector width and registers shape the
   * search space and the generated code, and its description keys the records. Kernels still run on
   * this machine (vector code wider than its registers is split by the compiler), so this serves
   * tests of records from other machines, not measurements of them.
   */
  readonly cpu?: CpuCapabilities;
}

/** The C compiler on this CPU: compiles candidates in parallel, runs each alone in its own process. */
export class CTarget implements Target<CCandidate, Compiled> {
  readonly name = 'c';
  readonly cpu: CpuCapabilities;
  readonly compiler: CompilerInfo;
  readonly cflags: readonly string[];
  readonly threads: number;
  readonly compileTimeoutMs: number;
  readonly fingerprint: CpuFingerprint;
  readonly settings: MeasureSettings;
  readonly warnings: readonly string[];

  constructor(settings: Partial<MeasureSettings> = {}, o: COptions = {}) {
    this.cpu = o.cpu ?? detectCpu();
    this.compiler = detectCompiler(o.cc ?? 'cc');
    this.cflags = o.cflags ?? defaultCFlags(this.cpu, this.compiler);
    this.threads = o.threads ?? 1;
    // More OpenMP threads than cores time-share them: slower, and noisier to measure.
    this.warnings = this.threads > this.cpu.cores ? [`--threads ${this.threads} is more than the ${this.cpu.cores} cores of this CPU; threads beyond ${this.cpu.cores} share cores and make kernels slower and timings noisier`] : [];
    this.compileTimeoutMs = o.compileTimeoutMs ?? 60_000;
    this.fingerprint = cpuFingerprint(this.cpu, this.compiler, this.cflags, this.threads);
    this.settings = measureSettings(settings, { referenceCompiler: this.compiler.command });
  }

  async open(): Promise<void> {}

  get description(): string {
    return `${this.cpu.model} (${this.compiler.command} ${this.compiler.version}, ${this.threads} thread${this.threads > 1 ? 's' : ''})`;
  }

  get capabilities() {
    return { capabilities: this.cpu, compiler: this.compiler, cflags: this.cflags };
  }

  get summary(): string[] {
    const c = this.cpu;
    return [
      `${c.model}: ${c.cores} cores, ${c.isa} (${c.vectorBits}-bit, ${c.f32Lanes} f32 lanes), caches L1d ${kb(c.cacheBytes.l1d)} L2 ${kb(c.cacheBytes.l2)} L3 ${kb(c.cacheBytes.l3)}`,
      `compiler ${this.compiler.versionLine}; flags ${this.cflags.join(' ')}`,
    ];
  }

  get spaceTarget(): SpaceTarget {
    return { kind: this.name, style: 'cpu', lanes: Math.max(1, this.cpu.f32Lanes), vectorRegisters: vectorRegistersFor(this.cpu.isa), threads: this.threads, maxInvocations: 1, maxWorkgroupDim: [1, 1, 1], maxWorkgroupBytes: 0 };
  }

  /**
   * Records from the same vector ISA and compiler family tune well here too, at any thread count:
   * they may stand in where this device has none (emit's fallback, with a warning), never as its own.
   */
  compatible(other: Readonly<Record<string, unknown>>): boolean {
    return other.isa === this.fingerprint.isa && other.compiler === this.fingerprint.compiler;
  }

  /** Rendered for this CPU's vector width. */
  candidate(p: Program): CCandidate {
    return cCandidate(p, Math.max(1, this.cpu.f32Lanes));
  }

  /** One compiler per core; a failed compile leaves nothing behind. */
  build(cs: readonly CCandidate[]): Promise<Built<Compiled>[]> {
    return pool(cs.map((c) => async (): Promise<Built<Compiled>> => {
      const bin = await compileC(c.compiled, { cc: this.compiler.command, cflags: this.cflags, openmp: c.kernel.usesOpenMP, timeoutMs: this.compileTimeoutMs });
      if (bin.status === 'ok') return { status: 'ok', artifact: bin, compileSeconds: bin.seconds };
      await dispose(bin);
      return { status: bin.status, message: bin.message, compileSeconds: bin.seconds };
    }), this.cpu.cores);
  }

  run(c: CCandidate, bin: Compiled, time: boolean, opts: RunOptions): Promise<RunResult> {
    const s = this.settings;
    // Passive waiting keeps idle OpenMP threads from spinning on a core another thread needs.
    const env = { ...process.env, OMP_NUM_THREADS: String(this.threads), OMP_WAIT_POLICY: 'passive', OMP_PROC_BIND: 'close' };
    return runHarness(c.kernel, bin, { seed: s.seed, minSeconds: time ? s.minSeconds : 0, maxRepeats: s.maxRepeats, warmup: s.warmup, timeoutMs: opts.timeoutMs, env });
  }

  release(bin: Compiled): Promise<void> {
    return dispose(bin);
  }

  async close(): Promise<void> {}
}

const kb = (n?: number) => (n === undefined ? '?' : n >= 1 << 20 ? `${n >> 20} MiB` : `${n >> 10} KiB`);

export const cTarget: TargetDefinition = {
  name: 'c',
  languages: ['c'],
  options: [
    { name: 'threads', default: '1', describe: 'c target: OpenMP threads for parallel loops' },
    { name: 'cc', default: 'cc', describe: 'c target: C compiler (gcc, clang, ...)' },
    { name: 'cflags', flagList: true, describe: 'c target: compiler flags, split like a shell command line (default: -O3 -march=native ... for this CPU)' },
  ],
  create(settings, o) {
    const cflags = o.cflags === undefined ? [] : parseCFlags(o.cflags);
    return new CTarget(settings, {
      ...(o.cc !== undefined ? { cc: String(o.cc) } : {}),
      ...(o.threads !== undefined ? { threads: integerOption('threads', o.threads, 1) } : {}),
      ...(cflags.length ? { cflags } : {}),
    });
  },
};
