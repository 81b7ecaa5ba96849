/**
 * A throwaway third target: the reference executor (ir/execute.ts) with timing. It shows what a
 * target must provide and nothing more; the shared pipeline verifies and times it like any other.
 */
import { Buffers, compileReference, execute, outputsOf, randomInputs } from '../../../ir/execute.js';
import { structuralHash } from '../../../ir/hash.js';
import { printProgram } from '../../../ir/print.js';
import { Program } from '../../../ir/program.js';
import { Built, Candidate, MeasureSettings, RunResult, Target, TargetDefinition, measureSettings } from '../../../targets/target.js';

type Kernel = (bufs: Buffers) => void;

class InterpTarget implements Target<Candidate, Kernel> {
  readonly name = 'interp';
  readonly settings: MeasureSettings;
  readonly fingerprint = { engine: 'node', version: process.version, key: `interp:${structuralHash({ engine: 'node', version: process.version })}` };
  readonly description = `the reference executor on Node ${process.version}`;
  readonly capabilities = {};
  readonly summary = [this.description];
  readonly spaceTarget = { kind: this.name, style: 'cpu', lanes: 1, threads: 1, maxInvocations: 1, maxWorkgroupDim: [1, 1, 1], maxWorkgroupBytes: 0 } as const;

  constructor(settings: Partial<MeasureSettings>) {
    this.settings = measureSettings(settings);
  }

  async open(): Promise<void> {}

  compatible(other: Readonly<Record<string, unknown>>): boolean {
    return other.engine === 'node';
  }

  candidate(p: Program): Candidate {
    return { program: p, source: printProgram(p) + '\n', codeHash: structuralHash(p) };
  }

  async build(cs: readonly Candidate[]): Promise<Built<Kernel>[]> {
    return cs.map((c) => ({ status: 'ok', artifact: compileReference(c.program) }));
  }

  async run(c: Candidate, kernel: Kernel, time: boolean): Promise<RunResult> {
    const { seed, warmup, minSeconds, maxRepeats } = this.settings;
    let bufs: Buffers;
    try {
      bufs = execute(c.program, randomInputs(c.program, seed));
    } catch (e) {
      return { status: 'crash', message: (e as Error).message };
    }
    if (!time) return { status: 'ok', outputs: outputsOf(c.program, bufs) };
    for (let i = 0; i < warmup; i++) kernel(bufs);
    const times: number[] = [];
    for (let total = 0; (times.length < 3 || total < minSeconds) && times.length < maxRepeats; total += times[times.length - 1]!) {
      const t0 = performance.now();
      kernel(bufs);
      times.push((performance.now() - t0) / 1000);
    }
    return { status: 'ok', outputs: outputsOf(c.program, bufs), times };
  }

  async release(): Promise<void> {}

  async close(): Promise<void> {}
}

export const interpTarget: TargetDefinition = {
  name: 'interp',
  languages: [],
  options: [],
  create: (settings) => new InterpTarget(settings),
};
