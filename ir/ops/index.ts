import { isDType, DType } from '../dtype.js';
import { InputError } from '../errors.js';
import { didYouMean } from '../schema.js';
import { Program } from '../program.js';
import { Compute, lowerCompute } from '../te.js';
import {
  conv1d, conv1dTranspose, conv2d, conv2dBiasRelu, conv2dTranspose, conv3d, conv3dTranspose,
  depthwiseConv2d, dilatedConv2d, groupedConv2d,
} from './conv.js';
import { conv2dFused } from './conv-fused.js';
import { relayout } from './relayout.js';
import { batchMatmul, bilinear, gemm, gemmBiasRelu, gemv } from './linear.js';
import { avgPool2d, maxPool2d } from './pool.js';
import { OpSpec, Params } from './spec.js';

export type { OpSpec, Params, ParamSpec } from './spec.js';

export const OPS: readonly OpSpec[] = [
  gemm, gemmBiasRelu, batchMatmul, gemv, bilinear,
  conv1d, conv2d, conv3d, groupedConv2d, depthwiseConv2d, dilatedConv2d, conv2dBiasRelu, conv2dFused,
  conv1dTranspose, conv2dTranspose, conv3dTranspose,
  maxPool2d, avgPool2d, relayout,
];

export function findOp(name: string): OpSpec {
  const op = OPS.find((o) => o.name === name);
  if (!op) {
    throw new InputError(`unknown op '${name}'; ${didYouMean(name, OPS.map((o) => o.name))}known ops: ${OPS.map((o) => o.name).join(', ')}`);
  }
  return op;
}

/** One concrete operator: an op, all its parameters, and its element type. */
export interface Workload {
  readonly op: OpSpec;
  readonly params: Params;
  readonly dtype: DType;
  /** Canonical and stable across runs and machines: records are keyed by it. */
  readonly key: string;
  readonly flops: number;
}

/**
 * Validates raw parameters (from a CLI or a file) and fills in defaults. Every message names the
 * parameter and what would be legal.
 */
export function workload(opName: string, raw: Readonly<Record<string, unknown>>, dtype = 'f32'): Workload {
  const op = findOp(opName);
  if (!isDType(dtype)) throw new InputError(`unknown dtype '${dtype}'; known dtypes: f32, f16, i32, u32`);
  if (dtype !== 'f32') throw new InputError(`dtype '${dtype}' is not supported by ${op.name} yet; supported: f32`);
  const legal = op.params.map((p) => p.name);
  for (const k of Object.keys(raw)) {
    if (!legal.includes(k)) throw new InputError(`${op.name} has no parameter '${k}'; ${didYouMean(k, legal, '--')}its parameters are: ${legal.join(', ')}`);
  }
  const params: Record<string, number> = {};
  for (const spec of op.params) {
    const v = raw[spec.name];
    if (v === undefined) {
      if (spec.default === undefined) {
        const missing = op.params.filter((p) => p.default === undefined && raw[p.name] === undefined).map((p) => `--${p.name}`);
        throw new InputError(`${op.name} needs ${missing.join(', ')} (${op.params.filter((p) => p.default === undefined).map((p) => `${p.name}: ${p.doc}`).join('; ')})`);
      }
      params[spec.name] = spec.default;
      continue;
    }
    const named = typeof v === 'string' && spec.choiceNames ? spec.choiceNames.indexOf(v.trim().toLowerCase()) : -1;
    const n = named >= 0 ? spec.choices![named]! : typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.\d*)?$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isInteger(n)) throw new InputError(`${op.name}: --${spec.name} must be ${spec.choiceNames ? `one of ${spec.choiceNames.join(', ')}` : 'an integer'}, got '${String(v)}'`);
    if (n < spec.min) throw new InputError(`${op.name}: --${spec.name} must be at least ${spec.min}, got ${n}`);
    if (spec.choices && !spec.choices.includes(n)) throw new InputError(`${op.name}: --${spec.name} must be one of ${spec.choiceNames ? spec.choiceNames.join(', ') : spec.choices.join(', ')}, got ${n}`);
    if (n > 2 ** 24) throw new InputError(`${op.name}: --${spec.name}=${String(v).trim()} is larger than the supported ${2 ** 24}`);
    params[spec.name] = n;
  }
  const problem = op.check?.(params);
  if (problem) throw new InputError(`${op.name}: ${problem}`);
  const frozen = Object.freeze(params);
  const keyed = Object.fromEntries(Object.entries(frozen).filter(([k, v]) => !op.params.find((s) => s.name === k && s.keyOnlyWhenSet && v === s.default)));
  return Object.freeze({ op, params: frozen, dtype, key: workloadKey(op.name, keyed, dtype), flops: op.flops(frozen) });
}

export function workloadKey(op: string, params: Params, dtype: DType): string {
  const ps = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join(',');
  return `${op}(${ps}):${dtype}`;
}

export function buildCompute(w: Workload): Compute {
  return w.op.build(w.params);
}

export function lowerWorkload(w: Workload): Program {
  return lowerCompute(buildCompute(w));
}
