import { Expr } from '../../ir/expr.js';
import { Accumulate, AllocStmt, BufferDecl, ForStmt, Stmt, StoreStmt } from '../../ir/loop.js';
import { Code } from './code.js';
import { Dialect } from './dialect.js';
import { ExprPrinter, Ranges } from './expr.js';
import { Names } from './names.js';

/** `current` combined with `value` as a store's `accum` says, as a value. */
export function combine(d: Dialect, accum: Accumulate, current: Code, value: Code, int: boolean): Code {
  if (accum === 'assign') return value;
  if (accum === 'sum') return d.syntax.infix('+', current, value);
  return d.builtin(accum, int, current, value);
}

/** `name: 4x8`, for the comment on a scratch declaration. */
export const scratchNote = (name: string, shape: readonly number[]) => `${name}: ${shape.join('x')}`;

export const elements = (shape: readonly number[]) => shape.reduce((x, y) => x * y, 1);

/**
 * The statement walker every C-style dialect shares: blocks, conditionals, sequences and plain
 * stores are the same; a dialect says how loops, scratch buffers and barriers look.
 */
export abstract class StmtWriter {
  readonly lines: string[] = [];

  constructor(
    protected readonly dialect: Dialect,
    protected readonly names: Names,
    protected readonly exprs: ExprPrinter,
    /** Every buffer in scope by IR name; scratch is added as its allocation is reached. */
    protected readonly decls: Map<string, BufferDecl>,
  ) {}

  write(s: Stmt, depth: number, r: Ranges): void {
    switch (s.kind) {
      case 'for': return this.loop(s, depth, r, new Map(r).set(s.var, [0, s.extent - 1] as const));
      case 'seq': return s.body.forEach((x) => this.write(x, depth, r));
      case 'if': return this.block(depth, `if (${this.expr(s.cond, r)}) {`, () => this.write(s.then, depth + 1, r));
      case 'alloc':
        this.decls.set(s.buffer.name, s.buffer);
        return this.alloc(s, depth, r);
      case 'store': return this.store(s, depth, r);
      case 'barrier': return this.barrier(depth);
    }
  }

  /** `inner` is `outer` with the loop's own variable. */
  protected abstract loop(s: ForStmt, depth: number, outer: Ranges, inner: Ranges): void;
  protected abstract alloc(s: AllocStmt, depth: number, r: Ranges): void;
  protected abstract barrier(depth: number): void;

  /** A store to a buffer in memory: assignment, `+=`, or the reducer applied to the old value. */
  protected store(s: StoreStmt, depth: number, r: Ranges): void {
    const b = this.exprs.decl(s.buffer);
    const target = this.exprs.element(b, s.indices, r);
    const value = this.exprs.print(s.value, r);
    if (s.accum === 'assign') this.emit(depth, `${target.text} = ${value.text};`);
    else if (s.accum === 'sum') this.emit(depth, `${target.text} += ${value.text};`);
    else this.emit(depth, `${target.text} = ${combine(this.dialect, s.accum, target, value, this.exprs.isInt(s.value)).text};`);
  }

  protected expr(e: Expr, r: Ranges): string {
    return this.exprs.print(e, r).text;
  }

  protected emit(depth: number, line: string): void {
    this.lines.push('  '.repeat(depth + 1) + line);
  }

  /** `header`, what `body` writes one level deeper, and the closing brace. */
  protected block(depth: number, header: string, body: () => void): void {
    this.emit(depth, header);
    body();
    this.emit(depth, '}');
  }
}
