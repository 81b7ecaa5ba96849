import { C_DIALECT } from '../../codegen/c/dialect.js';
import { Code, InfixOp, PREC, Syntax, operand } from '../../codegen/cstyle/code.js';
import { Dialect } from '../../codegen/cstyle/dialect.js';

/**
 * C's syntax with the issue-14 bug put back: a conditional on the right of `+` loses its
 * parentheses, so `acc + (c ? x : 0)` prints as `acc + c ? x : 0`. Only a select that meets a sum
 * is wrong (the register-tile update of a padded or guarded op); every other kernel is right.
 */
class PlantedSyntax extends Syntax {
  constructor() {
    super(false);
  }

  override infix(op: InfixOp, a: Code, b: Code): Code {
    if (op !== '+' || b.op !== '?:') return super.infix(op, a, b);
    return { text: `${operand(a, PREC.add)} + ${b.text}`, prec: PREC.add, op };
  }
}

export const PLANTED_C_DIALECT: Dialect = { ...C_DIALECT, syntax: new PlantedSyntax() };
