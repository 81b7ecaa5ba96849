import { DType } from '../../ir/dtype.js';
import { Code, Syntax } from './code.js';
import { Reserved } from './names.js';

/** Element-wise functions with a spelling per dialect (negation is an operator everywhere). */
export type Builtin = 'relu' | 'exp' | 'sqrt' | 'abs' | 'min' | 'max';

/**
 * What differs between C-style languages, as tables and small functions: the shared expression
 * printer and statement walker ask the dialect for every spelling.
 */
export interface Dialect {
  readonly syntax: Syntax;
  readonly reserved: Reserved;
  intLiteral(v: number): Code;
  floatLiteral(v: number): Code;
  cast(to: DType, a: Code): Code;
  select(cond: Code, then: Code, otherwise: Code): Code;
  /** `int` says whether the operands are integers. */
  builtin(f: Builtin, int: boolean, ...args: readonly Code[]): Code;
}

/** Shortest decimal that reads back as the same f32, with the `f` suffix C and WGSL both take. */
export function decimalF32(v: number): string {
  if (v === 0) return '0.0f';
  const s = Math.fround(v).toPrecision(9).replace(/\.?0+(e|$)/, '$1');
  return /[.e]/.test(s) ? `${s}f` : `${s}.0f`;
}
