import { Expr, add, int, substitute, usesVar, variable } from '../../ir/expr.js';
import { Accumulate, ForStmt, Stmt, mapStmtExprs } from '../../ir/loop.js';
import { affineIn } from '../../scheduler/affine.js';
import { Code, atom } from '../cstyle/code.js';
import { ExprPrinter, LoadExpr, Ranges } from '../cstyle/expr.js';
import { Names } from '../cstyle/names.js';
import { rowMajorOffset } from '../layout.js';
import { simplifyExpr } from '../simplify.js';
import { C_DIALECT } from './dialect.js';
import { RegisterTiles } from './register-tiles.js';

const VECTOR_WIDTHS = new Set([2, 4, 8, 16, 32, 64]);
const s = C_DIALECT.syntax;

/** A value in a vector statement: a vector, or a scalar the same in every lane (splatted where it meets a vector). */
interface Lanes {
  readonly code: Code;
  readonly vec: boolean;
}

const at = (e: Expr, v: string, lane: number) => substitute(e, new Map([[v, int(lane)]]));

/** Stride of `off` along lane variable `v`, when `off` is affine in it. */
function laneStride(off: Expr, v: string): number | undefined {
  const f = affineIn(off, new Set([v]));
  return f ? (f.coefs.get(v) ?? 0) : undefined;
}

/**
 * Vectorized loops as GCC/Clang vector-extension statements, one per `lanes`-wide chunk:
 * contiguous loads and stores, splats for values uniform across the lanes, gathers otherwise, and
 * register-tile chunks used directly.
 */
export class Vectorizer {
  /** Vector widths used, whose types and helpers the prelude must declare. */
  readonly widths = new Set<number>();

  constructor(private readonly exprs: ExprPrinter, private readonly tiles: RegisterTiles, private readonly names: Names, private readonly lanes: number) {}

  /** The statements for loop `l`; undefined when its body does not fit (then it stays a loop the compiler may still vectorize). */
  loop(l: ForStmt, r: Ranges): string[] | undefined {
    const w = Math.min(l.extent, this.lanes);
    if (!VECTOR_WIDTHS.has(w) || l.extent % w !== 0) return undefined;
    const out: string[] = [];
    for (let c = 0; c < l.extent / w; c++) {
      const shifted = c === 0 ? l.body : mapStmtExprs(l.body, (e) => substitute(e, new Map([[l.var, add(variable(l.var), int(c * w))]])));
      const line = this.statement(shifted, l.var, w, r);
      if (line === undefined) return undefined;
      out.push(line);
    }
    this.widths.add(w);
    return out;
  }

  /** One guarded store over lanes `v` = 0..n-1, or undefined. */
  private statement(body: Stmt, v: string, n: number, r: Ranges): string | undefined {
    let st: Stmt = body;
    const conds: Code[] = [];
    for (; st.kind === 'if'; st = st.then) {
      if (usesVar(st.cond, v)) return undefined;
      conds.push(this.exprs.print(st.cond, r));
    }
    if (st.kind !== 'store') return undefined;
    const inner = new Map(r).set(v, [0, n - 1] as const);
    const value = this.value(st.value, v, n, inner);
    const target = value && this.target(st.buffer, st.indices, v, n, inner);
    if (!value || !target) return undefined;
    const line = target.write(this.combine(st.accum, target.current, this.splat(value, n), n));
    return conds.length ? `if (${conds.reduce((a, b) => s.infix('&&', a, b)).text}) ${line}` : line;
  }

  /** Where a vector store goes: a register-tile chunk, or a contiguous run of a buffer in memory. */
  private target(buffer: string, idx: readonly Expr[], v: string, n: number, r: Ranges): { current: Code; write: (x: Code) => string } | undefined {
    const b = this.exprs.decl(buffer);
    if (this.tiles.has(buffer)) {
      const chunk = this.tiles.vector(b, idx, v, n, r);
      return chunk && { current: chunk, write: (x) => `${chunk.text} = ${x.text};` };
    }
    const off = rowMajorOffset(b.shape, idx, r);
    if (laneStride(off, v) !== 1) return undefined;
    const base = this.base(buffer, at(off, v, 0), r);
    return { current: s.call(`ls_load${n}`, base), write: (x) => `${s.call(`ls_store${n}`, base, x).text};` };
  }

  private combine(accum: Accumulate, current: Code, value: Code, n: number): Code {
    if (accum === 'assign') return value;
    return accum === 'sum' ? s.infix('+', current, value) : s.call(`ls_v${accum}${n}`, current, value);
  }

  private value(e: Expr, v: string, n: number, r: Ranges): Lanes | undefined {
    if (!usesVar(e, v)) return { code: this.exprs.print(e, r), vec: false };
    switch (e.kind) {
      case 'load': return this.load(e, v, n, r);
      case 'binary': {
        if (this.exprs.isInt(e) || e.op === 'mod') return undefined;
        const a = this.value(e.a, v, n, r), b = this.value(e.b, v, n, r);
        if (!a || !b) return undefined;
        const [x, y] = [this.splat(a, n), this.splat(b, n)];
        const code = e.op === 'min' || e.op === 'max' ? s.call(`ls_v${e.op}${n}`, x, y) : s.infix(({ add: '+', sub: '-', mul: '*', div: '/' } as const)[e.op], x, y);
        return { code, vec: true };
      }
      case 'unary': {
        const a = this.value(e.a, v, n, r);
        if (!a) return undefined;
        if (e.op === 'neg') return { code: s.prefix('-', this.splat(a, n)), vec: true };
        if (e.op === 'relu') return { code: s.call(`ls_vmax${n}`, this.splat(a, n), s.call(`ls_splat${n}`, C_DIALECT.floatLiteral(0))), vec: true };
        return undefined;
      }
      case 'select': {
        // A guard the same in every lane (a padding test of the broadcast input, say) picks a whole vector: still one vector statement.
        if (usesVar(e.cond, v)) return undefined;
        const t = this.value(e.then, v, n, r), o = this.value(e.else, v, n, r);
        if (!t || !o) return undefined;
        return { code: C_DIALECT.select(this.exprs.print(e.cond, r), this.splat(t, n), this.splat(o, n)), vec: true };
      }
      default:
        return undefined;
    }
  }

  private load(e: LoadExpr, v: string, n: number, r: Ranges): Lanes | undefined {
    const b = this.exprs.decl(e.buffer);
    if (this.tiles.has(b.name)) {
      const chunk = this.tiles.vector(b, e.indices, v, n, r);
      return chunk && { code: chunk, vec: true };
    }
    const off = rowMajorOffset(b.shape, e.indices, r);
    if (laneStride(off, v) === 1) return { code: s.call(`ls_load${n}`, this.base(b.name, at(off, v, 0), r)), vec: true };
    // Any other access pattern: gather the lanes one by one.
    const lanes = Array.from({ length: n }, (_, i) => this.exprs.print(at(e, v, i), r).text);
    return { code: atom(`(ls_v${n}){ ${lanes.join(', ')} }`), vec: true };
  }

  private splat(x: Lanes, n: number): Code {
    return x.vec ? x.code : s.call(`ls_splat${n}`, x.code);
  }

  /** `&buffer[offset]`, where a run of lanes starts. */
  private base(buffer: string, off: Expr, r: Ranges): Code {
    return s.prefix('&', s.index(this.names.buffer(buffer), this.exprs.print(simplifyExpr(off, r), r)));
  }
}
