import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelTs } from '../../codegen/model-ts.js';
import { tsMorph } from '../../codegen/ts-file.js';
import { RunError } from '../../ir/errors.js';
import { exec } from '../exec.js';

const CHILD = fileURLToPath(new URL('./model-child.js', import.meta.url));

export interface WebGpuModelRun {
  readonly output: Float32Array;
  /** Per call of the whole model (upload, every layer, read back), over `runs` timed calls; 0 when not timed. */
  readonly medianMs: number;
  readonly runs: number;
}

/**
 * Runs the module as a program would (its own `load` and `run`, transpiled from the emitted
 * TypeScript), in a child process with a time limit, on this machine's WebGPU adapter.
 */
export async function runModelWebGpu(m: ModelTs, weights: Float32Array, input: Float32Array, o: { minSeconds: number; timeoutMs?: number }): Promise<WebGpuModelRun> {
  const { ts } = tsMorph();
  const js = ts.transpileModule(m.source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  const dir = await mkdtemp(join(tmpdir(), 'loopsmith-gpumodel-'));
  try {
    await writeFile(join(dir, 'model.mjs'), js);
    await writeFile(join(dir, 'weights'), new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength));
    await writeFile(join(dir, 'input'), new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
    const timeoutMs = o.timeoutMs ?? 600_000;
    const r = await exec(process.execPath, [CHILD, dir, String(o.minSeconds)], { timeoutMs, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
    if (r.timedOut) throw new RunError(`the WebGPU model did not finish in ${timeoutMs / 1000} s`);
    if (r.code !== 0) throw new RunError(`the WebGPU model failed (exit ${r.code}): ${(r.error ?? r.stderr).trim().split('\n')[0]}`);
    const t = JSON.parse(r.stdout.trim().split('\n').pop()!) as { median: number; runs: number };
    const raw = await readFile(join(dir, 'output'));
    return { output: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), medianMs: t.median, runs: t.runs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
