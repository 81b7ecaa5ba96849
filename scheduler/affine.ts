import { Expr, add, int, mul } from '../ir/expr.js';

/**
 * An index expression seen as `rest + sum(coef[v] * v)` over a chosen set of variables, where
 * `rest` mentions none of them. Footprints of caches are computed from it.
 */
export interface Affine {
  readonly coefs: ReadonlyMap<string, number>;
  readonly constant: number;
  /** The part that does not depend on the chosen variables (without the constant). */
  readonly rest: Expr | undefined;
}

function combine(a: Affine, b: Affine, sign: 1 | -1): Affine {
  const coefs = new Map(a.coefs);
  for (const [v, c] of b.coefs) coefs.set(v, (coefs.get(v) ?? 0) + sign * c);
  for (const [v, c] of [...coefs]) if (c === 0) coefs.delete(v);
  let rest = a.rest;
  if (b.rest) rest = rest ? (sign === 1 ? add(rest, b.rest) : { kind: 'binary', op: 'sub', a: rest, b: b.rest }) : sign === 1 ? b.rest : mul(int(-1), b.rest);
  return { coefs, constant: a.constant + sign * b.constant, rest };
}

function scale(a: Affine, k: number): Affine {
  const coefs = new Map([...a.coefs].map(([v, c]) => [v, c * k] as const).filter(([, c]) => c !== 0));
  return { coefs, constant: a.constant * k, rest: a.rest && k !== 0 ? (k === 1 ? a.rest : mul(a.rest, int(k))) : undefined };
}

function dependsOn(e: Expr, vars: ReadonlySet<string>): boolean {
  switch (e.kind) {
    case 'var': return vars.has(e.name);
    case 'const': return false;
    case 'binary': case 'cmp': case 'logic': return dependsOn(e.a, vars) || dependsOn(e.b, vars);
    case 'unary': case 'not': case 'cast': return dependsOn(e.a, vars);
    case 'select': return dependsOn(e.cond, vars) || dependsOn(e.then, vars) || dependsOn(e.else, vars);
    case 'load': return e.indices.some((i) => dependsOn(i, vars));
  }
}

/** Affine form over `vars`, or undefined when the expression is not affine in them. */
export function affineIn(e: Expr, vars: ReadonlySet<string>): Affine | undefined {
  if (!dependsOn(e, vars)) {
    if (e.kind === 'const') return { coefs: new Map(), constant: e.value, rest: undefined };
    return { coefs: new Map(), constant: 0, rest: e };
  }
  switch (e.kind) {
    case 'var':
      return { coefs: new Map([[e.name, 1]]), constant: 0, rest: undefined };
    case 'binary': {
      if (e.op === 'add' || e.op === 'sub') {
        const a = affineIn(e.a, vars), b = affineIn(e.b, vars);
        return a && b ? combine(a, b, e.op === 'add' ? 1 : -1) : undefined;
      }
      if (e.op === 'mul') {
        if (e.b.kind === 'const') {
          const a = affineIn(e.a, vars);
          return a && scale(a, e.b.value);
        }
        if (e.a.kind === 'const') {
          const b = affineIn(e.b, vars);
          return b && scale(b, e.a.value);
        }
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

export { dependsOn };
