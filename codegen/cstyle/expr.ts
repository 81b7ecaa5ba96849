import { isFloat } from '../../ir/dtype.js';
import { CmpOp, Expr } from '../../ir/expr.js';
import { Interval, bounds } from '../../ir/interval.js';
import { BufferDecl } from '../../ir/loop.js';
import { rowMajorOffset } from '../layout.js';
import { Code, InfixOp, atom } from './code.js';
import { Dialect } from './dialect.js';
import { Names } from './names.js';

export type Ranges = ReadonlyMap<string, Interval>;
export type LoadExpr = Extract<Expr, { kind: 'load' }>;

const CMP: Record<CmpOp, InfixOp> = { lt: '<', le: '<=', eq: '==', ne: '!=', ge: '>=', gt: '>' };
const ARITH = { add: '+', sub: '-', mul: '*' } as const;

/**
 * Scalar expressions of the loop IR in a C-style dialect. Integer `div` and `mod` are floor
 * division and its remainder in the IR: they become the `ls_fdiv`/`ls_fmod` helpers unless the
 * dividend is provably non-negative, where the language's truncating operators agree.
 */
export class ExprPrinter {
  constructor(
    protected readonly dialect: Dialect,
    protected readonly names: Names,
    /** Every buffer in scope, scratch included, by IR name. */
    protected readonly decls: ReadonlyMap<string, BufferDecl>,
  ) {}

  print(e: Expr, r: Ranges): Code {
    const d = this.dialect, s = d.syntax;
    switch (e.kind) {
      case 'const': return isFloat(e.dtype) ? d.floatLiteral(e.value) : d.intLiteral(e.value);
      case 'var': return atom(this.names.variable(e.name));
      case 'binary': return this.binary(e, r);
      case 'unary': {
        const a = this.print(e.a, r);
        return e.op === 'neg' ? s.prefix('-', a) : d.builtin(e.op, this.isInt(e), a);
      }
      case 'cmp': return s.infix(CMP[e.op], this.print(e.a, r), this.print(e.b, r));
      case 'logic': return s.infix(e.op === 'and' ? '&&' : '||', this.print(e.a, r), this.print(e.b, r));
      case 'not': return s.prefix('!', this.print(e.a, r));
      case 'select': return d.select(this.print(e.cond, r), this.print(e.then, r), this.print(e.else, r));
      case 'cast': return d.cast(e.dtype, this.print(e.a, r));
      case 'load': return this.load(e, r);
    }
  }

  /** A load; a dialect may keep some buffers elsewhere than in memory. */
  protected load(e: LoadExpr, r: Ranges): Code {
    return this.element(this.decl(e.buffer), e.indices, r);
  }

  /** Element `idx` of a buffer in memory, by its row-major offset. */
  element(b: BufferDecl, idx: readonly Expr[], r: Ranges): Code {
    return this.dialect.syntax.index(this.names.buffer(b.name), this.print(rowMajorOffset(b.shape, idx, r), r));
  }

  decl(name: string): BufferDecl {
    const b = this.decls.get(name);
    if (!b) throw new Error(`buffer ${name} is not in scope`);
    return b;
  }

  /** True for integer arithmetic (the IR is verified, so the first operand's type is the type). */
  isInt(e: Expr): boolean {
    switch (e.kind) {
      case 'const':
      case 'cast': return !isFloat(e.dtype);
      case 'var': return true;
      case 'binary':
      case 'unary': return this.isInt(e.a);
      case 'select': return this.isInt(e.then);
      case 'load': return !isFloat(this.decl(e.buffer).dtype);
      case 'cmp':
      case 'logic':
      case 'not': return false;
    }
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>, r: Ranges): Code {
    const d = this.dialect, s = d.syntax;
    const a = this.print(e.a, r), b = this.print(e.b, r);
    const nonneg = () => {
      const x = bounds(e.a, r);
      return x !== undefined && x[0] >= 0;
    };
    switch (e.op) {
      case 'add':
      case 'sub':
      case 'mul': return s.infix(ARITH[e.op], a, b);
      case 'div': return this.isInt(e) && !nonneg() ? s.call('ls_fdiv', a, b) : s.infix('/', a, b);
      case 'mod': return nonneg() ? s.infix('%', a, b) : s.call('ls_fmod', a, b);
      case 'min':
      case 'max': return d.builtin(e.op, this.isInt(e), a, b);
    }
  }
}
