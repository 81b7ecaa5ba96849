import { Program } from '../ir/program.js';
import { InputError } from '../ir/errors.js';
import { checkCodeSize } from './code-limits.js';
import { DEFAULT_CONTEXT, ScheduleContext } from './context.js';
import { definition } from './primitives/index.js';
import { Step, Trace } from './trace.js';

/**
 * One primitive: each checks its preconditions (ScheduleError), transforms, and rebuilds the
 * program through `program()`, which verifies every IR invariant again. Then the result must stay
 * within the code-size limits (scheduler/code-size.ts), whichever primitive grew it.
 */
export function applyStep(p: Program, s: Step, ctx: ScheduleContext = DEFAULT_CONTEXT): Program {
  const q = definition(s.prim).apply(p, s, ctx);
  checkCodeSize(q, stepLabel(s));
  return q;
}

/** `cacheRead(A, local, j.1)`: a step as the builder call that records it, for messages; long lists abbreviated. */
function stepLabel(s: Step): string {
  const show = (a: unknown): string => {
    if (Array.isArray(a)) return `[${a.length > 8 ? `${a.slice(0, 8).map(show).join(', ')}, ... (${a.length})` : a.map(show).join(', ')}]`;
    return typeof a === 'object' && a !== null ? JSON.stringify(a) : String(a);
  };
  return `${s.prim}(${(definition(s.prim).args(s) as readonly unknown[]).map(show).join(', ')})`;
}

/** Replays a trace onto a freshly lowered program. */
export function applyTrace(p: Program, t: Trace, opts: { workload?: string; ctx?: ScheduleContext } = {}): Program {
  if (t.workload && opts.workload && t.workload !== opts.workload) {
    throw new InputError(`schedule was written for ${t.workload}, not ${opts.workload}; tune or write a schedule for this workload`);
  }
  return t.steps.reduce((q, s) => applyStep(q, s, opts.ctx), p);
}
