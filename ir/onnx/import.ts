import { InputError } from '../errors.js';
import { Workload, workload } from '../ops/index.js';
import { Constant, GraphLayer, ModelGraph } from '../graph/graph.js';
import { ModelProto, NodeProto, attributes, decodeModel, num, tensorValues } from './proto.js';
import { Layout, X_LAYOUTS, blockOf, layoutMisfit, layoutNumber, layoutOf } from '../ops/layout.js';
import { paddedChannels } from './channel-padding.js';

/**
 * ONNX graph -> loopsmith graph. Every Conv (dense, grouped, depthwise, strided, dilated), Gemm and
 * MatMul becomes a `conv2d_fused` layer (a Gemm is a 1x1 convolution over a 1x1 image), and what a
 * framework would fuse into it is fused: a BatchNormalization folded into its weights and bias, an
 * Add of another tensor (the skip connection), a Relu or Clip(0, 6). Pools become `max_pool2d` and
 * `avg_pool2d`; Flatten, Reshape, Identity and Dropout rename a buffer. Weights are constant
 * (prepack 1): packed once at load. A node outside this set stops the import with one line naming it.
 */
export const SUPPORTED_NODES = [
  'Conv', 'Gemm', 'MatMul', 'BatchNormalization', 'Relu', 'Clip', 'Add', 'MaxPool', 'AveragePool', 'GlobalAveragePool',
  'Flatten', 'Reshape', 'Identity', 'Dropout', 'Constant',
] as const;

export interface ImportOptions {
  /** The model's name in messages and emitted files; the file's stem by default. */
  readonly name: string;
  /** Where the bytes came from, for messages. */
  readonly source: string;
  /**
   * The activation layout of the layers (default nchw). With nhwc or a blocked layout (nchw16c,
   * nchw8c) the chain of convs and pools runs in it and relayout layers convert at its edges: after
   * the NCHW input, and before a Flatten/Reshape (or the output) of a tensor with more than one
   * pixel. Channels that fill no block are padded with zeros where the graph allows (padChannels);
   * a conv whose channels still do not fill the blocks (the first layer's 3) takes the next smaller
   * block that fits, else NCHW; a pool keeps its input's layout.
   */
  readonly layout?: Layout;
  /**
   * In a blocked layout, store tensors whose channels fill no whole block with the count rounded up
   * (zeros in the extra channels; see channel-padding.ts), so the chain stays in the block. Default on.
   */
  readonly padChannels?: boolean;
}

/** A layer being built: epilogue steps attach to the conv that produced their input. */
interface Pending {
  name: string;
  op: string;
  params: Record<string, number>;
  inputs: Record<string, { tensor: string } | { constant: string }>;
  output: string;
  /** conv2d_fused weights and bias, still open to a BatchNormalization fold. */
  weights?: { W: Float32Array; wShape: number[]; bias: Float32Array | undefined };
}

export function importOnnx(bytes: Uint8Array, opts: ImportOptions): ModelGraph {
  return new Importer(decodeModel(bytes, opts.source), opts).run();
}

class Importer {
  private readonly consts = new Map<string, { dims: number[]; values: Float32Array | number[] }>();
  private readonly shapes = new Map<string, number[]>();
  /** Tensor -> the buffer it names (itself unless a Flatten/Reshape/Identity renamed it). */
  private readonly alias = new Map<string, string>();
  private readonly consumers = new Map<string, number>();
  private readonly layers: Pending[] = [];
  /** Tensor -> the layer that writes it. */
  private readonly producer = new Map<string, Pending>();
  private readonly constants = new Map<string, Constant>();
  /** Each buffer's layout (the input's is NCHW), and a buffer's copy in the other layout once made. */
  private readonly layouts = new Map<string, Layout>();
  private readonly relaid = new Map<string, string>();
  private readonly layout: Layout;
  /** Tensor -> its stored (padded) channel count, where it has one; and each padded tensor's real count. */
  private padded = new Map<string, number>();
  private readonly real = new Map<string, number>();

