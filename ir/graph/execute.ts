import { Buffers, compileReference } from '../execute.js';
import { RunError } from '../errors.js';
import { lowerWorkload } from '../ops/index.js';
import { Program } from '../program.js';
import { ModelGraph } from './graph.js';

/**
 * The reference for a whole model: each layer's loop nest run by the reference executor, layer
 * after layer. Slow (plain JavaScript) but independent of every schedule and code generator.
 */
export function executeGraph(g: ModelGraph, input: Float32Array): Float32Array {
  const acts = new Map<string, Float32Array>([[g.input.name, input]]);
  // Per task (distinct workload): its loop nest and the reference compiled from it, made once.
  const tasks = new Map<string, { p: Program; run: (b: Buffers) => void }>();
  for (const l of g.layers) {
    let task = tasks.get(l.workload.key);
    if (!task) {
      const p = lowerWorkload(l.workload);
      tasks.set(l.workload.key, (task = { p, run: compileReference(p) }));
    }
    const { p, run } = task;
    const bufs: Buffers = {};
    for (const b of p.buffers) {
      if (b.role === 'output') {
        bufs[b.name] = new Float32Array(b.shape.reduce((x, y) => x * y, 1)).fill(NaN);
        continue;
      }
      const src = l.inputs[b.name];
      const data = !src ? undefined : 'tensor' in src ? acts.get(src.tensor) : g.constants.get(src.constant)?.data;
      if (!data) throw new RunError(`layer ${l.name}: input ${b.name} is not available`);
      bufs[b.name] = data;
    }
    run(bufs);
    acts.set(l.output, bufs[p.buffers.find((b) => b.role === 'output')!.name]!);
  }
  const out = acts.get(g.output.name);
  if (!out) throw new RunError(`model ${g.name}: its output ${g.output.name} was never computed`);
  return out;
}
