import { ModelGraph } from '../graph/graph.js';
import { Layout, layoutOf } from '../ops/layout.js';
import { ImportOptions, importOnnx } from './import.js';

/**
 * The activation layout a model runs best in, chosen from its shapes and the vector unit. A channel
 * block as wide as the vector (nchw16c on AVX-512's 16 f32 lanes, nchw8c on AVX2's 8) makes a block
 * of output channels one register and lets a depthwise layer vectorize across its channels; it is
 * chosen when the whole chain can stay in it: every relayout the import needs converts from NCHW
 * (after the input or a stem whose few channels fill no block). Channels that fill no block are
 * padded where the graph allows (channel-padding.ts: MobileNetV2's 24 become 32, so it runs in
 * nchw16c on AVX-512). A chain that would still leave the block midway keeps NCHW (in blocks of 8
 * on AVX-512 a pointwise layer runs on half-width vectors). A device without such vectors (a GPU's
 * vec4 lanes, a scalar target) keeps NCHW.
 */
export function autoLayout(bytes: Uint8Array, opts: Omit<ImportOptions, 'layout'>, lanes: number): { layout: Layout; graph: ModelGraph } {
  const block: Layout | undefined = lanes >= 16 ? 'nchw16c' : lanes >= 8 ? 'nchw8c' : undefined;
  if (block) {
    const graph = importOnnx(bytes, { ...opts, layout: block });
    if (wholeChain(graph)) return { layout: block, graph };
  }
  return { layout: 'nchw', graph: importOnnx(bytes, { ...opts, layout: 'nchw' }) };
}

/** Does every relayout of the graph convert from NCHW (into the chain), none between blocks or back midway? */
export function wholeChain(g: ModelGraph): boolean {
  return g.layers.every((l) => l.workload.op.name !== 'relayout' || (l.workload.params.from ?? 0) === 0 || l.output === g.output.name)
    && g.layers.some((l) => layoutOf(l.workload.params) !== 'nchw');
}
