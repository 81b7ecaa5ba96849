import { Program } from '../ir/program.js';
import { InputError } from '../ir/errors.js';
import { DEFAULT_CONTEXT, ScheduleContext } from './context.js';
import { bind, parallel, unroll, vectorize } from './primitives/annotate.js';
import { cacheRead, cacheWrite } from './primitives/cache.js';
import { fuse } from './primitives/fuse.js';
import { reorder } from './primitives/reorder.js';
import { split } from './primitives/split.js';
import { tile } from './primitives/tile.js';
import { Step, Trace } from './trace.js';

/**
 * One primitive: each checks its preconditions (ScheduleError), transforms, and rebuilds the
 * program through `program()`, which verifies every IR invariant again.
 */
export function applyStep(p: Program, s: Step, ctx: ScheduleContext = DEFAULT_CONTEXT): Program {
  switch (s.prim) {
    case 'split': return split(p, s.loop, s.factors, s.tail);
    case 'tile': return tile(p, s.loops, s.factors, s.tail);
    case 'reorder': return reorder(p, s.loops);
    case 'fuse': return fuse(p, s.outer, s.inner);
    case 'vectorize': return vectorize(p, s.loop, ctx);
    case 'unroll': return unroll(p, s.loop, ctx, s.factor);
    case 'parallel': return parallel(p, s.loop);
    case 'bind': return bind(p, s.loop, s.axis);
    case 'cacheRead': return cacheRead(p, s.buffer, s.scope, s.at, ctx);
    case 'cacheWrite': return cacheWrite(p, s.buffer, s.scope, s.at, ctx);
  }
}

/** Replays a trace onto a freshly lowered program. */
export function applyTrace(p: Program, t: Trace, opts: { workload?: string; ctx?: ScheduleContext } = {}): Program {
  if (t.workload && opts.workload && t.workload !== opts.workload) {
    throw new InputError(`schedule was written for ${t.workload}, not ${opts.workload}; tune or write a schedule for this workload`);
  }
  return t.steps.reduce((q, s) => applyStep(q, s, opts.ctx), p);
}
