/**
 * A small typed builder for CNN graphs in ONNX (opset 13, IR version 8), so that whole models can be
 * generated in the repo instead of downloaded. It tracks every tensor's shape (a conv needs to know
 * its in-channels; a test needs to know the output's shape) and fills weights from a seeded PRNG, so
 * the same code always yields the same bytes.
 */
import { rng } from '../../ir/random.js';
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';

// onnx-proto is CommonJS whose module.exports is `{ onnx }`: Node's ESM loader exposes it only as the
// default export (a named `import { onnx }` fails at load time). Types come from the named import.
export const { onnx } = onnxProto;
export type { Onnx };

export type Shape = readonly number[];

export interface ConvOptions {
  outChannels: number;
  kernel: [number, number];
  stride?: number;
  pad?: number;
  groups?: number;
  bias?: boolean;
}

export interface PoolOptions {
  kernel: number;
  stride?: number;
  pad?: number;
}


const FLOAT = onnx.TensorProto.DataType.FLOAT;
const A = onnx.AttributeProto.AttributeType;

/** Output size of a conv or pool window along one axis (floor mode, as ONNX's default ceil_mode=0). */
const outSize = (n: number, k: number, s: number, p: number) => Math.floor((n + 2 * p - k) / s) + 1;

export class OnnxBuilder {
  private readonly nodes: Onnx.INodeProto[] = [];
  private readonly inits: Onnx.ITensorProto[] = [];
  private readonly shapes = new Map<string, Shape>();
  private readonly outputs: string[] = [];
  private readonly counters = new Map<string, number>();
  private readonly rand: () => number;
  /** The graph's one input. */
  readonly input = 'input';

  constructor(readonly graphName: string, inputShape: Shape, seed = 1) {
    this.rand = rng(seed);
    this.shapes.set(this.input, [...inputShape]);
  }

  shapeOf(name: string): Shape {
    const s = this.shapes.get(name);
    if (!s) throw new Error(`onnx-builder: no tensor named ${name}`);
    return s;
  }

  /** Number of nodes so far. */
  get nodeCount(): number {
    return this.nodes.length;
  }

  conv(x: string, o: ConvOptions, name?: string): string {
    const [n, c, h, w] = this.nchw(x, 'Conv');
    const { outChannels: k, kernel: [kh, kw], stride = 1, pad = 0, groups = 1, bias = false } = o;
    if (c % groups || k % groups) throw new Error(`onnx-builder: ${c} in- and ${k} out-channels are not divisible by groups=${groups}`);
    const node = this.name(name, 'conv');
    const fanIn = (c / groups) * kh * kw;
    const inputs = [x, this.init(`${node}.weight`, [k, c / groups, kh, kw], this.he(fanIn))];
    if (bias) inputs.push(this.init(`${node}.bias`, [k], this.uniform(-0.1, 0.1)));
    return this.node('Conv', node, inputs, [n, k, outSize(h, kh, stride, pad), outSize(w, kw, stride, pad)], [
      ints('kernel_shape', [kh, kw]), ints('strides', [stride, stride]), ints('pads', [pad, pad, pad, pad]),
      ints('dilations', [1, 1]), int('group', groups),
    ]);
  }

  /**
   * Inference-mode BatchNormalization with random statistics in narrow ranges near identity, so that
   * it neither zeroes nor blows up activations (gamma/sqrt(var) stays within about [0.4, 2.1]).
   */
  batchNorm(x: string, name?: string): string {
    const [, c] = this.nchw(x, 'BatchNormalization');
    const node = this.name(name, 'bn');
    const p = (what: string, lo: number, hi: number) => this.init(`${node}.${what}`, [c], this.uniform(lo, hi));
    const inputs = [x, p('weight', 0.5, 1.5), p('bias', -0.1, 0.1), p('running_mean', -0.1, 0.1), p('running_var', 0.5, 1.5)];
    return this.node('BatchNormalization', node, inputs, this.shapeOf(x), [float('epsilon', 1e-5)]);
  }

  relu(x: string, name?: string): string {
    return this.node('Relu', this.name(name, 'relu'), [x], this.shapeOf(x));
  }

  /** ReLU6 as exported since opset 11: Clip with min and max as (shared) scalar initializer inputs. */
  clip6(x: string, name?: string): string {
    if (!this.shapes.has('clip.min')) {
      this.init('clip.min', [], () => 0);
      this.init('clip.max', [], () => 6);
    }
    return this.node('Clip', this.name(name, 'clip'), [x, 'clip.min', 'clip.max'], this.shapeOf(x));
  }

  /** Elementwise sum of two tensors of the same shape (no broadcasting: a residual connection). */
  add(a: string, b: string, name?: string): string {
    const sa = this.shapeOf(a), sb = this.shapeOf(b);
    if (sa.join() !== sb.join()) throw new Error(`onnx-builder: Add of ${a} [${sa}] and ${b} [${sb}]`);
    return this.node('Add', this.name(name, 'add'), [a, b], sa);
  }

  maxPool(x: string, o: PoolOptions, name?: string): string {
    const [n, c, h, w] = this.nchw(x, 'MaxPool');
    const { kernel: k, stride = 1, pad = 0 } = o;
    return this.node('MaxPool', this.name(name, 'maxpool'), [x], [n, c, outSize(h, k, stride, pad), outSize(w, k, stride, pad)], [
      ints('kernel_shape', [k, k]), ints('strides', [stride, stride]), ints('pads', [pad, pad, pad, pad]),
    ]);
  }