  constructor(private readonly model: ModelProto, private readonly opts: ImportOptions) {
    this.layout = opts.layout ?? 'nchw';
  }

  /** The buffer of activation `t` in layout `want`: itself, or a relayout layer's output (made once). */
  private inLayout(t: string, want: Layout = this.layout): string {
    const b = this.buffer(t);
    const have = this.layouts.get(b) ?? 'nchw';
    const s = this.shapes.get(t)!;
    // One pixel (or one channel): both layouts are the same bytes.
    if (have === want || s.length !== 4 || s[1] === 1 || s[2]! * s[3]! === 1) return b;
    const key = `${b}>${want}`;
    const done = this.relaid.get(key);
    if (done) return done;
    const out = `${b}.${want}`;
    this.shapes.set(out, s);
    this.layouts.set(out, want);
    this.consumers.set(out, 1);
    const from: Record<string, number> = have === 'nchw' ? {} : { from: layoutNumber(have) };
    this.add({ name: `relayout ${b} to ${want}`, op: 'relayout', params: { n: s[0]!, c: s[1]!, h: s[2]!, w: s[3]!, layout: layoutNumber(want), ...from }, inputs: { X: { tensor: b } }, output: out });
    this.relaid.set(key, out);
    return out;
  }

  /**
   * The layout a conv of c input and k output channels runs in: the model's, else the widest block
   * that fits, else NCHW. A dense conv whose input is not blocked and whose input channels fill no
   * block while its outputs do (a 3-channel stem) reads its input where it is (`from`) and writes
   * the block: no relayout between the image and the chain.
   */
  private convLayout(c: number, k: number, groups: number, have: Layout): { layout: Layout; from?: Layout } {
    const b = blockOf(this.layout);
    const tries: Layout[] = b === undefined ? [this.layout] : [this.layout, ...(b > 8 ? ['nchw8c' as const] : [])];
    const same = tries.find((l) => layoutMisfit(l, { c, k }) === undefined);
    if (same !== this.layout && b !== undefined && groups === 1 && blockOf(have) === undefined) {
      const mixed = tries.find((l) => layoutMisfit(l, { k }) === undefined);
      if (mixed && (same === undefined || blockOf(mixed)! > blockOf(same)!)) return { layout: mixed, from: have };
    }
    return { layout: same ?? 'nchw' };
  }

  private static param(l: Layout): Record<string, number> {
    return l === 'nchw' ? {} : { layout: layoutNumber(l) };
  }

  run(): ModelGraph {
    const g = this.model.graph!;
    for (const t of g.initializer ?? []) this.consts.set(t.name ?? '', tensorValues(t, this.opts.source));
    // Constant nodes read nothing: folded first, so channel padding sees their weights too.
    for (const n of g.node ?? []) if (n.opType === 'Constant') this.constantNode(n);
    const block = blockOf(this.layout);
    if (block !== undefined && this.opts.padChannels !== false) this.padded = paddedChannels(g, (t) => this.consts.get(t)?.dims, block);
    const inputs = (g.input ?? []).filter((v) => !this.consts.has(v.name ?? ''));
    if (inputs.length !== 1) throw new InputError(`${this.opts.source}: loopsmith imports models with one input; this one has ${inputs.length} (${inputs.map((v) => v.name).join(', ')})`);
    if ((g.output ?? []).length !== 1) throw new InputError(`${this.opts.source}: loopsmith imports models with one output; this one has ${(g.output ?? []).length}`);
    const input = inputs[0]!;
    const inShape = this.declaredShape(input, 'input');
    if (inShape.length !== 4) throw new InputError(`${this.opts.source}: input ${input.name} has shape [${inShape.join(', ')}]; loopsmith imports image models with an NCHW input`);
    this.shapes.set(input.name!, inShape);
    for (const n of g.node ?? []) for (const i of n.input ?? []) this.consumers.set(i, (this.consumers.get(i) ?? 0) + 1);
    for (const o of g.output ?? []) this.consumers.set(o.name!, (this.consumers.get(o.name!) ?? 0) + 1);
    const unsupported = (g.node ?? []).filter((n) => !(SUPPORTED_NODES as readonly string[]).includes(n.opType ?? ''));
    if (unsupported.length > 0) {
      const kinds = [...new Set(unsupported.map((n) => n.opType))];
      throw new InputError(`${this.opts.source}: cannot import ${unsupported.length} node${unsupported.length > 1 ? 's' : ''} of type ${kinds.join(', ')} (first: '${this.nodeName(unsupported[0]!)}'); loopsmith imports ${SUPPORTED_NODES.join(', ')}`);
    }
    for (const n of g.node ?? []) this.node(n);
    const outName = g.output![0]!.name!;
    if (!this.shapes.has(outName)) throw new InputError(`${this.opts.source}: the output ${outName} is not computed by any node`);
    const outBuffer = this.inLayout(outName, 'nchw');
    if (!this.producer.has(outBuffer)) throw new InputError(`${this.opts.source}: the output ${outName} is not computed by any layer`);
    const declared = this.declaredShape(g.output![0]!, 'output', this.shapes.get(outName));
    return {
      name: this.opts.name,
      input: { name: input.name!, shape: inShape },
      output: { name: outBuffer, shape: declared },
      layers: this.layers.map((l) => this.finish(l)),
      constants: this.constants,
      tensors: new Map([[input.name!, count(inShape)], ...this.layers.map((l) => [l.output, count(this.shapes.get(l.output)!)] as [string, number])]),
    };
  }

