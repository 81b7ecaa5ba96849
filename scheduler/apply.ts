import { Program } from '../ir/program.js';
import { InputError } from '../ir/errors.js';
import { DEFAULT_CONTEXT, ScheduleContext } from './context.js';
import { definition } from './primitives/index.js';
import { Step, Trace } from './trace.js';

/**
 * One primitive: each checks its preconditions (ScheduleError), transforms, and rebuilds the
 * program through `program()`, which verifies every IR invariant again.
 */
export function applyStep(p: Program, s: Step, ctx: ScheduleContext = DEFAULT_CONTEXT): Program {
  return definition(s.prim).apply(p, s, ctx);
}

/** Replays a trace onto a freshly lowered program. */
export function applyTrace(p: Program, t: Trace, opts: { workload?: string; ctx?: ScheduleContext } = {}): Program {
  if (t.workload && opts.workload && t.workload !== opts.workload) {
    throw new InputError(`schedule was written for ${t.workload}, not ${opts.workload}; tune or write a schedule for this workload`);
  }
  return t.steps.reduce((q, s) => applyStep(q, s, opts.ctx), p);
}