  globalAveragePool(x: string, name?: string): string {
    const [n, c] = this.nchw(x, 'GlobalAveragePool');
    return this.node('GlobalAveragePool', this.name(name, 'gap'), [x], [n, c, 1, 1]);
  }

  /** Flatten with axis 1: [N, everything else]. */
  flatten(x: string, name?: string): string {
    const [n, ...rest] = this.shapeOf(x);
    return this.node('Flatten', this.name(name, 'flatten'), [x], [n, rest.reduce((p, d) => p * d, 1)], [int('axis', 1)]);
  }

  /** A fully connected layer as PyTorch exports it: Gemm(x, B, C) with B = [N, K] and transB = 1. */
  gemm(x: string, o: { outFeatures: number }, name?: string): string {
    const s = this.shapeOf(x);
    if (s.length !== 2) throw new Error(`onnx-builder: Gemm wants a 2-D input, ${x} is [${s}]`);
    const [m, kIn] = s;
    const node = this.name(name, 'fc');
    const inputs = [x, this.init(`${node}.weight`, [o.outFeatures, kIn], this.he(kIn)), this.init(`${node}.bias`, [o.outFeatures], this.uniform(-0.1, 0.1))];
    return this.node('Gemm', node, inputs, [m, o.outFeatures], [float('alpha', 1), float('beta', 1), int('transB', 1)]);
  }

  /**
   * Any other single-input, shape-preserving operator (e.g. Softmax, HardSwish): lets a test build a
   * model with a node that an importer does not support.
   */
  unary(opType: string, x: string, attrs: Record<string, number> = {}, name?: string): string {
    const a = Object.entries(attrs).map(([k, v]) => (Number.isInteger(v) ? int(k, v) : float(k, v)));
    return this.node(opType, this.name(name, opType.toLowerCase()), [x], this.shapeOf(x), a);
  }

  /** Marks x as a graph output, renamed to `as` (its producing node is rewritten) when given. */
  output(x: string, as?: string): string {
    const shape = this.shapeOf(x);
    if (as !== undefined && as !== x) {
      if (this.shapes.has(as)) throw new Error(`onnx-builder: tensor name ${as} is taken`);
      const producer = this.nodes.find((n) => n.output?.[0] === x);
      if (!producer || this.nodes.some((n) => n.input?.includes(x))) throw new Error(`onnx-builder: cannot rename ${x}: not a node output, or already consumed`);
      producer.output = [as];
      this.shapes.delete(x);
      this.shapes.set(as, shape);
      x = as;
    }
    this.outputs.push(x);
    return x;
  }

  toModel(): Onnx.ModelProto {
    if (!this.outputs.length) throw new Error('onnx-builder: the graph has no output (call output())');
    const valueInfo = (name: string) => ({
      name,
      type: { tensorType: { elemType: FLOAT, shape: { dim: this.shapeOf(name).map((d) => ({ dimValue: d })) } } },
    });
    return onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      producerName: 'loopsmith',
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.inits,
        input: [valueInfo(this.input)],
        output: this.outputs.map(valueInfo),
      },
    });
  }

  toBytes(): Uint8Array {
    return onnx.ModelProto.encode(this.toModel()).finish();
  }

  // ---- internals ----

  private nchw(x: string, op: string): [number, number, number, number] {
    const s = this.shapeOf(x);
    if (s.length !== 4) throw new Error(`onnx-builder: ${op} wants an NCHW input, ${x} is [${s}]`);
    return [s[0], s[1], s[2], s[3]];
  }

  /** A unique node name: the caller's (checked), or `<prefix>_<k>`. Tensors take their node's name. */
  private name(given: string | undefined, prefix: string): string {
    if (given !== undefined) {
      if (this.shapes.has(given)) throw new Error(`onnx-builder: name ${given} is taken`);
      return given;
    }
    for (;;) {
      const k = this.counters.get(prefix) ?? 0;
      this.counters.set(prefix, k + 1);
      const n = `${prefix}_${k}`;
      if (!this.shapes.has(n)) return n;
    }
  }

  private node(opType: string, name: string, inputs: string[], shape: Shape, attribute: Onnx.IAttributeProto[] = []): string {
    for (const i of inputs) this.shapeOf(i);
    this.nodes.push({ name, opType, input: inputs, output: [name], attribute });
    this.shapes.set(name, [...shape]);
    return name;
  }

  /** A float initializer, stored as raw little-endian bytes (compact, and fast to encode for 11M weights). */
  private init(name: string, dims: number[], fill: () => number): string {
    if (this.shapes.has(name)) throw new Error(`onnx-builder: initializer ${name} is taken`);
    const data = new Float32Array(dims.reduce((p, d) => p * d, 1));
    for (let i = 0; i < data.length; i++) data[i] = fill();
    this.inits.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer) });
    this.shapes.set(name, dims);
    return name;
  }

  /**
   * He initialisation (std sqrt(2/fan_in)) drawn uniformly: a ReLU layer then keeps the second moment
   * of its activations, so 50 layers deep they neither explode nor vanish.
   */
  private he(fanIn: number): () => number {
    const bound = Math.sqrt(3) * Math.sqrt(2 / fanIn);
    return this.uniform(-bound, bound);
  }

  private uniform(lo: number, hi: number): () => number {
    return () => lo + (hi - lo) * this.rand();
  }
}

const ints = (name: string, v: number[]): Onnx.IAttributeProto => ({ name, type: A.INTS, ints: v });
const int = (name: string, v: number): Onnx.IAttributeProto => ({ name, type: A.INT, i: v });
const float = (name: string, v: number): Onnx.IAttributeProto => ({ name, type: A.FLOAT, f: v });
