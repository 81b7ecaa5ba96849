/**
 * Rendered expressions that know how tightly they bind, so that every composition parenthesizes
 * exactly where the grammar needs it: correct by construction, whatever nests in what.
 */

/** Binding strength of an expression's outermost operator; higher binds tighter. */
export const PREC = { top: 0, ternary: 1, or: 2, and: 3, cmp: 4, add: 5, mul: 6, unary: 7, primary: 8 } as const;

export interface Code {
  readonly text: string;
  readonly prec: number;
  /** The outermost operator, for grammars that forbid mixing some operators without parentheses. */
  readonly op?: string;
}

export const atom = (text: string): Code => ({ text, prec: PREC.primary });

/** A literal that may start with a minus sign: it binds like a unary expression then. */
export const literal = (text: string): Code => ({ text, prec: text.startsWith('-') ? PREC.unary : PREC.primary });

export type InfixOp = '||' | '&&' | '<' | '<=' | '==' | '!=' | '>=' | '>' | '+' | '-' | '*' | '/' | '%';

/**
 * Precedence of each operator and the least each operand must bind: left-associative chains keep
 * their left operand bare, and comparisons never chain (`a < b < c` is wrong in C and illegal in WGSL).
 */
const GROUPS: readonly { readonly ops: readonly InfixOp[]; readonly prec: number; readonly left: number; readonly right: number }[] = [
  { ops: ['||'], prec: PREC.or, left: PREC.or, right: PREC.and },
  { ops: ['&&'], prec: PREC.and, left: PREC.and, right: PREC.cmp },
  { ops: ['<', '<=', '==', '!=', '>=', '>'], prec: PREC.cmp, left: PREC.add, right: PREC.add },
  { ops: ['+', '-'], prec: PREC.add, left: PREC.add, right: PREC.mul },
  { ops: ['*', '/', '%'], prec: PREC.mul, left: PREC.mul, right: PREC.unary },
];
const INFIX = new Map(GROUPS.flatMap((g) => g.ops.map((op) => [op, g] as const)));

const LOGIC = new Set(['&&', '||']);

/** `c` as an operand that must bind at least `min`. */
export function operand(c: Code, min: number): string {
  return c.prec < min ? `(${c.text})` : c.text;
}

/** How a dialect composes expressions. */
export class Syntax {
  /** @param strictLogic `&&` and `||` never mix without parentheses (WGSL's grammar requires it). */
  constructor(private readonly strictLogic: boolean) {}

  infix(op: InfixOp, a: Code, b: Code): Code {
    const t = INFIX.get(op)!;
    const side = (c: Code, min: number) => (this.strictLogic && LOGIC.has(op) && c.op !== undefined && LOGIC.has(c.op) && c.op !== op ? `(${c.text})` : operand(c, min));
    return { text: `${side(a, t.left)} ${op} ${side(b, t.right)}`, prec: t.prec, op };
  }

  /** A prefix operator (`-`, `!`, a C cast); `- -x` never becomes the decrement token `--x`. */
  prefix(op: string, a: Code): Code {
    const inner = operand(a, PREC.unary);
    const text = op.endsWith('-') && inner.startsWith('-') ? `${op}(${inner})` : `${op}${inner}`;
    return { text, prec: PREC.unary, op };
  }

  call(fn: string, ...args: readonly Code[]): Code {
    return atom(`${fn}(${args.map((a) => a.text).join(', ')})`);
  }

  index(base: string, at: Code): Code {
    return atom(`${base}[${at.text}]`);
  }

  /** `c ? t : e`; nested conditionals in any part are parenthesized, for the reader. */
  ternary(c: Code, t: Code, e: Code): Code {
    return { text: `${operand(c, PREC.or)} ? ${operand(t, PREC.or)} : ${operand(e, PREC.or)}`, prec: PREC.ternary, op: '?:' };
  }
}