  private declaredShape(v: { name?: string | null; type?: { tensorType?: { shape?: { dim?: { dimValue?: unknown; dimParam?: string | null }[] | null } | null } | null } | null }, what: string, fallback?: number[]): number[] {
    const dims = v.type?.tensorType?.shape?.dim;
    if (!dims) {
      if (fallback) return fallback;
      throw new InputError(`${this.opts.source}: the ${what} ${v.name} declares no shape`);
    }
    // A symbolic batch (`N`, `batch_size`) is run at 1: loopsmith tunes for one shape.
    return dims.map((d, i) => {
      const n = num(d.dimValue as number);
      if (n > 0) return n;
      if (i === 0) return 1;
      if (fallback) return fallback[i]!;
      throw new InputError(`${this.opts.source}: the ${what} ${v.name} has a symbolic dimension ${i} (${d.dimParam ?? '?'}); loopsmith needs fixed sizes beyond the batch`);
    });
  }

  private nodeName(n: NodeProto): string {
    return n.name || `${n.opType}(${(n.output ?? []).join(',')})`;
  }

  private buffer(t: string): string {
    return this.alias.get(t) ?? t;
  }

  private fail(n: NodeProto, why: string): never {
    throw new InputError(`${this.opts.source}: node '${this.nodeName(n)}' (${n.opType}): ${why}`);
  }

  private shape(n: NodeProto, t: string): number[] {
    const s = this.shapes.get(t);
    if (!s) this.fail(n, `its input ${t} is ${this.consts.has(t) ? 'a constant; loopsmith takes activations there' : 'not computed by an earlier node'}`);
    return s;
  }

  private constant(n: NodeProto, t: string | undefined, what: string): { dims: number[]; values: Float32Array | number[] } {
    const c = t ? this.consts.get(t) : undefined;
    if (!c) this.fail(n, `its ${what} (${t ?? 'absent'}) must be a constant (an initializer or a Constant node)`);
    return c;
  }

  /** The pending layer writing `t`, when nothing else reads `t` and no activation was applied yet. */
  private fusable(t: string, step: 'bn' | 'add' | 'act'): Pending | undefined {
    const l = this.producer.get(t);
    if (!l || l.op !== 'conv2d_fused' || l.output !== t || this.consumers.get(t) !== 1) return undefined;
    if (l.params.act !== 0) return undefined;
    if (step === 'bn' && (l.params.residual === 1 || !l.weights)) return undefined;
    if (step === 'add' && l.params.residual === 1) return undefined;
    return l;
  }

