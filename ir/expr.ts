import { DType } from './dtype.js';
import { IRInvariantError } from './errors.js';

/**
 * Scalar expressions, shared by tensor expressions and the loop IR.
 * Index variables are i32; `div` and `mod` on integers are floor division and its remainder,
 * so that index arithmetic means the same thing in JS, C and WGSL whatever the sign.
 */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'min' | 'max';
export type CmpOp = 'lt' | 'le' | 'eq' | 'ne' | 'ge' | 'gt';
export type UnaryOp = 'neg' | 'relu' | 'exp' | 'sqrt' | 'abs';

export type Expr =
  | { readonly kind: 'const'; readonly value: number; readonly dtype: DType }
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly a: Expr; readonly b: Expr }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly a: Expr }
  | { readonly kind: 'cmp'; readonly op: CmpOp; readonly a: Expr; readonly b: Expr }
  | { readonly kind: 'logic'; readonly op: 'and' | 'or'; readonly a: Expr; readonly b: Expr }
  | { readonly kind: 'not'; readonly a: Expr }
  | { readonly kind: 'select'; readonly cond: Expr; readonly then: Expr; readonly else: Expr }
  | { readonly kind: 'load'; readonly buffer: string; readonly indices: readonly Expr[] }
  | { readonly kind: 'cast'; readonly dtype: DType; readonly a: Expr };

export type ExprKind = Expr['kind'];

function freeze<T extends object>(x: T): T {
  return Object.freeze(x);
}

export function constant(value: number, dtype: DType = 'i32'): Expr {
  if (!Number.isFinite(value)) throw new IRInvariantError(`constant ${value} is not finite`);
  if ((dtype === 'i32' || dtype === 'u32') && !Number.isInteger(value)) {
    throw new IRInvariantError(`integer constant ${value} has a fraction`);
  }
  return freeze({ kind: 'const', value, dtype });
}

export const int = (v: number): Expr => constant(v, 'i32');
export const f32 = (v: number): Expr => constant(v, 'f32');

export function variable(name: string): Expr {
  if (name.length === 0) throw new IRInvariantError('variable with an empty name');
  return freeze({ kind: 'var', name });
}

export function binary(op: BinaryOp, a: Expr, b: Expr): Expr {
  return freeze({ kind: 'binary', op, a, b });
}
export const add = (a: Expr, b: Expr) => binary('add', a, b);
export const sub = (a: Expr, b: Expr) => binary('sub', a, b);
export const mul = (a: Expr, b: Expr) => binary('mul', a, b);
export const div = (a: Expr, b: Expr) => binary('div', a, b);
export const mod = (a: Expr, b: Expr) => binary('mod', a, b);
export const min = (a: Expr, b: Expr) => binary('min', a, b);
export const max = (a: Expr, b: Expr) => binary('max', a, b);

/** `a + b` with constant zeros dropped, constants folded, and `x + -c` written `x - c`. */
export function plus(a: Expr, b: Expr): Expr {
  if (a.kind === 'const' && a.value === 0 && a.dtype === 'i32') return b;
  if (b.kind === 'const' && b.dtype === 'i32') {
    if (b.value === 0) return a;
    if (a.kind === 'const' && a.dtype === 'i32') return int(a.value + b.value);
    if (b.value < 0) return sub(a, int(-b.value));
  }
  return add(a, b);
}

export function unary(op: UnaryOp, a: Expr): Expr {
  return freeze({ kind: 'unary', op, a });
}
export const relu = (a: Expr) => unary('relu', a);

export function cmp(op: CmpOp, a: Expr, b: Expr): Expr {
  return freeze({ kind: 'cmp', op, a, b });
}
export const lt = (a: Expr, b: Expr) => cmp('lt', a, b);
export const le = (a: Expr, b: Expr) => cmp('le', a, b);
export const ge = (a: Expr, b: Expr) => cmp('ge', a, b);
export const eq = (a: Expr, b: Expr) => cmp('eq', a, b);

export function and(a: Expr, b: Expr): Expr {
  return freeze({ kind: 'logic', op: 'and', a, b });
}
export function or(a: Expr, b: Expr): Expr {
  return freeze({ kind: 'logic', op: 'or', a, b });
}
export function not(a: Expr): Expr {
  return freeze({ kind: 'not', a });
}
/** Conjunction of any number of conditions; `undefined` when there are none. */
export function allOf(conds: readonly Expr[]): Expr | undefined {
  return conds.length === 0 ? undefined : conds.reduce((x, y) => and(x, y));
}

export function select(cond: Expr, then: Expr, otherwise: Expr): Expr {
  return freeze({ kind: 'select', cond, then, else: otherwise });
}

export function load(buffer: string, indices: readonly Expr[]): Expr {
  if (buffer.length === 0) throw new IRInvariantError('load from a buffer with an empty name');
  return freeze({ kind: 'load', buffer, indices: freeze([...indices]) });
}

export function cast(dtype: DType, a: Expr): Expr {
  return freeze({ kind: 'cast', dtype, a });
}

