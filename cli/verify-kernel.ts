import { LoopsmithError, RunError } from '../ir/errors.js';
import { Workload } from '../ir/ops/index.js';
import { Program } from '../ir/program.js';
import { Trace, traceToTypeScript } from '../scheduler/trace.js';
import { TargetSet } from './target-set.js';

/** What emit is about to write, with what it was made from. */
export interface KernelToVerify {
  readonly workload: Workload;
  readonly unscheduled: Program;
  readonly program: Program;
  readonly trace: Trace;
  /** Where the schedule came from (a file, a record, the default). */
  readonly origin: string;
}

const MAX_TRACE_CHARS = 400;

/** The trace as builder calls on one line, cut short when long: enough to recognise and reproduce it. */
function traceLine(t: Trace): string {
  if (!t.steps.length) return 'no steps (the loop nest as lowered)';
  const calls = traceToTypeScript(t).split('\n').filter((l) => !l.startsWith('//')).join(' ').replace(/;$/, '');
  return calls.length <= MAX_TRACE_CHARS ? calls : `${calls.slice(0, MAX_TRACE_CHARS)}... (${t.steps.length} steps)`;
}

/**
 * Runs the kernel on `targetName` and compares it with the reference, as tune and run do; one that
 * is not right (a wrong answer, a compile error, a crash) is a RunError naming the workload, the
 * schedule and what went wrong, so that nothing gets written. With `onRejected`, one the device
 * refuses before running (over its limits) is passed to it instead.
 */
export async function verifyKernel(targets: TargetSet, targetName: string, k: KernelToVerify, label = '', onRejected?: (message: string) => void): Promise<void> {
  const w = k.workload;
  let pipeline;
  try {
    pipeline = await targets.pipeline(targetName);
  } catch (e) {
    if (e instanceof LoopsmithError) throw e;
    throw new RunError(`${label}cannot verify ${w.key} on target ${targetName}: ${(e as Error).message.split('\n')[0]}; nothing was written (--no-verify writes it unchecked)`);
  }
  let m;
  try {
    m = await pipeline.measureProgram(k.program, { key: w.key, unscheduled: k.unscheduled, flops: w.flops }, { time: false });
  } catch (e) {
    // The reference could not be computed: the kernel is unchecked, not wrong.
    if (e instanceof RunError) throw new RunError(`${label}${e.message}; nothing was written (--no-verify writes it unchecked)`);
    throw e;
  }
  if (m.status === 'ok') return;
  // A kernel over this device's limits was checked where it was tuned; the caller may accept that.
  if (m.status === 'rejected' && onRejected) return onRejected(`${m.message ?? 'rejected'} (${pipeline.target.description})`);
  throw new RunError(`${label}${w.key} fails verification on ${pipeline.target.description}: ${m.message ? `${m.status} (${m.message})` : m.status}; schedule (${k.origin}): ${traceLine(k.trace)}; nothing was written (--no-verify writes it anyway)`);
}
