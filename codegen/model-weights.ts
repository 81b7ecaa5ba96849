import { ModelGraph } from '../ir/graph/graph.js';

/**
 * The weights block every model module takes (C and WebGPU alike, so one `NAME.weights` file serves
 * both): the constants in the order the layers first use them, each starting 64-byte aligned.
 */
export interface WeightsLayout {
  readonly constants: readonly { name: string; offset: number; floats: number }[];
  readonly offset: ReadonlyMap<string, number>;
  readonly floats: number;
}

export function weightsLayout(g: ModelGraph): WeightsLayout {
  const constants: { name: string; offset: number; floats: number }[] = [];
  const offset = new Map<string, number>();
  let floats = 0;
  for (const l of g.layers) {
    for (const src of Object.values(l.inputs)) {
      if (!('constant' in src) || offset.has(src.constant)) continue;
      const n = g.constants.get(src.constant)!.data.length;
      offset.set(src.constant, floats);
      constants.push({ name: src.constant, offset: floats, floats: n });
      floats += Math.ceil(n / 16) * 16;
    }
  }
  return { constants, offset, floats };
}

/** The block itself, filled from the graph's constants. */
export function weightsBlock(g: ModelGraph, w: WeightsLayout): Float32Array {
  const out = new Float32Array(w.floats);
  for (const k of w.constants) out.set(g.constants.get(k.name)!.data, k.offset);
  return out;
}
