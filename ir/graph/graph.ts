import { Workload } from '../ops/index.js';

/**
 * A model as loopsmith runs it: a chain of operator instances over named tensors, in an order in
 * which every layer's inputs are computed before it runs. Tensors are NCHW f32 buffers; a tensor
 * that only renames another (Flatten, Reshape, Identity) shares its buffer and is not a layer.
 */
export interface Constant {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface GraphLayer {
  /** The source nodes it came from, fused: `layer1.0.conv1+bn1+relu`. */
  readonly name: string;
  readonly workload: Workload;
  /** Each input placeholder of the workload: an activation tensor's name, or a constant's. */
  readonly inputs: Readonly<Record<string, { readonly tensor: string } | { readonly constant: string }>>;
  /** The tensor it writes (the workload's single output). */
  readonly output: string;
}

export interface ModelGraph {
  readonly name: string;
  readonly input: { readonly name: string; readonly shape: readonly number[] };
  /** The tensor holding the model's output, and the shape the model declares for it. */
  readonly output: { readonly name: string; readonly shape: readonly number[] };
  readonly layers: readonly GraphLayer[];
  readonly constants: ReadonlyMap<string, Constant>;
  /** Every activation tensor's element count, by buffer (aliases resolved). */
  readonly tensors: ReadonlyMap<string, number>;
}

/** A task: one distinct workload and the layers that run it (identical shapes tune once). */
export interface GraphTask {
  readonly workload: Workload;
  readonly layers: readonly GraphLayer[];
}

export function graphTasks(g: ModelGraph): GraphTask[] {
  const byKey = new Map<string, { workload: Workload; layers: GraphLayer[] }>();
  for (const l of g.layers) {
    const t = byKey.get(l.workload.key) ?? { workload: l.workload, layers: [] };
    t.layers.push(l);
    byKey.set(l.workload.key, t);
  }
  return [...byKey.values()];
}

export const graphFlops = (g: ModelGraph) => g.layers.reduce((a, l) => a + l.workload.flops, 0);
