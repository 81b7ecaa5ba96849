import { Expr, add, binary, cmp, int, mapExpr, mul, variable } from '../ir/expr.js';
import { affineIn } from '../scheduler/affine.js';
import { Interval, bounds } from '../ir/interval.js';
import { Stmt, alloc, ifThen, seq, store, withLoop } from '../ir/loop.js';
import { Program, withBody } from '../ir/program.js';

type Ranges = ReadonlyMap<string, Interval>;

const isInt = (e: Expr, v?: number): e is Extract<Expr, { kind: 'const' }> =>
  e.kind === 'const' && e.dtype === 'i32' && (v === undefined || e.value === v);

/** One bottom-up rewrite step on integer index arithmetic, using what is known of the ranges. */
function rewrite(e: Expr, r: Ranges): Expr {
  if (e.kind === 'binary' && isInt(e.a) && isInt(e.b)) {
    const a = e.a.value, b = e.b.value;
    switch (e.op) {
      case 'add': return int(a + b);
      case 'sub': return int(a - b);
      case 'mul': return int(a * b);
      case 'div': return b > 0 ? int(Math.floor(a / b)) : e;
      case 'mod': return b > 0 ? int(((a % b) + b) % b) : e;
      case 'min': return int(Math.min(a, b));
      case 'max': return int(Math.max(a, b));
    }
  }
  if (e.kind === 'binary') {
    const { op, a, b } = e;
    if (op === 'add' && isInt(b, 0)) return a;
    if (op === 'add' && isInt(a, 0)) return b;
    if (op === 'sub' && isInt(b, 0)) return a;
    if (op === 'mul' && (isInt(b, 0) || isInt(a, 0))) return int(0);
    if (op === 'mul' && isInt(b, 1)) return a;
    if (op === 'mul' && isInt(a, 1)) return b;
    if ((op === 'div') && isInt(b, 1)) return a;
    if (op === 'mod' && isInt(b, 1)) return int(0);
    // (x + c1) + c2 -> x + (c1 + c2), and x + -c -> x - c: keeps constants in one place.
    if (op === 'add' && isInt(b) && a.kind === 'binary' && (a.op === 'add' || a.op === 'sub') && isInt(a.b)) {
      const c = a.op === 'add' ? a.b.value + b.value : b.value - a.b.value;
      return rewrite(c >= 0 ? binary('add', a.a, int(c)) : binary('sub', a.a, int(-c)), r);
    }
    if (op === 'add' && isInt(b) && b.value < 0) return binary('sub', a, int(-b.value));
    if ((op === 'div' || op === 'mod') && isInt(b) && b.value > 0) {
      const ra = bounds(a, r);
      if (ra && ra[0] >= 0) {
        if (ra[1] < b.value) return op === 'div' ? int(0) : a;
        // (x / c1) / c2 -> x / (c1 * c2) for non-negative x
        if (op === 'div' && a.kind === 'binary' && a.op === 'div' && isInt(a.b) && a.b.value > 0) return binary('div', a.a, int(a.b.value * b.value));
      }
      const split = splitDivision(a, b.value, r);
      if (split) return op === 'div' ? split.div : split.mod;
    }
    if ((op === 'min' || op === 'max')) {
      const ra = bounds(a, r), rb = bounds(b, r);
      if (ra && rb) {
        if (op === 'min' && ra[1] <= rb[0]) return a;
        if (op === 'min' && rb[1] <= ra[0]) return b;
        if (op === 'max' && ra[0] >= rb[1]) return a;
        if (op === 'max' && rb[0] >= ra[1]) return b;
      }
    }
  }
  if (e.kind === 'cmp') {
    const ra = bounds(e.a, r), rb = bounds(e.b, r);
    if (ra && rb) {
      const yes = { lt: ra[1] < rb[0], le: ra[1] <= rb[0], gt: ra[0] > rb[1], ge: ra[0] >= rb[1], eq: ra[0] === ra[1] && rb[0] === rb[1] && ra[0] === rb[0], ne: ra[1] < rb[0] || rb[1] < ra[0] }[e.op];
      const no = { lt: ra[0] >= rb[1], le: ra[0] > rb[1], gt: ra[1] <= rb[0], ge: ra[1] < rb[0], eq: ra[1] < rb[0] || rb[1] < ra[0], ne: ra[0] === ra[1] && rb[0] === rb[1] && ra[0] === rb[0] }[e.op];
      if (yes) return TRUE;
      if (no) return FALSE;
    }
  }
  if (e.kind === 'logic') {
    const t = (x: Expr) => x === TRUE, f = (x: Expr) => x === FALSE;
    if (e.op === 'and') {
      if (t(e.a)) return e.b;
      if (t(e.b)) return e.a;
      if (f(e.a) || f(e.b)) return FALSE;
    } else {
      if (f(e.a)) return e.b;
      if (f(e.b)) return e.a;
      if (t(e.a) || t(e.b)) return TRUE;
    }
  }
  if (e.kind === 'select') {
    if (e.cond === TRUE) return e.then;
    if (e.cond === FALSE) return e.else;
  }
  return e;
}

