import { ModelGraph } from '../graph/graph.js';
import { Layout, blockOf } from '../ops/layout.js';
import { ImportOptions, importOnnx } from './import.js';

/**
 * The activation layout a model runs best in, chosen from its shapes and the vector unit: a
 * channel block as wide as the vector (nchw16c on AVX-512's 16 f32 lanes, nchw8c on AVX2's 8)
 * makes a block of output channels one register, and a depthwise layer vectorizes across its
 * channels. Between the blocks that fit the vector, the one whose chain needs the fewest elements
 * relaid wins (MobileNetV2's 24-channel layers fill no 16-channel block, so each of them would
 * bring two relayouts; in blocks of 8 only the stem's output is relaid); ties go to the wider
 * block. A device without such vectors (a GPU's vec4 lanes, a scalar target) keeps NCHW.
 */
export function autoLayout(bytes: Uint8Array, opts: Omit<ImportOptions, 'layout'>, lanes: number): { layout: Layout; graph: ModelGraph } {
  const candidates = (['nchw16c', 'nchw8c'] as const).filter((l) => blockOf(l)! <= lanes);
  if (!candidates.length) return { layout: 'nchw', graph: importOnnx(bytes, { ...opts, layout: 'nchw' }) };
  const tried = candidates.map((layout) => {
    const graph = importOnnx(bytes, { ...opts, layout });
    return { layout, graph, relaid: relaidElements(graph) };
  });
  return tried.reduce((best, t) => (t.relaid < best.relaid ? t : best));
}

/** Elements the graph's relayout layers copy per inference. */
export function relaidElements(g: ModelGraph): number {
  return g.layers.filter((l) => l.workload.op.name === 'relayout').reduce((n, l) => {
    const p = l.workload.params;
    return n + p.n! * p.c! * p.h! * p.w!;
  }, 0);
}
