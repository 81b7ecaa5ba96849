import { Expr, add, allOf, forEachExpr, freeVars, int, not, select, substitute, usesVar, variable } from '../ir/expr.js';
import { Stmt, ifThen, mapStmt, seq, store, withLoop } from '../ir/loop.js';
import { Program, withBody } from '../ir/program.js';

/**
 * Guards moved out of the copy loops that store `cond ? value : 0`, by loop unswitching and
 * partitioning (Halide's loop partitioning, for copies only). A padded copy stores
 * `in bounds ? X[..] : 0` element by element; in a channel-blocked layout the innermost loop runs
 * over the 16 channels of one pixel and the bounds test is about the pixel alone, so as written the
 * compiler copies one float at a time behind four compares. Split into `if (in bounds) copy; else
 * zero` around the loop, the loop is a plain vector copy (a depthwise conv in nchw16c spent more
 * time on its copy than on its arithmetic).
 *
 * The same copy in NCHW runs its innermost loop along a row, and there the test is about the loop's
 * own variable (`0 <= w - 1 < 56`): the loop is cut where that test changes, into a zero fill, a
 * plain copy and a zero fill.
 *
 * Applies to a serial or vectorized loop whose body is one plain store of `select(c, a, b)`: the
 * conjuncts of `c` that neither use the loop's variable nor read memory move out; a serial loop is
 * first partitioned on the conjuncts that use its variable alone, when they hold on one run of it.
 */
export function unswitchCopies(p: Program): Program {
  return withBody(p, mapStmt(p.body, (s) => {
    const parts = partition(s);
    return parts === s ? unswitch(s) : seq((parts.kind === 'seq' ? parts.body : [parts]).map(unswitch));
  }));
}

/** A serial copy loop cut where the conjuncts about its variable alone start and stop holding. */
function partition(s: Stmt): Stmt {
  if (s.kind !== 'for' || s.loopKind !== 'serial') return s;
  const st = s.body;
  if (st.kind !== 'store' || st.accum !== 'assign' || st.value.kind !== 'select') return s;
  const { cond, then, else: otherwise } = st.value;
  const parts = conjuncts(cond);
  const own = parts.filter((c) => { const f = freeVars(c); return f.size === 1 && f.has(s.var) && !readsMemory(c); });
  if (own.length === 0) return s;
  const holds: boolean[] = [];
  for (let i = 0; i < s.extent; i++) {
    const r = own.map((c) => evalInt(c, s.var, i));
    if (r.some((x) => x === undefined)) return s;
    holds.push(r.every((x) => x !== 0));
  }
  const lo = holds.indexOf(true), hi = holds.lastIndexOf(true) + 1;
  if (lo < 0 || holds.slice(lo, hi).includes(false) || (lo === 0 && hi === s.extent)) return s;
  const rest = allOf(parts.filter((c) => !own.includes(c)));
  // Each run under its own variable (bound once per program), shifted to where it starts.
  const run = (name: string, start: number, extent: number, value: Expr): Stmt | undefined => {
    if (extent <= 0) return undefined;
    const to = new Map([[s.var, start === 0 ? variable(name) : add(variable(name), int(start))]]);
    return withLoop(s, { var: name, extent, body: store(st.buffer, st.indices.map((i) => substitute(i, to)), substitute(value, to), 'assign') });
  };
  return seq([
    run(`${s.var}.lo`, 0, lo, otherwise),
    run(s.var, lo, hi - lo, rest === undefined ? then : select(rest, then, otherwise)),
    run(`${s.var}.hi`, hi, s.extent - hi, otherwise),
  ].filter((x): x is Stmt => x !== undefined));
}

/** An integer expression of one variable at a value (comparisons give 0 or 1); undefined outside integer arithmetic. */
function evalInt(e: Expr, v: string, at: number): number | undefined {
  const r = (x: Expr) => evalInt(x, v, at);
  switch (e.kind) {
    case 'const': return e.dtype === 'i32' ? e.value : undefined;
    case 'var': return e.name === v ? at : undefined;
    case 'binary': {
      const a = r(e.a), b = r(e.b);
      if (a === undefined || b === undefined) return undefined;
      switch (e.op) {
        case 'add': return a + b;
        case 'sub': return a - b;
        case 'mul': return a * b;
        case 'min': return Math.min(a, b);
        case 'max': return Math.max(a, b);
        case 'div': return b > 0 ? Math.floor(a / b) : undefined;
        case 'mod': return b > 0 ? ((a % b) + b) % b : undefined;
      }
      return undefined;
    }
    case 'cmp': {
      const a = r(e.a), b = r(e.b);
      if (a === undefined || b === undefined) return undefined;
      const t = { lt: a < b, le: a <= b, eq: a === b, ne: a !== b, ge: a >= b, gt: a > b }[e.op];
      return t ? 1 : 0;
    }
    case 'logic': {
      const a = r(e.a), b = r(e.b);
      if (a === undefined || b === undefined) return undefined;
      return (e.op === 'and' ? a !== 0 && b !== 0 : a !== 0 || b !== 0) ? 1 : 0;
    }
    case 'not': {
      const a = r(e.a);
      return a === undefined ? undefined : a === 0 ? 1 : 0;
    }
    default: return undefined;
  }
}

function unswitch(s: Stmt): Stmt {
  if (s.kind !== 'for' || (s.loopKind !== 'serial' && s.loopKind !== 'vectorized')) return s;
  const st = s.body;
  if (st.kind !== 'store' || st.accum !== 'assign' || st.value.kind !== 'select') return s;
  const { cond, then, else: otherwise } = st.value;
  const parts = conjuncts(cond);
  const outside = parts.filter((c) => !usesVar(c, s.var) && !readsMemory(c));
  if (outside.length === 0) return s;
  const inside = allOf(parts.filter((c) => !outside.includes(c)));
  const guard = allOf(outside)!;
  const taken = inside === undefined ? then : select(inside, then, otherwise);
  const loopWith = (value: Expr): Stmt => withLoop(s, { body: store(st.buffer, st.indices, value, 'assign') });
  // Loop variables are bound once per program: the second loop runs under its own name.
  const v2 = `${s.var}.else`, to = new Map([[s.var, variable(v2)]]);
  const elseLoop = withLoop(s, { var: v2, body: store(st.buffer, st.indices.map((i) => substitute(i, to)), substitute(otherwise, to), 'assign') });
  return seq([ifThen(guard, loopWith(taken)), ifThen(not(guard), elseLoop)]);
}

function conjuncts(e: Expr): Expr[] {
  return e.kind === 'logic' && e.op === 'and' ? [...conjuncts(e.a), ...conjuncts(e.b)] : [e];
}

function readsMemory(e: Expr): boolean {
  let found = false;
  forEachExpr(e, (x) => { if (x.kind === 'load') found = true; });
  return found;
}
