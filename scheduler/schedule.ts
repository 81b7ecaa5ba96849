import { GpuAxis, MemScope } from '../ir/loop.js';
import { Program } from '../ir/program.js';
import { applyStep } from './apply.js';
import { DEFAULT_CONTEXT, ScheduleContext } from './context.js';
import { Step, TailStrategy, Trace, trace } from './trace.js';

/**
 * A schedule being written by hand: each call applies its primitive at once (so errors point at
 * the call that caused them) and records it, so the result is always a replayable trace.
 */
export class Schedule {
  private steps: Step[] = [];
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

  split(loop: string, factors: number[], tail: TailStrategy = 'guard') { return this.apply({ prim: 'split', loop, factors, tail }); }
  tile(loops: string[], factors: number[], tail: TailStrategy = 'guard') { return this.apply({ prim: 'tile', loops, factors, tail }); }
  reorder(loops: string[]) { return this.apply({ prim: 'reorder', loops }); }
  fuse(outer: string, inner: string) { return this.apply({ prim: 'fuse', outer, inner }); }
  vectorize(loop: string) { return this.apply({ prim: 'vectorize', loop }); }
  unroll(loop: string, factor?: number) { return this.apply(factor === undefined ? { prim: 'unroll', loop } : { prim: 'unroll', loop, factor }); }
  parallel(loop: string) { return this.apply({ prim: 'parallel', loop }); }
  bind(loop: string, axis: GpuAxis) { return this.apply({ prim: 'bind', loop, axis }); }
  cacheRead(buffer: string, scope: Exclude<MemScope, 'global'>, at: string) { return this.apply({ prim: 'cacheRead', buffer, scope, at }); }
  cacheWrite(buffer: string, scope: Exclude<MemScope, 'global'>, at: string) { return this.apply({ prim: 'cacheWrite', buffer, scope, at }); }
}