/** Rebuilds an expression bottom-up; `f` sees each node after its children were rebuilt. */
export function mapExpr(e: Expr, f: (e: Expr) => Expr): Expr {
  const rebuilt = ((): Expr => {
    switch (e.kind) {
      case 'const':
      case 'var':
        return e;
      case 'binary': {
        const a = mapExpr(e.a, f), b = mapExpr(e.b, f);
        return a === e.a && b === e.b ? e : binary(e.op, a, b);
      }
      case 'cmp': {
        const a = mapExpr(e.a, f), b = mapExpr(e.b, f);
        return a === e.a && b === e.b ? e : cmp(e.op, a, b);
      }
      case 'logic': {
        const a = mapExpr(e.a, f), b = mapExpr(e.b, f);
        return a === e.a && b === e.b ? e : e.op === 'and' ? and(a, b) : or(a, b);
      }
      case 'unary': {
        const a = mapExpr(e.a, f);
        return a === e.a ? e : unary(e.op, a);
      }
      case 'not': {
        const a = mapExpr(e.a, f);
        return a === e.a ? e : not(a);
      }
      case 'cast': {
        const a = mapExpr(e.a, f);
        return a === e.a ? e : cast(e.dtype, a);
      }
      case 'select': {
        const c = mapExpr(e.cond, f), t = mapExpr(e.then, f), o = mapExpr(e.else, f);
        return c === e.cond && t === e.then && o === e.else ? e : select(c, t, o);
      }
      case 'load': {
        const idx = e.indices.map((i) => mapExpr(i, f));
        return idx.every((x, n) => x === e.indices[n]) ? e : load(e.buffer, idx);
      }
    }
  })();
  return f(rebuilt);
}

/** Visits every node of an expression, parents before children. */
export function forEachExpr(e: Expr, f: (e: Expr) => void): void {
  f(e);
  switch (e.kind) {
    case 'const':
    case 'var':
      return;
    case 'binary':
    case 'cmp':
    case 'logic':
      forEachExpr(e.a, f);
      forEachExpr(e.b, f);
      return;
    case 'unary':
    case 'not':
    case 'cast':
      forEachExpr(e.a, f);
      return;
    case 'select':
      forEachExpr(e.cond, f);
      forEachExpr(e.then, f);
      forEachExpr(e.else, f);
      return;
    case 'load':
      e.indices.forEach((i) => forEachExpr(i, f));
      return;
  }
}

/** Replaces variables by expressions, all at once (no re-substitution into replacements). */
export function substitute(e: Expr, bindings: ReadonlyMap<string, Expr>): Expr {
  if (bindings.size === 0) return e;
  return mapExpr(e, (x) => (x.kind === 'var' ? (bindings.get(x.name) ?? x) : x));
}

export function freeVars(e: Expr): Set<string> {
  const out = new Set<string>();
  forEachExpr(e, (x) => {
    if (x.kind === 'var') out.add(x.name);
  });
  return out;
}

export function usesVar(e: Expr, name: string): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if (x.kind === 'var' && x.name === name) found = true;
  });
  return found;
}

const BIN_SYMBOL: Record<BinaryOp, string> = { add: '+', sub: '-', mul: '*', div: '/', mod: '%', min: 'min', max: 'max' };
const CMP_SYMBOL: Record<CmpOp, string> = { lt: '<', le: '<=', eq: '==', ne: '!=', ge: '>=', gt: '>' };
const PREC: Record<string, number> = { or: 1, and: 2, cmp: 3, add: 4, sub: 4, mul: 5, div: 5, mod: 5 };

/** Readable infix form, parenthesised only where precedence needs it. */
export function printExpr(e: Expr, parentPrec = 0): string {
  const wrap = (s: string, prec: number) => (prec < parentPrec ? `(${s})` : s);
  switch (e.kind) {
    case 'const':
      return e.dtype === 'i32' || e.dtype === 'u32' || Number.isInteger(e.value) === false
        ? String(e.value)
        : `${e.value}.0`;
    case 'var':
      return e.name;
    case 'binary': {
      if (e.op === 'min' || e.op === 'max') return `${e.op}(${printExpr(e.a)}, ${printExpr(e.b)})`;
      const p = PREC[e.op]!;
      return wrap(`${printExpr(e.a, p)} ${BIN_SYMBOL[e.op]} ${printExpr(e.b, p + 1)}`, p);
    }
    case 'cmp':
      return wrap(`${printExpr(e.a, 4)} ${CMP_SYMBOL[e.op]} ${printExpr(e.b, 4)}`, 3);
    case 'logic': {
      const p = PREC[e.op]!;
      return wrap(`${printExpr(e.a, p)} ${e.op === 'and' ? '&&' : '||'} ${printExpr(e.b, p + 1)}`, p);
    }
    case 'not':
      return `!${printExpr(e.a, 9)}`;
    case 'unary':
      return e.op === 'neg' ? `-${printExpr(e.a, 9)}` : `${e.op}(${printExpr(e.a)})`;
    case 'cast':
      return `${e.dtype}(${printExpr(e.a)})`;
    case 'select':
      return `select(${printExpr(e.cond)}, ${printExpr(e.then)}, ${printExpr(e.else)})`;
    case 'load':
      return `${e.buffer}[${e.indices.map((i) => printExpr(i)).join(', ')}]`;
  }
}
