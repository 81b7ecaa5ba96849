import { Expr, add, forEachExpr, int, substitute, usesVar, variable } from '../../ir/expr.js';
import { Interval, bounds } from '../../ir/interval.js';
import { BufferDecl, ForStmt, Stmt, mapStmtExprs } from '../../ir/loop.js';
import { affineIn } from '../../scheduler/affine.js';
import { Lowered } from '../lower.js';
import { simplifyExpr } from '../simplify.js';
import { Names } from './names.js';
import { rowMajorOffset } from '../layout.js';

export interface CParam {
  readonly name: string;
  readonly cName: string;
  readonly shape: readonly number[];
  readonly role: 'input' | 'output';
}

export interface CKernel {
  readonly source: string;
  readonly functionName: string;
  readonly params: readonly CParam[];
  readonly usesOpenMP: boolean;
}

/** Scratch up to this size lives on the stack; larger tiles (packed panels) on the heap. */
const STACK_BYTES = 64 * 1024;
const VECTOR_WIDTHS = new Set([2, 4, 8, 16, 32, 64]);

const PRELUDE = (widths: readonly number[]) => [
  '#define _POSIX_C_SOURCE 200809L /* clock_gettime, for the harness */',
  '#include <stdint.h>',
  '#include <stdlib.h>',
  '#include <string.h>',
  '#include <math.h>',
  '',
  '/* floor division and its remainder: index arithmetic means the same as in the loop IR */',
  'static inline int ls_fdiv(int a, int b) { int q = a / b; return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q; }',
  'static inline int ls_fmod(int a, int b) { int r = a % b; return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }',
  'static inline float ls_relu(float x) { return x > 0.0f ? x : 0.0f; }',
  'static inline float ls_maxf(float a, float b) { return a > b ? a : b; }',
  'static inline float ls_minf(float a, float b) { return a < b ? a : b; }',
  ...widths.flatMap((n) => [
    `typedef float ls_v${n} __attribute__((vector_size(${n * 4})));`,
    `static inline ls_v${n} ls_load${n}(const float *p) { ls_v${n} v; memcpy(&v, p, sizeof v); return v; }`,
    `static inline void ls_store${n}(float *p, ls_v${n} v) { memcpy(p, &v, sizeof v); }`,
    `static inline ls_v${n} ls_splat${n}(float x) { return (ls_v${n}){ ${Array(n).fill('x').join(', ')} }; }`,
    // Lane-wise helpers written as loops: compilers turn them into single vector instructions.
    `static inline ls_v${n} ls_vmax${n}(ls_v${n} a, ls_v${n} b) { ls_v${n} r; for (int i = 0; i < ${n}; i++) r[i] = a[i] > b[i] ? a[i] : b[i]; return r; }`,
    `static inline ls_v${n} ls_vmin${n}(ls_v${n} a, ls_v${n} b) { ls_v${n} r; for (int i = 0; i < ${n}; i++) r[i] = a[i] < b[i] ? a[i] : b[i]; return r; }`,
  ]),
  '',
];

const floatLit = (v: number) => {
  if (Object.is(v, -0) || v === 0) return '0.0f';
  const s = Math.fround(v).toPrecision(9).replace(/\.?0+(e|$)/, '$1');
  return /[.e]/.test(s) ? `${s}f` : `${s}.0f`;
};

export interface CRenderOptions {
  /** f32 lanes of the target's vector registers: wider vectorized loops become several vectors. */
  readonly lanes: number;
}