  private rename(l: Pending, from: string, to: string, node: NodeProto): void {
    this.producer.delete(from);
    if (this.real.has(from)) this.real.set(to, this.real.get(from)!);
    this.shapes.set(to, this.shapes.get(from)!);
    this.layouts.set(to, this.layouts.get(from) ?? 'nchw');
    l.output = to;
    l.name += `+${node.name || node.opType}`;
    this.producer.set(to, l);
  }

  private add(l: Pending): void {
    this.layouts.set(l.output, l.op === 'relayout' ? this.layouts.get(l.output)! : layoutOf(l.params));
    this.layers.push(l);
    this.producer.set(l.output, l);
  }

  private constantNode(n: NodeProto): void {
    const t = attributes(n).tensor('value');
    if (!t) this.fail(n, 'only the tensor form (attribute value) is supported');
    this.consts.set((n.output ?? [])[0]!, tensorValues(t, this.opts.source));
  }

  private node(n: NodeProto): void {
    const a = attributes(n);
    const ins = n.input ?? [];
    const out = (n.output ?? [])[0]!;
    switch (n.opType) {
      case 'Constant': return; // folded before the walk (run)
      case 'Identity': case 'Dropout':
        this.alias.set(out, this.buffer(ins[0]!));
        this.shapes.set(out, this.shape(n, ins[0]!));
        return;
      case 'Flatten': {
        const s = this.shape(n, ins[0]!);
        const axis = a.int('axis', 1);
        const ax = axis < 0 ? axis + s.length : axis;
        // Flattening reads the bytes in NCHW order.
        this.alias.set(out, this.inLayout(ins[0]!, 'nchw'));
        this.shapes.set(out, [count(s.slice(0, ax)), count(s.slice(ax))]);
        return;
      }
      case 'Reshape': {
        const s = this.shape(n, ins[0]!);
        const want = [...this.constant(n, ins[1], 'shape').values].map(Number);
        const known = want.map((d, i) => (d === 0 ? s[i]! : d));
        const rest = count(s) / count(known.filter((d) => d !== -1));
        this.alias.set(out, this.inLayout(ins[0]!, 'nchw'));
        this.shapes.set(out, known.map((d) => (d === -1 ? rest : d)));
        return;
      }
      case 'Conv': return this.conv(n);
      case 'Gemm': case 'MatMul': return this.gemm(n);
      case 'BatchNormalization': return this.batchNorm(n);
      case 'Relu': case 'Clip': return this.activation(n);
      case 'Add': return this.addNode(n);
      case 'MaxPool': case 'AveragePool': case 'GlobalAveragePool': return this.pool(n);
    }
  }

  private conv(n: NodeProto): void {
    const a = attributes(n);
    const [xName, wName, bName] = n.input ?? [];
    const x = this.shape(n, xName!);
    if (x.length !== 4) this.fail(n, `input of rank ${x.length}; loopsmith imports 2-d convolutions (rank-4 tensors)`);
    const w = this.constant(n, wName, 'weight');
    const [k, cpg, kh, kw] = w.dims as [number, number, number, number];
    const group = a.int('group', 1);
    const strides = a.ints('strides', [1, 1]);
    const pads = a.ints('pads', [0, 0, 0, 0]);
    const dil = a.ints('dilations', [1, 1]);
    const autoPad = a.string('auto_pad', 'NOTSET');
    if (autoPad !== 'NOTSET') this.fail(n, `auto_pad=${autoPad}; loopsmith takes explicit pads (re-export with explicit padding)`);
    if (new Set(strides).size > 1 || new Set(pads).size > 1 || new Set(dil).size > 1) {
      this.fail(n, `strides [${strides}], pads [${pads}], dilations [${dil}]: loopsmith's convolutions take one stride, pad and dilation for both axes`);
    }
    const c = this.realChannels(xName!);
    if (cpg * group !== c) this.fail(n, `weights [${w.dims}] with group ${group} do not match ${c} input channels`);
    const bias = bName ? Float32Array.from(this.constant(n, bName, 'bias').values) : undefined;
    // Padded channels (channel-padding.ts): zero filters for the extra outputs, zero weights for the
    // extra inputs; a depthwise conv grows by whole groups.
    const out = (n.output ?? [])[0]!;
    const kp = this.padded.get(out) ?? k;
    const depthwise = group > 1 && cpg === 1 && k === group;
    const cp = x[1]!, groups = depthwise ? kp : group, cpgp = depthwise ? 1 : cp / group;
    if (kp !== k) this.real.set(out, k);
    const W = padWeights(Float32Array.from(w.values), [k, cpg, kh, kw], kp, cpgp);
    const b = bias && kp !== k ? Float32Array.from({ length: kp }, (_, i) => (i < k ? bias[i]! : 0)) : bias;
    this.convLayer(n, xName!, { n: x[0]!, c: cp, h: x[2]!, w: x[3]!, k: kp, kh, kw, stride: strides[0]!, pad: pads[0]!, dilation: dil[0]!, groups },
      W, [kp, cpgp, kh, kw], b);
  }

