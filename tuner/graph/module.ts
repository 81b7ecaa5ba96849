import { ModelGraph, graphTasks } from '../../ir/graph/graph.js';
import { ModelC, ModelKernel, renderModelC } from '../../codegen/model-c.js';
import { ModelTs, renderModelTs } from '../../codegen/model-ts.js';
import { RecordStore } from '../records.js';
import { weightsBlock, weightsLayout } from '../../codegen/model-weights.js';
import { ScheduleDevice, TaskSchedule, taskSchedule } from './schedules.js';

export interface ModelModule {
  readonly c: ModelC;
  /** The weights block `load` takes: the constants at their offsets. */
  readonly weights: Float32Array;
  /** By workload key. */
  readonly schedules: ReadonlyMap<string, TaskSchedule>;
}

/** A model's C module with each task's best schedule for the device, and its weights block. */
export function modelModule(g: ModelGraph, db: RecordStore, d: ScheduleDevice, opts: { name: string; banner: string[] }): ModelModule {
  const schedules = new Map(graphTasks(g).map((t) => [t.workload.key, taskSchedule(t, db, d)]));
  const kernels = new Map<string, ModelKernel>([...schedules].map(([k, s]) => [k, { program: s.program, origin: s.origin }]));
  const c = renderModelC(g, kernels, { name: opts.name, lanes: d.spaceTarget.lanes, banner: opts.banner });
  return { c, weights: weightsBlock(g, weightsLayout(g)), schedules };
}


export interface ModelModuleTs {
  readonly ts: ModelTs;
  readonly weights: Float32Array;
  readonly schedules: ReadonlyMap<string, TaskSchedule>;
}

/** The WebGPU module (one TypeScript file) with each task's best schedule for the GPU. */
export function modelModuleTs(g: ModelGraph, db: RecordStore, d: ScheduleDevice, opts: { banner: string[] }): ModelModuleTs {
  const schedules = new Map(graphTasks(g).map((t) => [t.workload.key, taskSchedule(t, db, d)]));
  const ts = renderModelTs(g, new Map([...schedules].map(([k, s]) => [k, s.program])), opts);
  return { ts, weights: weightsBlock(g, weightsLayout(g)), schedules };
}
