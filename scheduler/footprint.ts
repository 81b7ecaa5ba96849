import { Expr, add, freeVars, int, mul, plus, variable } from '../ir/expr.js';
import { bounds, loopRanges } from '../ir/interval.js';
import { canonical } from '../ir/hash.js';
import { ForStmt } from '../ir/loop.js';
import { affineIn } from './affine.js';

/**
 * The box of a buffer that a set of accesses touches while the loops inside a cache's `at` loop
 * run. Per dimension: an origin (an expression of the outer loops), an extent, and how each
 * access's index maps into the box. A dimension whose index is not affine in the inner loops is
 * kept whole, which is always sound.
 */
export interface Footprint {
  readonly origin: readonly Expr[];
  readonly extent: readonly number[];
  /** For each access, its index into the box. */
  readonly local: readonly (readonly Expr[])[];
  /** Dimensions kept whole because an index is neither affine in the inner loops nor bounded by them alone. */
  readonly whole: readonly boolean[];
}

export function footprint(accesses: readonly (readonly Expr[])[], inner: readonly ForStmt[], shape: readonly number[]): Footprint {
  const vars = new Set(inner.map((l) => l.var));
  const ext = new Map(inner.map((l) => [l.var, l.extent]));
  const ranges = loopRanges(inner);
  const origin: Expr[] = [], extent: number[] = [], whole: boolean[] = [];
  const local: Expr[][] = accesses.map(() => []);
  shape.forEach((dim, d) => {
    const forms = accesses.map((a) => affineIn(a[d]!, vars));
    const rest = forms[0]?.rest;
    const same = forms.every((f) => f && canonical(f.rest) === canonical(rest));
    // Not affine (a transposed conv's stride division), but bounded over the inner loops alone: a
    // box of those bounds, whose padding positions a zero-filled copy can hold.
    const boxes = same ? [] : accesses.map((a) => ([...freeVars(a[d]!)].every((v) => vars.has(v)) ? bounds(a[d]!, ranges) : undefined));
    if (!same && boxes.every((b) => b !== undefined)) {
      const lo = Math.min(...boxes.map((b) => b![0])), hi = Math.max(...boxes.map((b) => b![1]));
      whole.push(false);
      origin.push(int(lo));
      extent.push(hi - lo + 1);
      accesses.forEach((a, i) => local[i]!.push(lo === 0 ? a[d]! : plus(a[d]!, int(-lo))));
      return;
    }
    whole.push(!same);
    if (!same) {
      origin.push(int(0));
      extent.push(dim);
      accesses.forEach((a, i) => local[i]!.push(a[d]!));
      return;
    }
    const lows = forms.map((f) => f!.constant + [...f!.coefs].reduce((s, [v, c]) => s + Math.min(0, c * (ext.get(v)! - 1)), 0));
    const highs = forms.map((f) => f!.constant + [...f!.coefs].reduce((s, [v, c]) => s + Math.max(0, c * (ext.get(v)! - 1)), 0));
    const lo = Math.min(...lows), hi = Math.max(...highs);
    origin.push(rest ? plus(rest, int(lo)) : int(lo));
    extent.push(hi - lo + 1);
    forms.forEach((f, i) => {
      let e: Expr | undefined;
      for (const [v, c] of f!.coefs) {
        const term = c === 1 ? variable(v) : mul(variable(v), int(c));
        e = e ? add(e, term) : term;
      }
      const k = f!.constant - lo;
      local[i]!.push(e ? plus(e, int(k)) : int(k));
    });
  });
  return { origin, extent, local, whole };
}

/**
 * The extent per dimension of the box that one access touches while the `inner` loops run, without
 * building the box's expressions (the cost model's features need only its size). A dimension whose
 * index is not affine in the inner loops is whole, as in `footprint`; a padded tail can run an index
 * past the buffer, so no extent exceeds the dimension.
 */
export function accessExtent(indices: readonly Expr[], inner: readonly ForStmt[], shape: readonly number[]): number[] {
  const vars = new Set(inner.map((l) => l.var));
  const ext = new Map(inner.map((l) => [l.var, l.extent]));
  return shape.map((dim, d) => {
    const f = affineIn(indices[d]!, vars);
    if (!f) return dim;
    let span = 1;
    for (const [v, c] of f.coefs) span += Math.abs(c) * (ext.get(v)! - 1);
    return Math.min(dim, span);
  });
}

