import { Expr, add, allOf, forEachExpr, freeVars, int, not, select, substitute, usesVar, variable } from '../ir/expr.js';
import { LoopKind, Stmt, ifThen, mapStmt, seq, store, withLoop } from '../ir/loop.js';
import { FALSE, TRUE, simplifyExpr } from './simplify.js';
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
  const copy = copyLoop(s, ['serial']);
  if (!copy) return s;
  const { loop, st, cond, then, otherwise } = copy;
  const parts = conjuncts(cond);
  const own = parts.filter((c) => { const f = freeVars(c); return f.size === 1 && f.has(loop.var) && !readsMemory(c); });
  if (own.length === 0) return s;
  // Each conjunct at each value of the variable, folded by the simplifier (TRUE/FALSE by identity).
  const holds: boolean[] = [];
  for (let i = 0; i < loop.extent; i++) {
    const r = own.map((c) => simplifyExpr(c, new Map([[loop.var, [i, i] as const]])));
    if (r.some((x) => x !== TRUE && x !== FALSE)) return s;
    holds.push(r.every((x) => x === TRUE));
  }
  const lo = holds.indexOf(true), hi = holds.lastIndexOf(true) + 1;
  if (lo < 0 || holds.slice(lo, hi).includes(false) || (lo === 0 && hi === loop.extent)) return s;
  const rest = allOf(parts.filter((c) => !own.includes(c)));
  // Each run under its own variable (bound once per program), shifted to where it starts.
  const run = (name: string, start: number, extent: number, value: Expr): Stmt | undefined => {
    if (extent <= 0) return undefined;
    const to = new Map([[loop.var, start === 0 ? variable(name) : add(variable(name), int(start))]]);
    return withLoop(loop, { var: name, extent, body: store(st.buffer, st.indices.map((i) => substitute(i, to)), substitute(value, to), 'assign') });
  };
  return seq([
    run(`${loop.var}.lo`, 0, lo, otherwise),
    run(loop.var, lo, hi - lo, rest === undefined ? then : select(rest, then, otherwise)),
    run(`${loop.var}.hi`, hi, loop.extent - hi, otherwise),
  ].filter((x): x is Stmt => x !== undefined));
}

function unswitch(s: Stmt): Stmt {
  const copy = copyLoop(s, ['serial', 'vectorized']);
  if (!copy) return s;
  const { loop, st, cond, then, otherwise } = copy;
  const parts = conjuncts(cond);
  const outside = parts.filter((c) => !usesVar(c, loop.var) && !readsMemory(c));
  if (outside.length === 0) return s;
  const inside = allOf(parts.filter((c) => !outside.includes(c)));
  const guard = allOf(outside)!;
  const taken = inside === undefined ? then : select(inside, then, otherwise);
  const loopWith = (value: Expr): Stmt => withLoop(loop, { body: store(st.buffer, st.indices, value, 'assign') });
  // Loop variables are bound once per program: the second loop runs under its own name.
  const v2 = `${loop.var}.else`, to = new Map([[loop.var, variable(v2)]]);
  const elseLoop = withLoop(loop, { var: v2, body: store(st.buffer, st.indices.map((i) => substitute(i, to)), substitute(otherwise, to), 'assign') });
  return seq([ifThen(guard, loopWith(taken)), ifThen(not(guard), elseLoop)]);
}

/** A loop of one of `kinds` whose body is one plain store of `select(cond, then, otherwise)`. */
function copyLoop(s: Stmt, kinds: readonly LoopKind[]) {
  if (s.kind !== 'for' || !kinds.includes(s.loopKind)) return undefined;
  const st = s.body;
  if (st.kind !== 'store' || st.accum !== 'assign' || st.value.kind !== 'select') return undefined;
  return { loop: s, st, cond: st.value.cond, then: st.value.then, otherwise: st.value.else };
}

function conjuncts(e: Expr): Expr[] {
  return e.kind === 'logic' && e.op === 'and' ? [...conjuncts(e.a), ...conjuncts(e.b)] : [e];
}

function readsMemory(e: Expr): boolean {
  let found = false;
  forEachExpr(e, (x) => { if (x.kind === 'load') found = true; });
  return found;
}
