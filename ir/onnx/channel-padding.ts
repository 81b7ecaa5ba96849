import { GraphProto, num } from './proto.js';

/**
 * Channel padding for blocked layouts, as ONNX Runtime's NCHWc transformer does it: a tensor whose
 * channels fill no whole block (MobileNetV2's 24 in blocks of 16) is stored with its channel count
 * rounded up to the block, the extra channels zero. The convolution that writes it gets zero filters
 * (and zero bias) for them, the convolutions that read it zero weights, so every value the model
 * computes is unchanged and the whole chain stays in one layout instead of falling back midway.
 *
 * Tensors are grouped into classes that must share one channel count: a BatchNormalization,
 * Relu, Clip, pool, Identity or Dropout writes what it reads, an Add joins its inputs and output, a
 * depthwise convolution reads and writes one channel per group. A class is padded when every
 * member's producers write zeros in the extra channels (a dense convolution, since ReLU, ReLU6, a
 * sum of zeros and a pool of zeros are zero) and every consumer can take them (a dense or depthwise
 * convolution, an Add, a pool, an activation); a class that reaches a GlobalAveragePool, Flatten,
 * Gemm, a grouped convolution, the model's input or output keeps its channels. Padding is taken only
 * where it costs at most half the channels again (24 -> 32, not 8 -> 16).
 *
 * Returns the padded channel count of each tensor that gets one (tensors absent keep theirs).
 */
export function paddedChannels(graph: GraphProto, weightDims: (name: string) => number[] | undefined, block: number): Map<string, number> {
  const parent = new Map<string, string>();
  const find = (t: string): string => {
    let r = t;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(t, r);
    return r;
  };
  const union = (a: string, b: string) => {
    const ra = find(a), rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  const unsafe = new Set<string>();
  /** A dense conv's output -> its channel count. */
  const channels = new Map<string, number>();
  for (const n of graph.node ?? []) {
    const ins = n.input ?? [];
    const out = (n.output ?? [])[0] ?? '';
    switch (n.opType) {
      case 'Identity': case 'Dropout': case 'BatchNormalization': case 'Relu': case 'Clip': case 'MaxPool': case 'AveragePool':
        union(ins[0]!, out);
        break;
      case 'Add':
        union(ins[0]!, out);
        union(ins[1]!, out);
        break;
      case 'Conv': {
        const w = weightDims(ins[1] ?? '');
        const g = n.attribute?.find((a) => a.name === 'group');
        const group = g ? num(g.i as number) : 1;
        if (!w) { unsafe.add(ins[0]!); unsafe.add(out); break; }
        if (group === 1) {
          channels.set(out, w[0]!);
        } else if (w[1] === 1 && w[0] === group) {
          union(ins[0]!, out); // depthwise: channel i in, channel i out
        } else {
          unsafe.add(ins[0]!);
          unsafe.add(out);
        }
        break;
      }
      default:
        // GlobalAveragePool, Flatten, Reshape, Gemm, MatMul, Constant, and anything the importer
        // will refuse: their inputs keep their channels.
        for (const i of ins) unsafe.add(i);
        if (out) unsafe.add(out);
    }
  }
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) unsafe.add(v.name ?? '');
  // A class is padded when no member is unsafe and dense convs write it (with one channel count);
  // every other producer is a class-preserving node or marked unsafe above.
  const members = new Map<string, string[]>();
  for (const t of new Set([...parent.keys(), ...channels.keys(), ...unsafe])) {
    const r = find(t);
    const list = members.get(r);
    if (list) list.push(t);
    else members.set(r, [t]);
  }
  const padded = new Map<string, number>();
  for (const ts of members.values()) {
    if (ts.some((t) => unsafe.has(t))) continue;
    const written = ts.flatMap((t) => channels.get(t) ?? []);
    if (written.length === 0 || new Set(written).size !== 1) continue;
    const c = written[0]!;
    const up = Math.ceil(c / block) * block;
    if (up === c || up > 1.5 * c) continue;
    for (const t of ts) padded.set(t, up);
  }
  return padded;
}