/** Renders a lowered program as a C11 function. */
export function renderC(lowered: Lowered, functionName = 'kernel', opts: CRenderOptions = { lanes: 16 }): CKernel {
  const p = lowered.program;
  const vars = new Names();
  const bufNames = new Names();
  const decls = new Map<string, BufferDecl>(p.buffers.map((b) => [b.name, b]));
  const lines: string[] = [];
  const widths = new Set<number>();
  let usesOpenMP = false;
  const fn = new Names().get(functionName);
  const emit = (depth: number, s: string) => lines.push('  '.repeat(depth + 1) + s);

  /**
   * Register tiles: one variable per row of the last dimension and per vector of that row
   * (`C_local_r3_c1` is row 3, lanes 16..31 with 16-lane vectors).
   */
  const tileWidth = (b: BufferDecl) => Math.min(b.shape[b.shape.length - 1]!, opts.lanes);
  const tileRow = (b: BufferDecl, idx: readonly Expr[], ranges: Map<string, Interval>): string | undefined => {
    if (!lowered.registerTiles.has(b.name)) return undefined;
    const prefix = idx.slice(0, -1).map((e) => simplifyExpr(e, ranges));
    if (!prefix.every((e) => e.kind === 'const')) throw new Error(`register tile ${b.name} indexed by a non-constant row`);
    let flat = 0;
    prefix.forEach((e, d) => { flat = flat * b.shape[d]! + (e as { value: number }).value; });
    return `${bufNames.get(b.name)}_r${flat}`;
  };
  const tileChunks = (b: BufferDecl) => b.shape[b.shape.length - 1]! / tileWidth(b);
  /** A scalar element of a register tile, for reading; `write` gives a statement storing into it. */
  const tileElement = (b: BufferDecl, idx: readonly Expr[], ranges: Map<string, Interval>, lane?: { v: string; n: number }) => {
    const row = tileRow(b, idx, ranges)!;
    const w = tileWidth(b), chunks = tileChunks(b);
    const last = simplifyExpr(lane ? substitute(idx[idx.length - 1]!, new Map([[lane.v, int(lane.n)]])) : idx[idx.length - 1]!, ranges);
    if (last.kind === 'const') {
      const ref = `${row}_c${Math.floor(last.value / w)}[${last.value % w}]`;
      return { read: ref, write: (x: string) => `${ref} = ${x};` };
    }
    const j = expr(last, ranges);
    const parts = Array.from({ length: chunks }, (_, c) => ({ c, ref: `${row}_c${c}[${c === 0 ? j : `${j} - ${c * w}`}]` }));
    const read = parts.slice(0, -1).reduceRight((acc, q) => `(${j} < ${(q.c + 1) * w} ? ${q.ref} : ${acc})`, parts[parts.length - 1]!.ref);
    const write = (x: string) => parts.map((q, i) => (i === 0 ? '' : 'else ') + (i < parts.length - 1 ? `if (${j} < ${(q.c + 1) * w}) ` : '') + `${q.ref} = ${x};`).join(' ');
    return { read, write };
  };
  /** The vector variable of a register tile that lane variable `v` (plus an offset) covers, if any. */
  const tileVector = (b: BufferDecl, idx: readonly Expr[], v: string, n: number, ranges: Map<string, Interval>): string | undefined => {
    const w = tileWidth(b);
    if (w !== n) return undefined;
    const f = affineIn(simplifyExpr(idx[idx.length - 1]!, ranges), new Set([v]));
    if (!f || f.rest || f.coefs.get(v) !== 1 || f.constant % w !== 0) return undefined;
    return `${tileRow(b, idx, ranges)}_c${f.constant / w}`;
  };

  const flatOffset = (b: BufferDecl, idx: readonly Expr[], ranges: Map<string, Interval>): Expr => rowMajorOffset(b.shape, idx, ranges);

  // --- scalar expressions, parenthesised only where C's precedence needs it ---
  const expr = (e: Expr, ranges: Map<string, Interval>, lane?: { v: string; n: number }, outer = 0): string => {
    const wrap = (code: string, prec: number) => (prec < outer ? `(${code})` : code);
    const sub = (x: Expr, prec = 0) => expr(x, ranges, lane, prec);
    switch (e.kind) {
      case 'const':
        return e.dtype === 'f32' || e.dtype === 'f16' ? floatLit(e.value) : e.value < 0 ? wrap(String(e.value), 6) : String(e.value);
      case 'var':
        return lane && e.name === lane.v ? wrap(`${vars.get(e.name)} + ${lane.n}`, 4) : vars.get(e.name);
      case 'binary': {
        const nonneg = () => {
          const r = bounds(lane ? substitute(e.a, new Map([[lane.v, int(lane.n)]])) : e.a, ranges);
          return r !== undefined && r[0] >= 0;
        };
        switch (e.op) {
          case 'add': return wrap(`${sub(e.a, 4)} + ${sub(e.b, 5)}`, 4);
          case 'sub': return wrap(`${sub(e.a, 4)} - ${sub(e.b, 5)}`, 4);
          case 'mul': return wrap(`${sub(e.a, 5)} * ${sub(e.b, 6)}`, 5);
          case 'div': return isIntExpr(e) && !nonneg() ? `ls_fdiv(${sub(e.a)}, ${sub(e.b)})` : wrap(`${sub(e.a, 5)} / ${sub(e.b, 6)}`, 5);
          case 'mod': return nonneg() ? wrap(`${sub(e.a, 5)} % ${sub(e.b, 6)}`, 5) : `ls_fmod(${sub(e.a)}, ${sub(e.b)})`;
          case 'min': return isIntExpr(e) ? `(${sub(e.a, 3)} < ${sub(e.b, 3)} ? ${sub(e.a, 1)} : ${sub(e.b, 1)})` : `ls_minf(${sub(e.a)}, ${sub(e.b)})`;
          case 'max': return isIntExpr(e) ? `(${sub(e.a, 3)} > ${sub(e.b, 3)} ? ${sub(e.a, 1)} : ${sub(e.b, 1)})` : `ls_maxf(${sub(e.a)}, ${sub(e.b)})`;
        }
        break;
      }
      case 'unary': {
        const a = sub(e.a);
        return { neg: wrap(`-${sub(e.a, 6)}`, 6), relu: `ls_relu(${a})`, exp: `expf(${a})`, sqrt: `sqrtf(${a})`, abs: `fabsf(${a})` }[e.op];
      }
      case 'cmp': {
        const op = { lt: '<', le: '<=', eq: '==', ne: '!=', ge: '>=', gt: '>' }[e.op];
        return wrap(`${sub(e.a, 4)} ${op} ${sub(e.b, 4)}`, 3);
      }
      case 'logic':
        return e.op === 'and' ? wrap(`${sub(e.a, 2)} && ${sub(e.b, 3)}`, 2) : wrap(`${sub(e.a, 1)} || ${sub(e.b, 2)}`, 1);
      case 'not':
        return `!${sub(e.a, 7)}`;
      case 'select':
        return wrap(`${sub(e.cond, 1)} ? ${sub(e.then, 1)} : ${sub(e.else, 1)}`, 0.5);
      case 'cast':
        return e.dtype === 'f32' ? `(float)${sub(e.a, 7)}` : `(int)${sub(e.a, 7)}`;
      case 'load': {
        const b = decls.get(e.buffer)!;
        if (lowered.registerTiles.has(b.name)) return tileElement(b, e.indices, ranges, lane).read;
        return `${bufNames.get(b.name)}[${expr(flatOffset(b, e.indices, ranges), ranges, lane)}]`;
      }
    }
    throw new Error(`cannot render ${JSON.stringify(e)}`);
  };

  // --- vector expressions for a vectorized loop over v with n lanes ---
  type VExpr = { code: string; vec: boolean };
  const laneStride = (off: Expr, v: string): number | undefined => {
    const f = affineIn(off, new Set([v]));
    return f ? (f.coefs.get(v) ?? 0) : undefined;
  };
  const vexpr = (e: Expr, v: string, n: number, ranges: Map<string, Interval>): VExpr | undefined => {
    if (!usesVar(e, v) && !loadsRow(e, v)) return { code: expr(e, ranges), vec: false };
    const at0 = (x: Expr) => substitute(x, new Map([[v, int(0)]]));
    switch (e.kind) {
      case 'load': {
        const b = decls.get(e.buffer)!;
        if (lowered.registerTiles.has(b.name)) {
          const vec = tileVector(b, e.indices, v, n, ranges);
          return vec ? { code: vec, vec: true } : undefined;
        }
        const off = flatOffset(b, e.indices, ranges);
        const stride = laneStride(off, v);
        if (stride === 1) return { code: `ls_load${n}(&${bufNames.get(b.name)}[${expr(simplifyExpr(at0(off), ranges), ranges)}])`, vec: true };
        // Any other access pattern: gather the lanes one by one.
        return { code: `(ls_v${n}){ ${Array.from({ length: n }, (_, i) => expr(substitute(e, new Map([[v, int(i)]])), ranges)).join(', ')} }`, vec: true };
      }
      case 'binary': {
        if (isIntExpr(e) || e.op === 'mod') return undefined;
        const a = vexpr(e.a, v, n, ranges), b = vexpr(e.b, v, n, ranges);
        if (!a || !b) return undefined;
        const wrap = (x: VExpr) => (x.vec ? x.code : `ls_splat${n}(${x.code})`);
        if (e.op === 'min' || e.op === 'max') return { code: `ls_v${e.op}${n}(${wrap(a)}, ${wrap(b)})`, vec: true };
        const sym = { add: '+', sub: '-', mul: '*', div: '/' }[e.op];
        return { code: `(${wrap(a)} ${sym} ${wrap(b)})`, vec: true };
      }
      case 'unary': {
        const a = vexpr(e.a, v, n, ranges);
        if (!a) return undefined;
        const av = a.vec ? a.code : `ls_splat${n}(${a.code})`;
        if (e.op === 'neg') return { code: `(-${av})`, vec: true };
        if (e.op === 'relu') return { code: `ls_vmax${n}(${av}, ls_splat${n}(0.0f))`, vec: true };
        return undefined;
      }
      default:
        return undefined;
    }
  };
  const loadsRow = (e: Expr, v: string) => {
    let hit = false;
    forEachExpr(e, (x) => {
      if (x.kind === 'load' && lowered.registerTiles.has(x.buffer) && x.indices.some((i) => usesVar(i, v))) hit = true;
    });
    return hit;
  };

  /**
   * A vectorized loop rendered as vector statements, one per `lanes`-wide chunk; false when its
   * body does not fit (then it stays a loop the compiler may still vectorize).
   */
  const vectorLoop = (l: ForStmt, depth: number, ranges: Map<string, Interval>): boolean => {
    const w = Math.min(l.extent, opts.lanes);
    if (!VECTOR_WIDTHS.has(w) || l.extent % w !== 0) return false;
    const out: string[] = [];
    for (let c = 0; c < l.extent / w; c++) {
      const shifted = c === 0 ? l.body : mapStmtExprs(l.body, (e) => substitute(e, new Map([[l.var, add(variable(l.var), int(c * w))]])));
      const line = vectorStatement(shifted, l.var, w, ranges);
      if (line === undefined) return false;
      out.push(line);
    }
    widths.add(w);
    out.forEach((line) => emit(depth, line));
    return true;
  };

  const vectorStatement = (body: Stmt, v: string, n: number, ranges: Map<string, Interval>): string | undefined => {
    let s: Stmt = body;
    const conds: Expr[] = [];
    while (s.kind === 'if') {
      if (usesVar(s.cond, v)) return undefined;
      conds.push(s.cond);
      s = s.then;
    }
    if (s.kind !== 'store' || (s.accum !== 'assign' && s.accum !== 'sum' && s.accum !== 'max' && s.accum !== 'min')) return undefined;
    const inner = new Map(ranges).set(v, [0, n - 1] as const);
    const b = decls.get(s.buffer)!;
    const value = vexpr(s.value, v, n, inner);
    if (!value) return undefined;
    let current: string;
    let write: (x: string) => string;
    if (lowered.registerTiles.has(b.name)) {
      const target = tileVector(b, s.indices, v, n, inner);
      if (!target) return undefined;
      current = target;
      write = (x) => `${target} = ${x};`;
    } else {
      const off = flatOffset(b, s.indices, inner);
      if (laneStride(off, v) !== 1) return undefined;
      const base = `&${bufNames.get(b.name)}[${expr(simplifyExpr(substitute(off, new Map([[v, int(0)]])), inner), inner)}]`;
      current = `ls_load${n}(${base})`;
      write = (x) => `ls_store${n}(${base}, ${x});`;
    }
    const val = value.vec ? value.code : `ls_splat${n}(${value.code})`;
    const combined = s.accum === 'assign' ? val : s.accum === 'sum' ? `${current} + ${val}` : `ls_v${s.accum}${n}(${current}, ${val})`;
    const line = write(combined);
    return conds.length ? `if (${conds.map((c) => expr(c, ranges)).join(' && ')}) ${line}` : line;
  };

  const stmt = (s: Stmt, depth: number, ranges: Map<string, Interval>): void => {
    switch (s.kind) {
      case 'for': {
        const inner = new Map(ranges).set(s.var, [0, s.extent - 1] as const);
        if (s.loopKind === 'vectorized' && vectorLoop(s, depth, ranges)) return;
        const v = vars.get(s.var);
        if (s.loopKind === 'parallel') {
          usesOpenMP = true;
          emit(depth, '#pragma omp parallel for schedule(static)');
        } else if (s.loopKind === 'vectorized') {
          emit(depth, '#pragma GCC ivdep');
        } else if (s.loopKind === 'unrolled') {
          emit(depth, `#pragma GCC unroll ${s.extent}`);
        }
        const note = s.loopKind === 'serial' ? '' : ` /* ${s.loopKind} */`;
        emit(depth, `for (int ${v} = 0; ${v} < ${s.extent}; ${v}++) {${note}`);
        stmt(s.body, depth + 1, inner);
        emit(depth, '}');
        return;
      }
      case 'seq':
        s.body.forEach((x) => stmt(x, depth, ranges));
        return;
      case 'if':
        emit(depth, `if (${expr(s.cond, ranges)}) {`);
        stmt(s.then, depth + 1, ranges);
        emit(depth, '}');
        return;
      case 'alloc': {
        const b = s.buffer;
        decls.set(b.name, b);
        const id = bufNames.get(b.name);
        const size = b.shape.reduce((x, y) => x * y, 1);
        emit(depth, '{');
        if (lowered.registerTiles.has(b.name)) {
          const w = tileWidth(b), rows = size / b.shape[b.shape.length - 1]!;
          widths.add(w);
          const names = Array.from({ length: rows }, (_, r) => Array.from({ length: tileChunks(b) }, (_, c) => `${id}_r${r}_c${c}`)).flat();
          emit(depth + 1, `ls_v${w} ${names.join(', ')}; /* register tile ${b.name}: ${b.shape.join('x')} */`);
          stmt(s.body, depth + 1, ranges);
        } else if (size * 4 <= STACK_BYTES) {
          emit(depth + 1, `float ${id}[${size}] __attribute__((aligned(64))); /* ${b.name}: ${b.shape.join('x')} */`);
          stmt(s.body, depth + 1, ranges);
        } else {
          emit(depth + 1, `float *restrict ${id} = aligned_alloc(64, ${Math.ceil((size * 4) / 64) * 64}); /* ${b.name}: ${b.shape.join('x')} */`);
          emit(depth + 1, `if (!${id}) abort();`);
          stmt(s.body, depth + 1, ranges);
          emit(depth + 1, `free(${id});`);
        }
        emit(depth, '}');
        return;
      }
      case 'store': {
        const b = decls.get(s.buffer)!;
        const v = expr(s.value, ranges);
        if (lowered.registerTiles.has(b.name)) {
          const el = tileElement(b, s.indices, ranges);
          const combined = s.accum === 'assign' ? v : s.accum === 'sum' ? `${el.read} + ${v}` : `ls_${s.accum}f(${el.read}, ${v})`;
          emit(depth, el.write(combined));
          return;
        }
        const target = `${bufNames.get(b.name)}[${expr(flatOffset(b, s.indices, ranges), ranges)}]`;
        if (s.accum === 'assign') emit(depth, `${target} = ${v};`);
        else if (s.accum === 'sum') emit(depth, `${target} += ${v};`);
        else emit(depth, `${target} = ls_${s.accum}f(${target}, ${v});`);
        return;
      }
      case 'barrier':
        return;
    }
  };

  const params: CParam[] = p.buffers.map((b) => ({ name: b.name, cName: bufNames.get(b.name), shape: b.shape, role: b.role === 'output' ? 'output' : 'input' }));
  stmt(p.body, 0, new Map());
  const signature = params.map((q) => `${q.role === 'input' ? 'const ' : ''}float *restrict ${q.cName}`).join(', ');
  const header = [
    `/* generated by loopsmith: ${p.name}(${p.buffers.map((b) => `${b.name}[${b.shape.join('][')}]`).join(', ')}) */`,
    ...PRELUDE([...widths].sort((a, b) => a - b)),
    `void ${fn}(${signature}) {`,
  ];
  return { source: [...header, ...lines, '}', ''].join('\n'), functionName: fn, params, usesOpenMP };
}

/** True for integer arithmetic: operands are index variables or integer constants. */
function isIntExpr(e: Expr): boolean {
  switch (e.kind) {
    case 'const': return e.dtype === 'i32' || e.dtype === 'u32';
    case 'var': return true;
    case 'binary': return isIntExpr(e.a);
    case 'unary': return isIntExpr(e.a);
    case 'select': return isIntExpr(e.then);
    case 'cast': return e.dtype === 'i32' || e.dtype === 'u32';
    default: return false;
  }
}

