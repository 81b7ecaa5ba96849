import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Buffers } from '../../ir/execute.js';
import { CKernel } from '../../codegen/c/render.js';
import { exec } from '../exec.js';
import { RunResult } from '../target.js';
import { Compiled } from './build.js';

export interface HarnessRun {
  readonly seed: number;
  /** 0: run once for the checker, no timing. */
  readonly minSeconds: number;
  readonly maxRepeats: number;
  readonly warmup: number;
  readonly timeoutMs: number;
  readonly env: NodeJS.ProcessEnv;
}

const firstLine = (s: string) => (s ? `: ${s.trim().split('\n')[0]}` : '');

/** Runs a compiled harness in its own process: a crash or a hang is this run's result, never an exception. */
export async function runHarness(kernel: CKernel, bin: Compiled, r: HarnessRun): Promise<RunResult> {
  const out = join(bin.dir, 'out.bin');
  const args = [r.seed, out, r.minSeconds, r.maxRepeats, r.warmup].map(String);
  const x = await exec(bin.binary, args, { cwd: bin.dir, timeoutMs: r.timeoutMs, env: r.env });
  if (x.timedOut) return { status: 'run_timeout', message: `kernel did not finish in ${r.timeoutMs / 1000} s` };
  if (x.signal) return { status: 'crash', message: `kernel killed by ${x.signal}${firstLine(x.stderr)}` };
  if (x.code !== 0) return { status: 'crash', message: `kernel exited with status ${x.code}${firstLine(x.stderr)}` };
  const outputs = splitOutputs(kernel, await readFile(out));
  const printed = JSON.parse(x.stdout) as { check: number; prepare?: number; times?: number[]; warming?: number };
  return {
    status: 'ok', outputs, checkSeconds: printed.check, ...(printed.prepare !== undefined ? { prepareSeconds: printed.prepare } : {}),
    ...(r.minSeconds > 0 ? { times: printed.times ?? [], warmingRuns: printed.warming ?? 0 } : {}),
  };
}

/** The harness writes the outputs one after another, in parameter order. */
function splitOutputs(kernel: CKernel, raw: Buffer): Buffers {
  const floats = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const outputs: Buffers = {};
  let at = 0;
  for (const q of kernel.params.filter((x) => x.role === 'output')) {
    const n = q.shape.reduce((a, b) => a * b, 1);
    outputs[q.name] = floats.slice(at, at + n);
    at += n;
  }
  return outputs;
}
