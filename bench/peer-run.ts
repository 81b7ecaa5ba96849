/**
 * One run of a peer library's C program (bench/c/*: OpenBLAS, oneDNN), the same way for every
 * peer: a bounded process whose failure is a status, and an output file checked against the
 * reference of loopsmith's own kernels before its times count.
 */
import { readFile } from 'node:fs/promises';
import type { Buffers } from '../ir/execute.js';
import { exec } from '../targets/exec.js';
import { ReferenceSpec } from '../targets/target.js';
import { compareOutputs, reductionLength } from '../targets/verify.js';
import { TimingStats, timingStats } from '../targets/stats.js';

/** A peer's figures for one workload: ok with its times, or why not. */
export interface PeerRun {
  readonly status: string;
  readonly stats?: TimingStats;
  readonly gflops?: number;
  /** What the peer chose (oneDNN's implementation), or why it has no figure. */
  readonly note?: string;
}

/** Runs a peer program (10 minutes at most) and parses the JSON it prints; a crash or a timeout is a failed run. */
export async function runPeerProgram<T extends object>(bin: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<T | PeerRun> {
  const r = await exec(bin, [...args], { timeoutMs: 600_000, env });
  if (r.timedOut) return { status: 'run_timeout', note: 'no result within 600 s' };
  if (r.code !== 0) return { status: 'crash', note: `${r.signal ?? `exit ${r.code}`}${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}` };
  return JSON.parse(r.stdout) as T;
}

/** The peer's output file against the reference (`want`), then its times: a wrong answer has none. `note` names what ran. */
export async function checkedPeerRun(out: string, times: readonly number[], want: Buffers, ref: ReferenceSpec, note?: string): Promise<PeerRun> {
  const raw = await readFile(out);
  const name = Object.keys(want)[0]!;
  const cmp = compareOutputs({ [name]: new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4) }, want, reductionLength(ref.unscheduled));
  if (!cmp.ok) return { status: 'wrong_answer', note: note ? `${note}: ${cmp.message}` : cmp.message };
  const stats = timingStats(times);
  return { status: 'ok', stats, gflops: ref.flops / stats.median / 1e9, ...(note ? { note } : {}) };
}
