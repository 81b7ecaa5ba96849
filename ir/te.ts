import { DType } from './dtype.js';
import { IRInvariantError } from './errors.js';
import { Expr, constant, load, substitute, variable } from './expr.js';
import { AxisKind, BufferDecl, Stmt, bufferDecl, forLoop, seq, store } from './loop.js';
import { Program, program } from './program.js';

/**
 * Tensor expressions in the style of TVM's TE: a placeholder is an input tensor, a compute says
 * what each element of its output is. A compute is data; `lowerCompute` turns it into a loop nest.
 */
export interface Placeholder {
  readonly kind: 'placeholder';
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Filled once and kept by the caller (weights declared constant): see BufferDecl.constant. */
  readonly constant?: true;
}

export interface IterVar {
  readonly name: string;
  readonly extent: number;
  readonly axis: AxisKind;
}

export type Reducer = 'sum' | 'max' | 'min';

export interface Compute {
  readonly kind: 'compute';
  readonly name: string;
  readonly dtype: DType;
  readonly axes: readonly IterVar[];
  readonly inputs: readonly Placeholder[];
  /** The element value; for a reduction, the term combined over `reduceAxes`. */
  readonly body: Expr;
  readonly reducer?: Reducer;
  readonly reduceAxes: readonly IterVar[];
  /** Applied to each finished element: an expression of ACC and the spatial axes. */
  readonly epilogue?: Expr;
}

/** The variable an epilogue uses for the finished (reduced) value of its element. */
export const ACC = '$acc';

export function placeholder(name: string, shape: readonly number[], dtype: DType = 'f32', constant = false): Placeholder {
  for (const d of shape) if (!Number.isInteger(d) || d < 1) throw new IRInvariantError(`placeholder ${name} has dimension ${d}`);
  return Object.freeze({ kind: 'placeholder', name, shape: Object.freeze([...shape]), dtype, ...(constant ? { constant: true as const } : {}) });
}

/** Element of a placeholder at the given indices. */
export function at(t: Placeholder, ...indices: Expr[]): Expr {
  if (indices.length !== t.shape.length) {
    throw new IRInvariantError(`${t.name} has rank ${t.shape.length}, indexed with ${indices.length} indices`);
  }
  return load(t.name, indices);
}

export function reduceAxis(name: string, extent: number): IterVar {
  return Object.freeze({ name, extent, axis: 'reduce' });
}

export interface ComputeSpec {
  name: string;
  shape: readonly number[];
  /** Names of the spatial axes, one per output dimension. */
  axisNames: readonly string[];
  inputs: readonly Placeholder[];
  dtype?: DType;
  body: (...axes: Expr[]) => Expr;
  reduce?: { op: Reducer; axes: readonly IterVar[] };
  epilogue?: (acc: Expr, ...axes: Expr[]) => Expr;
}

export function compute(spec: ComputeSpec): Compute {
  if (spec.axisNames.length !== spec.shape.length) throw new IRInvariantError(`compute ${spec.name}: ${spec.shape.length} dims, ${spec.axisNames.length} axis names`);
  const axes = spec.shape.map((extent, i) => Object.freeze({ name: spec.axisNames[i]!, extent, axis: 'spatial' as const }));
  const names = [...axes, ...(spec.reduce?.axes ?? [])].map((a) => a.name);
  if (new Set(names).size !== names.length) throw new IRInvariantError(`compute ${spec.name} repeats an axis name: ${names.join(', ')}`);
  const vars = axes.map((a) => variable(a.name));
  const c: Compute = {
    kind: 'compute',
    name: spec.name,
    dtype: spec.dtype ?? 'f32',
    axes: Object.freeze(axes),
    inputs: Object.freeze([...spec.inputs]),
    body: spec.body(...vars),
    reduceAxes: Object.freeze([...(spec.reduce?.axes ?? [])]),
    ...(spec.reduce ? { reducer: spec.reduce.op } : {}),
    ...(spec.epilogue ? { epilogue: spec.epilogue(variable(ACC), ...vars) } : {}),
  };
  return Object.freeze(c);
}

/** The identity of a reduction: the value an accumulator starts from. */
export function reductionIdentity(r: Reducer, dtype: DType): Expr {
  const big = dtype === 'f16' ? 65504 : dtype === 'f32' ? 3.4028234663852886e38 : 2147483647;
  return constant(r === 'sum' ? 0 : r === 'max' ? -big : big, dtype);
}

export function outputShape(c: Compute): number[] {
  return c.axes.map((a) => a.extent);
}

/** Suffixes naming the extra nests a reduction lowers into. */
export const INIT_SUFFIX = '.init';
export const EPILOGUE_SUFFIX = '.epi';

function nest(axes: readonly IterVar[], suffix: string, inner: Stmt): Stmt {
  return axes.reduceRight<Stmt>((body, a) => forLoop(a.name + suffix, a.extent, body, a.axis), inner);
}

function renamed(axes: readonly IterVar[], suffix: string): Map<string, Expr> {
  return new Map(axes.map((a) => [a.name, variable(a.name + suffix)]));
}

/**
 * Lowers a compute to a loop nest. A reduction becomes three nests: the output set to the
 * reducer's identity, the update over spatial then reduction axes (a perfect nest, so any
 * reorder of it is a permutation), and, if there is one, the epilogue applied in place.
 */
export function lowerCompute(c: Compute): Program {
  const out = c.axes.map((a) => variable(a.name));
  const params: BufferDecl[] = [
    ...c.inputs.map((t) => bufferDecl(t.name, t.shape, t.dtype, 'global', 'input', t.constant === true)),
    bufferDecl(c.name, outputShape(c), c.dtype, 'global', 'output'),
  ];
  if (!c.reducer) {
    const value = c.epilogue ? substitute(c.epilogue, new Map([[ACC, c.body]])) : c.body;
    return program(c.name, params, nest(c.axes, '', store(c.name, out, value)));
  }
  const initVars = renamed(c.axes, INIT_SUFFIX);
  const init = nest(c.axes, INIT_SUFFIX, store(c.name, c.axes.map((a) => initVars.get(a.name)!), reductionIdentity(c.reducer, c.dtype)));
  const update = nest([...c.axes, ...c.reduceAxes], '', store(c.name, out, c.body, c.reducer));
  const stages = [init, update];
  if (c.epilogue) {
    const epiVars = renamed(c.axes, EPILOGUE_SUFFIX);
    const idx = c.axes.map((a) => epiVars.get(a.name)!);
    const value = substitute(c.epilogue, new Map([...epiVars, [ACC, load(c.name, idx)]]));
    stages.push(nest(c.axes, EPILOGUE_SUFFIX, store(c.name, idx, value)));
  }
  return program(c.name, params, seq(stages));
}