  /** The channels tensor `t` holds in the model (its stored count less any padding). */
  private realChannels(t: string): number {
    return this.real.get(this.buffer(t)) ?? this.real.get(t) ?? this.shapes.get(t)![1]!;
  }

  /** Gemm/MatMul with constant weights: a 1x1 convolution of the [M, K] input seen as [M, K, 1, 1]. */
  private gemm(n: NodeProto): void {
    const a = attributes(n);
    const [aName, bName, cName] = n.input ?? [];
    const A = this.shape(n, aName!);
    if (A.length !== 2) this.fail(n, `input A of shape [${A}]; loopsmith imports ${n.opType} of a 2-d input (after Flatten) by constant weights`);
    if (a.int('transA', 0) !== 0) this.fail(n, 'transA=1 is not supported (the input would be read transposed)');
    const B = this.constant(n, bName, 'B');
    const transB = n.opType === 'Gemm' ? a.int('transB', 0) : 0;
    const [M, K] = A as [number, number];
    const N = transB ? B.dims[0]! : B.dims[1]!;
    if ((transB ? B.dims[1] : B.dims[0]) !== K || B.dims.length !== 2) this.fail(n, `B of shape [${B.dims}] does not multiply A of shape [${A}]`);
    const alpha = a.float('alpha', 1), beta = a.float('beta', 1);
    // Weights as conv weights [N, K, 1, 1] = B^T (or B when transB), scaled by alpha.
    const W = new Float32Array(N * K);
    for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) W[j * K + k] = alpha * Number(transB ? B.values[j * K + k] : B.values[k * N + j]);
    let bias: Float32Array | undefined;
    if (cName) {
      const C = this.constant(n, cName, 'C');
      if (count(C.dims) !== N && count(C.dims) !== 1) this.fail(n, `C of shape [${C.dims}]: loopsmith takes a bias of ${N} values (or one)`);
      bias = Float32Array.from({ length: N }, (_, j) => beta * Number(C.values[count(C.dims) === 1 ? 0 : j]));
    }
    this.convLayer(n, aName!, { n: M, c: K, h: 1, w: 1, k: N, kh: 1, kw: 1, stride: 1, pad: 0, dilation: 1, groups: 1 }, W, [N, K, 1, 1], bias, [M, N]);
  }

  private convLayer(n: NodeProto, x: string, conv: Record<string, number>, W: Float32Array, wShape: number[], bias: Float32Array | undefined, outShape?: number[]): void {
    const out = (n.output ?? [])[0]!;
    const oh = Math.floor((conv.h! + 2 * conv.pad! - conv.dilation! * (conv.kh! - 1) - 1) / conv.stride!) + 1;
    const ow = Math.floor((conv.w! + 2 * conv.pad! - conv.dilation! * (conv.kw! - 1) - 1) / conv.stride!) + 1;
    this.shapes.set(out, outShape ?? [conv.n!, conv.k!, oh, ow]);
    const { layout, from } = this.convLayout(conv.c!, conv.k!, conv.groups!, this.layouts.get(this.buffer(x)) ?? 'nchw');
    this.add({
      name: this.nodeName(n), op: 'conv2d_fused',
      params: { ...conv, bias: 0, residual: 0, act: 0, prepack: 1, ...Importer.param(layout), ...(from ? { xlayout: X_LAYOUTS.indexOf(from) } : {}) },
      inputs: { X: { tensor: from ? this.buffer(x) : this.inLayout(x, layout) } }, output: out, weights: { W, wShape, bias },
    });
  }

  private batchNorm(n: NodeProto): void {
    const [x, sc, b, mean, v] = n.input ?? [];
    const l = this.fusable(x!, 'bn');
    if (!l) this.fail(n, 'loopsmith folds a BatchNormalization into the Conv or Gemm whose output it alone reads; this one follows something else');
    const eps = attributes(n).float('epsilon', 1e-5);
    const [g, beta, mu, va] = [sc, b, mean, v].map((t, i) => this.constant(n, t, ['scale', 'B', 'mean', 'var'][i]!).values);
    const k = l.weights!.wShape[0]!;
    const per = l.weights!.W.length / k;
    const bias = l.weights!.bias ?? new Float32Array(k);
    // Padded filters (channel-padding.ts) stay zero, their bias too.
    for (let o = 0; o < Math.min(k, g!.length); o++) {
      const s = Number(g![o]) / Math.sqrt(Number(va![o]) + eps);
      for (let i = 0; i < per; i++) l.weights!.W[o * per + i] = Math.fround(l.weights!.W[o * per + i]! * s);
      bias[o] = Math.fround((bias[o]! - Number(mu![o])) * s + Number(beta![o]));
    }
    l.weights!.bias = bias;
    this.rename(l, x!, (n.output ?? [])[0]!, n);
  }

  private activation(n: NodeProto): void {
    const [x, lo, hi] = n.input ?? [];
    let act = 1;
    if (n.opType === 'Clip') {
      const a = attributes(n);
      const min = lo ? Number(this.constant(n, lo, 'min').values[0]) : a.float('min', -Infinity);
      const max = hi ? Number(this.constant(n, hi, 'max').values[0]) : a.float('max', Infinity);
      if (min !== 0 || (max !== 6 && max !== Infinity)) this.fail(n, `Clip(${min}, ${max}): loopsmith fuses Clip(0, 6) (ReLU6) and Clip(0, inf) (ReLU)`);
      act = max === 6 ? 2 : 1;
    }
    const l = this.fusable(x!, 'act');
    if (!l) this.fail(n, `loopsmith applies ${n.opType} in the epilogue of the Conv, Gemm or Add whose output it alone reads; this one follows something else`);
    l.params.act = act;
    this.rename(l, x!, (n.output ?? [])[0]!, n);
  }

  /** Add: the skip connection joins the later of its two producers (the other is then computed). */
  private addNode(n: NodeProto): void {
    const [p, q] = (n.input ?? []) as [string, string];
    const sp = this.shape(n, p), sq = this.shape(n, q);
    if (sp.join() !== sq.join()) this.fail(n, `shapes [${sp}] and [${sq}]: loopsmith fuses an Add of two tensors of one shape (no broadcasting)`);
    const cands = [p, q].map((t) => ({ t, l: this.fusable(t, 'add') })).filter((c) => c.l !== undefined);
    cands.sort((u, v) => this.layers.indexOf(v.l!) - this.layers.indexOf(u.l!));
    const pick = cands[0];
    if (!pick) this.fail(n, 'loopsmith fuses an Add into the Conv or Gemm that produces one of its inputs (read by the Add alone); neither input is such an output');
    const other = pick.t === p ? q : p;
    // Nothing has read the picked layer's output but this Add: it may run last so far, after
    // whatever computes the other input.
    this.layers.splice(this.layers.indexOf(pick.l!), 1);
    this.layers.push(pick.l!);
    pick.l!.params.residual = 1;
    pick.l!.inputs.R = { tensor: this.inLayout(other, layoutOf(pick.l!.params)) };
    this.rename(pick.l!, pick.t, (n.output ?? [])[0]!, n);
  }

  private pool(n: NodeProto): void {
    const a = attributes(n);
    const x = (n.input ?? [])[0]!;
    const s = this.shape(n, x);
    if (s.length !== 4) this.fail(n, `input of rank ${s.length}; loopsmith pools rank-4 (NCHW) tensors`);
    const global = n.opType === 'GlobalAveragePool';
    const kernel = global ? [s[2]!, s[3]!] : a.ints('kernel_shape', []);
    const strides = global ? [1, 1] : a.ints('strides', [1, 1]);
    const pads = global ? [0, 0, 0, 0] : a.ints('pads', [0, 0, 0, 0]);
    if (!global) {
      if (a.string('auto_pad', 'NOTSET') !== 'NOTSET') this.fail(n, 'auto_pad is not supported; loopsmith takes explicit pads');
      if (a.int('ceil_mode', 0) !== 0) this.fail(n, 'ceil_mode=1 is not supported (loopsmith rounds output sizes down)');
      if (a.ints('dilations', [1, 1]).some((d) => d !== 1)) this.fail(n, 'dilated pooling is not supported');
      if (new Set(strides).size > 1 || new Set(pads).size > 1) this.fail(n, `strides [${strides}] and pads [${pads}]: loopsmith pools with one stride and pad for both axes`);
      if (n.opType === 'AveragePool' && pads[0]! > 0 && a.int('count_include_pad', 0) === 0) {
        this.fail(n, 'an average over padded windows that leaves the padding out (count_include_pad=0) is not supported; loopsmith counts the padding as zeros');
      }
    }
    const op = n.opType === 'MaxPool' ? 'max_pool2d' : 'avg_pool2d';
    const params = { n: s[0]!, c: s[1]!, h: s[2]!, w: s[3]!, kh: kernel[0]!, kw: kernel[1]!, stride: strides[0]!, pad: pads[0]! };
    const out = (n.output ?? [])[0]!;
    const oh = Math.floor((params.h + 2 * params.pad - params.kh) / params.stride) + 1;
    const ow = Math.floor((params.w + 2 * params.pad - params.kw) / params.stride) + 1;
    this.shapes.set(out, [params.n, params.c, oh, ow]);
    if (this.real.has(this.buffer(x))) this.real.set(out, this.real.get(this.buffer(x))!);
    // A pool runs in whatever layout its input has (every layout fits its channels).
    const b = this.buffer(x);
    const layout = this.layouts.get(b) ?? 'nchw';
    this.add({ name: this.nodeName(n), op, params: { ...params, ...Importer.param(layout) }, inputs: { X: { tensor: b } }, output: out });
  }

  private finish(l: Pending): GraphLayer {
    const inputs = { ...l.inputs };
    if (l.weights) {
      const W = `${l.name.split("+")[0]}.W`;
      this.constants.set(W, { shape: l.weights.wShape, data: l.weights.W });
      inputs.W = { constant: W };
      if (l.weights.bias) {
        const b = `${l.name.split("+")[0]}.bias`;
        this.constants.set(b, { shape: [l.weights.bias.length], data: l.weights.bias });
        inputs.bias = { constant: b };
        l.params.bias = 1;
      }
    }
    let w: Workload;
    try {
      w = workload(l.op, l.params);
    } catch (e) {
      throw new InputError(`${this.opts.source}: layer ${l.name}: ${(e as Error).message}`);
    }
    return { name: l.name, workload: w, inputs, output: l.output };
  }
}

const count = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** OIHW weights [k][cpg][kh][kw] grown to [kp][cpgp][kh][kw], the new filters and channels zero. */
function padWeights(W: Float32Array, [k, cpg, kh, kw]: number[], kp: number, cpgp: number): Float32Array {
  if (kp === k && cpgp === cpg) return W;
  const taps = kh! * kw!;
  const out = new Float32Array(kp * cpgp * taps);
  for (let o = 0; o < k!; o++) for (let i = 0; i < cpg!; i++) out.set(W.subarray((o * cpg! + i) * taps, (o * cpg! + i + 1) * taps), (o * cpgp + i) * taps);
  return out;
}
