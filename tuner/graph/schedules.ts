import { GraphTask } from '../../ir/graph/graph.js';
import { lowerWorkload } from '../../ir/ops/index.js';
import { Program } from '../../ir/program.js';
import { applyTrace } from '../../scheduler/apply.js';
import { Trace, trace } from '../../scheduler/trace.js';
import { RecordStore } from '../records.js';
import { SpaceTarget } from '../space.js';
import { expertSchedules } from '../starting-points.js';

/** The device a model is built for, as the records know it. */
export interface ScheduleDevice {
  readonly kind: string;
  readonly key: string;
  readonly spaceTarget: SpaceTarget;
  readonly compatible: (other: Record<string, unknown>) => boolean;
  /** The target's schedule for a nest given none (WebGPU's spreads it over invocations); absent: run as lowered. */
  readonly defaultTrace?: (unscheduled: Program, workload: string) => Trace;
}

export interface TaskSchedule {
  readonly trace: Trace;
  readonly program: Program;
  readonly origin: string;
  /** Recorded GFLOP/s of this schedule on the device, when it comes from a record. */
  readonly gflops?: number;
  readonly source: 'record' | 'compatible record' | 'expert' | 'default';
}

/**
 * Each task's schedule: its best record on this device, else on a compatible one, else the
 * hand-written expert schedule for its operator, else the unscheduled loop nest. Records were
 * verified when measured; the rest are checked with the whole model (emit-model, bench:models).
 */
export function taskSchedule(t: GraphTask, db: RecordStore, d: ScheduleDevice): TaskSchedule {
  const w = t.workload;
  const base = lowerWorkload(w);
  const hit = db.bestWithFallback(w.key, { kind: d.kind, key: d.key }, d.compatible);
  if (hit) {
    const g = hit.record.outcome.gflops;
    const exact = hit.match === 'exact';
    return {
      trace: hit.record.trace, program: applyTrace(base, hit.record.trace, { workload: w.key }),
      origin: `record ${hit.record.id}${g ? `, ${g.toFixed(1)} GFLOP/s` : ''}${exact ? '' : ' on a compatible device'}`,
      ...(g ? { gflops: g } : {}), source: exact ? 'record' : 'compatible record',
    };
  }
  for (const e of expertSchedules(w, d.spaceTarget)) {
    try {
      return { trace: e.trace, program: applyTrace(base, e.trace, { workload: w.key }), origin: `${e.label} (no record)`, source: 'expert' };
    } catch {
      // An expert that does not apply to this shape: the next one, or the default.
    }
  }
  const t0 = d.defaultTrace?.(base, w.key) ?? trace([], w.key);
  return { trace: t0, program: applyTrace(base, t0, { workload: w.key }), origin: `${d.defaultTrace ? 'the target\'s default schedule' : 'unscheduled loop nest'} (no record)`, source: 'default' };
}
