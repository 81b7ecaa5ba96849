import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderC } from '../../codegen/c/render.js';
import { Dialect } from '../../codegen/cstyle/dialect.js';
import { lowerForCodegen } from '../../codegen/lower.js';
import { Buffers } from '../../ir/execute.js';
import { compileC, dispose } from '../../targets/c/build.js';
import { defaultCFlags, detectCompiler } from '../../targets/compiler.js';
import { detectCpu } from '../../targets/cpu-info.js';
import { exec } from '../../targets/exec.js';
import { Prepared } from './cases.js';
import { CJob, translationUnit } from './c-translation-unit.js';
import { blameCompiler } from './second-opinion.js';
import { Expected, KernelRunner, Verdict } from './verdict.js';

export interface CRunnerOptions {
  readonly inputSeed: number;
  /** A renderer variant (the planted-bug test); C's own tables otherwise. */
  readonly dialect?: Dialect;
  readonly cc?: string;
  readonly threads?: number;
}

/** Full unrolls of nested loops can make one kernel megabytes of C; such a kernel says little the others do not. */
const MAX_KERNEL_CHARS = 60_000;
const COMPILE_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 60_000;

interface Job extends CJob {
  readonly at: number;
  readonly prepared: Prepared;
}

const firstLine = (s: string) => s.trim().split('\n')[0] ?? '';

/**
 * The C target for the fuzzer: every kernel of a batch in one translation unit, compiled once
 * with the C target's flags for this CPU. A unit that does not compile is bisected down to the
 * kernels that break it; a kernel that crashes is charged to itself and the run goes on after it.
 */
export class CBatchRunner implements KernelRunner {
  readonly name = 'c';
  private readonly cc: string;
  private readonly cflags: readonly string[];
  private readonly lanes: number;
  private readonly expected: Expected;

  constructor(private readonly o: CRunnerOptions) {
    const cpu = detectCpu(), compiler = detectCompiler(o.cc ?? 'cc');
    this.cc = compiler.command;
    this.cflags = defaultCFlags(cpu, compiler);
    this.lanes = Math.max(1, cpu.f32Lanes);
    this.expected = new Expected(o.inputSeed);
  }

  async describe(): Promise<string> {
    return `${this.cc} ${this.cflags.join(' ')}, ${this.lanes} f32 lanes`;
  }

  async check(cases: readonly Prepared[]): Promise<Verdict[]> {
    const verdicts: Verdict[] = new Array(cases.length);
    const jobs: Job[] = [];
    cases.forEach((prepared, at) => {
      try {
        const kernel = renderC(lowerForCodegen(prepared.program, undefined, { prepare: true }), `fz${at}`, { lanes: this.lanes, ...(this.o.dialect ? { dialect: this.o.dialect } : {}) });
        if (kernel.definition.length > MAX_KERNEL_CHARS) verdicts[at] = { status: 'skipped', message: `${kernel.definition.length} characters of C` };
        else jobs.push({ at, prepared, kernel, positions: kernel.params.map((q) => prepared.program.buffers.findIndex((b) => b.name === q.name)) });
      } catch (e) {
        verdicts[at] = { status: 'codegen_error', message: firstLine(e instanceof Error ? `${e.name}: ${e.message}` : String(e)) };
      }
    });
    if (jobs.length) await this.build(jobs, verdicts);
    await this.secondOpinions(jobs, verdicts);
    return verdicts;
  }

  async close(): Promise<void> {}

  /** A wrong answer that only the optimizer produces, from C the sanitizers find clean, is the compiler's (second-opinion.ts). */
  private async secondOpinions(jobs: readonly Job[], verdicts: Verdict[]): Promise<void> {
    for (const j of jobs.filter((x) => verdicts[x.at]?.status === 'wrong_answer')) {
      const right = (raw: Buffer) => {
        const [outputs] = readRecords(raw, [j], 0);
        return outputs !== undefined && this.expected.judge(j.prepared, outputs).status === 'ok';
      };
      const b = await blameCompiler(j, this.cc, this.cflags, this.expected.inputSeed, right, this.o.threads ?? 2);
      if (b.compiler) verdicts[j.at] = { status: 'miscompiled', message: `${verdicts[j.at]!.status === 'wrong_answer' ? (verdicts[j.at] as { message: string }).message : ''}; ${b.message}` };
    }
  }

  /** Compiles `jobs` as one unit and runs it; on a compile failure, each half on its own. */
  private async build(jobs: readonly Job[], verdicts: Verdict[]): Promise<void> {
    const bin = await compileC(translationUnit(jobs), { cc: this.cc, cflags: this.cflags, openmp: jobs.some((j) => j.kernel.usesOpenMP), timeoutMs: COMPILE_TIMEOUT_MS });
    try {
      if (bin.status === 'ok') return await this.run(jobs, bin.binary, bin.dir, verdicts);
      if (jobs.length === 1) {
        verdicts[jobs[0]!.at] = { status: bin.status, message: bin.message };
        return;
      }
    } finally {
      await dispose(bin);
    }
    const half = Math.ceil(jobs.length / 2);
    await Promise.all([this.build(jobs.slice(0, half), verdicts), this.build(jobs.slice(half), verdicts)]);
  }

  /** Runs from the first kernel; after a crash or a hang, again from the kernel after the one in flight. */
  private async run(jobs: readonly Job[], binary: string, dir: string, verdicts: Verdict[]): Promise<void> {
    const out = join(dir, 'out.bin');
    const env = { ...process.env, OMP_NUM_THREADS: String(this.o.threads ?? 2), OMP_WAIT_POLICY: 'passive' };
    for (let first = 0; first < jobs.length;) {
      const x = await exec(binary, [String(this.expected.inputSeed), out, String(first)], { cwd: dir, timeoutMs: RUN_TIMEOUT_MS, env });
      const done = readRecords(await readFile(out).catch(() => Buffer.alloc(0)), jobs, first);
      done.forEach((outputs, k) => {
        const j = jobs[first + k]!;
        verdicts[j.at] = this.expected.judge(j.prepared, outputs);
      });
      const next = first + done.length;
      if (next === jobs.length) return;
      const why = x.timedOut ? `did not finish in ${RUN_TIMEOUT_MS / 1000} s` : x.signal ? `killed by ${x.signal}` : `exit status ${x.code}`;
      verdicts[jobs[next]!.at] = { status: x.timedOut ? 'run_timeout' : 'crash', message: `kernel ${why}${x.stderr ? `: ${firstLine(x.stderr)}` : ''}` };
      first = next + 1;
    }
  }
}

/** The complete records of the output file: per kernel its number, then its outputs in parameter order. */
function readRecords(raw: Buffer, jobs: readonly Job[], first: number): Buffers[] {
  const out: Buffers[] = [];
  let at = 0;
  for (let i = first; i < jobs.length; i++) {
    const outputs = jobs[i]!.kernel.params.filter((p) => p.role === 'output');
    const bytes = 4 + 4 * outputs.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    if (at + bytes > raw.length || raw.readUInt32LE(at) !== i) break;
    const b: Buffers = {};
    let off = at + 4;
    for (const p of outputs) {
      const n = p.shape.reduce((a, c) => a * c, 1);
      b[p.name] = new Float32Array(raw.buffer.slice(raw.byteOffset + off, raw.byteOffset + off + 4 * n));
      off += 4 * n;
    }
    out.push(b);
    at += bytes;
  }
  return out;
}
