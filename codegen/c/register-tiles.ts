import { Expr } from '../../ir/expr.js';
import { BufferDecl } from '../../ir/loop.js';
import { affineIn } from '../../scheduler/affine.js';
import { Code, atom, literal } from '../cstyle/code.js';
import { Ranges } from '../cstyle/expr.js';
import { Names } from '../cstyle/names.js';
import { scratchNote, elements } from '../cstyle/stmt.js';
import { simplifyExpr } from '../simplify.js';
import { C_DIALECT } from './dialect.js';

/** A scalar of a register tile: how to read it, and the statement that stores `x` into it. */
export interface TileElement {
  readonly read: Code;
  write(x: Code): string;
}

const s = C_DIALECT.syntax;

/**
 * Register tiles (chosen by the register-tiles pass): one vector variable per row of the last
 * dimension and per `lanes`-wide chunk of that row (`C_local_r3_c1` is row 3, lanes 16..31 with
 * 16-lane vectors). Every access names its row with constant indices once unrolled loops are expanded.
 */
export class RegisterTiles {
  constructor(private readonly tiles: ReadonlySet<string>, private readonly names: Names, private readonly lanes: number) {}

  has(buffer: string): boolean {
    return this.tiles.has(buffer);
  }

  /** Lanes of one chunk variable. */
  width(b: BufferDecl): number {
    return Math.min(b.shape[b.shape.length - 1]!, this.lanes);
  }

  /** The declaration of every chunk variable of the tile. */
  declare(b: BufferDecl): string {
    const rows = elements(b.shape) / b.shape[b.shape.length - 1]!;
    const vars = Array.from({ length: rows }, (_, r) => Array.from({ length: this.chunks(b) }, (_, c) => this.variable(b, r, c))).flat();
    return `ls_v${this.width(b)} ${vars.join(', ')}; /* register tile ${scratchNote(b.name, b.shape)} */`;
  }

  /** Element `idx`; a column that is not constant selects among the row's chunks at run time. */
  element(b: BufferDecl, idx: readonly Expr[], r: Ranges, print: (e: Expr) => Code): TileElement {
    const row = this.row(b, idx, r), w = this.width(b);
    const last = simplifyExpr(idx[idx.length - 1]!, r);
    if (last.kind === 'const') {
      const ref = s.index(this.variable(b, row, Math.floor(last.value / w)), literal(String(last.value % w)));
      return { read: ref, write: (x) => `${ref.text} = ${x.text};` };
    }
    const j = print(last);
    const parts = Array.from({ length: this.chunks(b) }, (_, c) => ({
      ref: s.index(this.variable(b, row, c), c === 0 ? j : s.infix('-', j, literal(String(c * w)))),
      below: s.infix('<', j, literal(String((c + 1) * w))),
    }));
    const read = parts.slice(0, -1).reduceRight((acc, q) => s.ternary(q.below, q.ref, acc), parts[parts.length - 1]!.ref);
    const write = (x: Code) => parts.map((q, i) => (i === 0 ? '' : 'else ') + (i < parts.length - 1 ? `if (${q.below.text}) ` : '') + `${q.ref.text} = ${x.text};`).join(' ');
    return { read, write };
  }

  /** The chunk variable that lane variable `v` of an `n`-lane vector statement covers, if there is one. */
  vector(b: BufferDecl, idx: readonly Expr[], v: string, n: number, r: Ranges): Code | undefined {
    const w = this.width(b);
    if (w !== n) return undefined;
    const f = affineIn(simplifyExpr(idx[idx.length - 1]!, r), new Set([v]));
    if (!f || f.rest || f.coefs.get(v) !== 1 || f.constant % w !== 0) return undefined;
    return atom(this.variable(b, this.row(b, idx, r), f.constant / w));
  }

  private chunks(b: BufferDecl): number {
    return b.shape[b.shape.length - 1]! / this.width(b);
  }

  private variable(b: BufferDecl, row: number, chunk: number): string {
    return this.names.derived(b.name, `r${row}_c${chunk}`);
  }

  /** The row-major number of the row `idx` names. */
  private row(b: BufferDecl, idx: readonly Expr[], r: Ranges): number {
    const prefix = idx.slice(0, -1).map((e) => simplifyExpr(e, r));
    let flat = 0;
    prefix.forEach((e, d) => {
      if (e.kind !== 'const') throw new Error(`register tile ${b.name} indexed by a non-constant row`);
      flat = flat * b.shape[d]! + e.value;
    });
    return flat;
  }
}