/** Canonical conditions: the simplifier compares against these by identity. */
export const TRUE: Expr = cmp('eq', int(0), int(0));
export const FALSE: Expr = cmp('ne', int(0), int(0));

/**
 * `a / d` and `a mod d` when `a = m * B + s` with m dividing d and s in [0, m) over the loop
 * ranges: `B / (d / m)` and `m * (B mod (d / m)) + s`. Grouped convolutions read input channel
 * `k / kpg * cpg + rc` with k split as `k.0 * 32 + k.1`: the quotient is then `k.0 / (kpg / 32)`,
 * free of the vector lane k.1, so the input load is one broadcast instead of a gather.
 */
function splitDivision(a: Expr, d: number, r: Ranges): { div: Expr; mod: Expr } | undefined {
  const f = affineIn(a, new Set(r.keys()));
  if (!f || f.rest || f.coefs.size === 0) return undefined;
  for (let m = d; m >= 2; m--) {
    if (d % m !== 0) continue;
    const big = [...f.coefs].filter(([, c]) => c % m === 0), small = [...f.coefs].filter(([, c]) => c % m !== 0);
    if (!big.length) continue;
    // The constant's multiples of m join B: (2a + 3) / 2 is a + 1, with remainder 1.
    const qc = Math.floor(f.constant / m), rest = f.constant - qc * m;
    let lo = rest, hi = rest;
    for (const [v, c] of small) {
      const [vl, vh] = r.get(v)!;
      lo += Math.min(c * vl, c * vh);
      hi += Math.max(c * vl, c * vh);
    }
    if (lo < 0 || hi >= m) continue;
    const sum = (terms: [string, number][], k: number): Expr => terms.map(([v, c]) => (c / k === 1 ? variable(v) : mul(variable(v), int(c / k)))).reduce((x, y) => add(x, y));
    const B0 = sum(big, m), B = qc === 0 ? B0 : add(B0, int(qc)), q = d / m;
    const s = !small.length ? int(rest) : rest === 0 ? sum(small, 1) : add(sum(small, 1), int(rest));
    return { div: q === 1 ? B : binary('div', B, int(q)), mod: q === 1 ? s : add(mul(binary('mod', B, int(q)), int(m)), s) };
  }
  return undefined;
}

export function simplifyExpr(e: Expr, ranges: Ranges = new Map()): Expr {
  return mapExpr(e, (x) => rewrite(x, ranges));
}

/**
 * Index simplification and tail-guard pruning: folds constants, drops `+ 0` and `* 1`, resolves
 * div/mod whose operand range is known, and removes guards that interval analysis proves always
 * true (the statement stays) or always false (the statement goes).
 */
export function simplifyStmt(s: Stmt, ranges: Ranges = new Map()): Stmt | undefined {
  switch (s.kind) {
    case 'for': {
      if (s.extent === 0) return undefined;
      const inner = new Map(ranges).set(s.var, [0, s.extent - 1]);
      const body = simplifyStmt(s.body, inner);
      return body === undefined ? undefined : withLoop(s, { body });
    }
    case 'seq': {
      const body = s.body.map((x) => simplifyStmt(x, ranges)).filter((x): x is Stmt => x !== undefined);
      if (body.length === 0) return undefined;
      return body.length === s.body.length && body.every((x, i) => x === s.body[i]) ? s : seq(body);
    }
    case 'if': {
      const cond = simplifyExpr(s.cond, ranges);
      if (cond === FALSE) return undefined;
      const then = simplifyStmt(s.then, ranges);
      if (then === undefined) return undefined;
      if (cond === TRUE) return then;
      return cond === s.cond && then === s.then ? s : ifThen(cond, then);
    }
    case 'alloc': {
      const body = simplifyStmt(s.body, ranges);
      return body === undefined ? undefined : body === s.body ? s : alloc(s.buffer, body);
    }
    case 'store': {
      const idx = s.indices.map((i) => simplifyExpr(i, ranges));
      const v = simplifyExpr(s.value, ranges);
      // Adding zero changes nothing: an unrolled tap whose guard never holds (a transposed conv's
      // skipped stride phase) leaves no statement behind.
      if (s.accum === 'sum' && v.kind === 'const' && v.value === 0) return undefined;
      return idx.every((x, i) => x === s.indices[i]) && v === s.value ? s : store(s.buffer, idx, v, s.accum);
    }
    case 'barrier':
      return s;
  }
}

export function simplifyProgram(p: Program): Program {
  return withBody(p, simplifyStmt(p.body) ?? seq([]));
}

