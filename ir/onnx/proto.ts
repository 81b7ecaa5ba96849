import onnxProto from 'onnx-proto';
import { InputError } from '../errors.js';

/** onnx-proto's generated classes (protobufjs); CommonJS, so reached through its default export. */
export const onnx = onnxProto.onnx;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ModelProto = onnxProto.onnx.IModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;

const FLOAT = 1, INT64 = 7, INT32 = 6, DOUBLE = 11;

export const num = (v: number | { toNumber(): number } | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();

export function decodeModel(bytes: Uint8Array, source: string): ModelProto {
  try {
    const m = onnx.ModelProto.decode(bytes);
    if (!m.graph) throw new Error('no graph');
    return m;
  } catch (e) {
    throw new InputError(`${source} is not an ONNX model (${(e as Error).message.split('\n')[0]})`);
  }
}

/** A tensor's values as numbers: f32 for weights, i64/i32 for shapes; raw_data is little-endian. */
export function tensorValues(t: TensorProto, where: string): { dims: number[]; values: Float32Array | number[] } {
  const dims = (t.dims ?? []).map(num);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length > 0 ? new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength) : undefined;
  switch (t.dataType) {
    case FLOAT: {
      if (raw) {
        const out = new Float32Array(count);
        for (let i = 0; i < count; i++) out[i] = raw.getFloat32(4 * i, true);
        return { dims, values: out };
      }
      return { dims, values: Float32Array.from(t.floatData ?? []) };
    }
    case DOUBLE:
      return { dims, values: raw ? Float32Array.from({ length: count }, (_, i) => raw.getFloat64(8 * i, true)) : Float32Array.from(t.doubleData ?? []) };
    case INT64:
      return { dims, values: raw ? Array.from({ length: count }, (_, i) => Number(raw.getBigInt64(8 * i, true))) : (t.int64Data ?? []).map(num) };
    case INT32:
      return { dims, values: raw ? Array.from({ length: count }, (_, i) => raw.getInt32(4 * i, true)) : [...(t.int32Data ?? [])] };
    default:
      throw new InputError(`${where}: tensor ${t.name ?? ''} has ONNX data type ${t.dataType}; loopsmith reads float, double, int32 and int64 tensors`);
  }
}

/** Attribute readers that name the node when an attribute has the wrong kind. */
export function attributes(node: NodeProto) {
  const get = (name: string) => (node.attribute ?? []).find((a) => a.name === name);
  return {
    has: (name: string) => get(name) !== undefined,
    int: (name: string, dflt: number) => {
      const a = get(name);
      return a ? num(a.i) : dflt;
    },
    float: (name: string, dflt: number) => {
      const a = get(name);
      return a ? (a.f ?? 0) : dflt;
    },
    ints: (name: string, dflt: number[]) => {
      const a = get(name);
      return a ? (a.ints ?? []).map(num) : dflt;
    },
    string: (name: string, dflt: string) => {
      const a = get(name);
      return a?.s ? new TextDecoder().decode(a.s) : dflt;
    },
    tensor: (name: string) => get(name)?.t ?? undefined,
    names: () => (node.attribute ?? []).map((a) => a.name ?? ''),
  };
}
