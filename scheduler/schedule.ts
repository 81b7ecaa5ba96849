import { Program } from '../ir/program.js';
import { applyStep } from './apply.js';
import { DEFAULT_CONTEXT, ScheduleContext } from './context.js';
import { BuilderArgs, Primitive, REGISTRY } from './primitives/index.js';
import { Step, Trace, trace } from './trace.js';

/** One method per registered primitive, `s.split(loop, factors, tail)`, with that primitive's arguments. */
type Builders = { readonly [P in Primitive]: (...args: BuilderArgs<P>) => Schedule };

/**
 * A schedule being written by hand: each call applies its primitive at once (so errors point at
 * the call that caused them) and records it, so the result is always a replayable trace.
 * `traceToTypeScript` prints a trace as calls on this builder.
 */
// The primitive methods are installed from the registry below, so a new primitive needs no method
// here; merging this interface into the class gives them their types.
export interface Schedule extends Builders {}
export class Schedule {
  private readonly steps: Step[] = [];
  constructor(private current: Program, private readonly workloadKey?: string, private readonly ctx: ScheduleContext = DEFAULT_CONTEXT) {}

  get program(): Program {
    return this.current;
  }

  get trace(): Trace {
    return trace([...this.steps], this.workloadKey);
  }

  apply(s: Step): this {
    this.current = applyStep(this.current, s, this.ctx);
    this.steps.push(s);
    return this;
  }
}

for (const def of REGISTRY) {
  const step = def.step as (...args: readonly unknown[]) => Step;
  Object.defineProperty(Schedule.prototype, def.prim, {
    value(this: Schedule, ...args: readonly unknown[]) {
      return this.apply(step(...args));
    },
  });
}
