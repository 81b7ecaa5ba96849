import { div, int, mod, substitute, variable } from '../../ir/expr.js';
import { forLoop, mapStmtExprs } from '../../ir/loop.js';
import { Program, withBody } from '../../ir/program.js';
import { ScheduleError } from '../errors.js';
import { findLoop, replaceLoop } from '../locate.js';
import { FIELD, PrimitiveDef, stepFields } from '../primitive.js';

export function fusedName(outer: string, inner: string): string {
  return `${outer}.${inner}.fused`;
}

/** One loop over the product of two directly nested loops of the same kind of axis. */
export function fuse(p: Program, outerName: string, innerName: string): Program {
  const prim = `fuse(${outerName}, ${innerName})`;
  const { loop: outer } = findLoop(p, outerName, prim);
  const { loop: inner } = findLoop(p, innerName, prim);
  if (outer.body !== inner) {
    const child = outer.body.kind === 'for' ? `its only child is ${outer.body.var}` : 'it has no single child loop';
    throw new ScheduleError(prim, [outerName, innerName], `${innerName} is not the only statement inside ${outerName}`, `fuse a loop with the loop directly inside it (${child})`);
  }
  if (outer.axis !== inner.axis) {
    throw new ScheduleError(prim, [outerName, innerName], `${outerName} is a ${outer.axis} loop and ${innerName} a ${inner.axis} loop`, 'fuse two spatial or two reduction loops');
  }
  if (outer.loopKind !== 'serial' || inner.loopKind !== 'serial') {
    throw new ScheduleError(prim, [outerName, innerName], 'an annotated loop cannot be fused', 'fuse before vectorize, unroll, parallel or bind');
  }
  const name = fusedName(outerName, innerName);
  const f = variable(name);
  const bindings = new Map([[outerName, div(f, int(inner.extent))], [innerName, mod(f, int(inner.extent))]]);
  const body = mapStmtExprs(inner.body, (e) => substitute(e, bindings));
  return withBody(p, replaceLoop(p.body, outerName, () => forLoop(name, outer.extent * inner.extent, body, outer.axis)));
}

export interface FuseStep {
  readonly prim: 'fuse';
  readonly outer: string;
  readonly inner: string;
}

export const FUSE: PrimitiveDef<FuseStep, [outer: string, inner: string]> = {
  prim: 'fuse',
  schema: stepFields('fuse', { outer: FIELD.loop, inner: FIELD.loop }),
  step: (outer, inner) => ({ prim: 'fuse', outer, inner }),
  args: (s) => [s.outer, s.inner],
  apply: (p, s) => fuse(p, s.outer, s.inner),
};
