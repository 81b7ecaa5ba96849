import { Expr, add, int, mul } from '../ir/expr.js';
import { Interval } from '../ir/interval.js';
import { simplifyExpr } from './simplify.js';

/** Row-major offset of an element, outer dimensions first: `n * 2048 + k * 256 + oh * 16 + ow`. */
export function rowMajorOffset(shape: readonly number[], idx: readonly Expr[], ranges: ReadonlyMap<string, Interval>): Expr {
  let off: Expr | undefined;
  shape.forEach((_, d) => {
    const stride = shape.slice(d + 1).reduce((x, y) => x * y, 1);
    const term = stride === 1 ? idx[d]! : mul(idx[d]!, int(stride));
    off = off ? add(off, term) : term;
  });
  return simplifyExpr(off ?? int(0), ranges);
}
