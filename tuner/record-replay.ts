import { LoopsmithError } from '../ir/errors.js';
import { lowerWorkload, workload } from '../ir/ops/index.js';
import { Program } from '../ir/program.js';
import { applyTrace } from '../scheduler/apply.js';
import { TuningRecord } from './record.js';
import { traceHash } from './space.js';

/**
 * Does a record's trace replay onto its workload? Replaying costs 0.15-0.8 ms a record (5,000
 * sampled traces on the 2-core CI machine: gemm 512 on the CPU 0.8 s, conv2d 64x56x56 3x3 on the
 * CPU 2.5 s, on the GPU 4 s), so checking every record on load would add seconds to `records
 * list`, `report` and every tune start on a big file. Records are replayed only where one is used
 * (best, emit, compare, warm start, resume, re-measure), and each (workload, trace) once: the key
 * is the hash of the trace itself, not the one the record claims, so a record cannot borrow
 * another's verdict.
 */
export class RecordReplays {
  private readonly programs = new Map<string, Program>();
  private readonly verdicts = new Map<string, string | undefined>();

  /** What keeps the record's trace from replaying onto its workload, or undefined when it replays. */
  problem(r: TuningRecord): string | undefined {
    const key = `${r.workload.key}\u0000${traceHash(r.trace)}`;
    if (!this.verdicts.has(key)) this.verdicts.set(key, this.replay(r));
    return this.verdicts.get(key);
  }

  private replay(r: TuningRecord): string | undefined {
    try {
      applyTrace(this.program(r), r.trace, { workload: r.workload.key });
      return undefined;
    } catch (e) {
      if (e instanceof LoopsmithError) return e.message;
      throw e;
    }
  }

  /** Loading a record already checked that its op and params give its workload key. */
  private program(r: TuningRecord): Program {
    let p = this.programs.get(r.workload.key);
    if (!p) {
      const { op, params, dtype } = r.workload;
      p = lowerWorkload(workload(op, params, dtype));
      this.programs.set(r.workload.key, p);
    }
    return p;
  }
}
