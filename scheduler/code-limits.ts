import { Program } from '../ir/program.js';
import {
  MAX_EXPR_DEPTH, MAX_NEST_DEPTH, MAX_UNROLLED_STATEMENTS, codeSize, deepestNest, expandingLoops, isBlock, unrolledStatements,
} from './code-size.js';
import { ScheduleError } from './errors.js';
import { LoopSite, findLoop } from './locate.js';

/** Loop names for a one-line message: the first few, then how many more. */
export function listLoops(names: readonly string[], shown = 8): string {
  return names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}

/**
 * After `unroll` made `loop` unrolled: refuses when codegen would expand the program into more
 * than MAX_UNROLLED_STATEMENTS statements, naming the unrolled loops and the largest factor that
 * would fit. `asked` is the loop the step named (its split's outer loop when it unrolls by a factor).
 */
export function checkUnrolledSize(p: Program, loop: string, prim: string, asked: string): void {
  const { total, inside } = unrolledStatements(p.body, loop);
  if (total <= MAX_UNROLLED_STATEMENTS) return;
  const site = findLoop(p, loop, prim);
  const loops = [...site.enclosing.filter((l) => l.loopKind === 'unrolled').map((l) => l.var), asked, ...expandingLoops(site.loop.body)];
  // Statements under `loop` count its extent once each; the rest do not depend on it.
  const outside = total - inside * site.loop.extent;
  const factor = Math.floor((MAX_UNROLLED_STATEMENTS - outside) / inside);
  const legal = factor >= 2 ? `unroll ${asked} by a factor of at most ${factor}, or unroll fewer loops` : `unroll fewer loops around or inside ${asked}`;
  throw new ScheduleError(prim, loops, `unrolled loops ${listLoops(loops)} would expand into ${total} statements, more than the ${MAX_UNROLLED_STATEMENTS} that code generation takes`, legal);
}

/**
 * Before a split of `site.loop` into `factors + 1` loops (and a guard when they do not divide):
 * refuses a split that would nest more than MAX_NEST_DEPTH blocks, checked before the split is
 * built, since a trace may give thousands of factors.
 */
export function checkSplitDepth(prim: string, site: LoopSite, factors: number, guarded: boolean): void {
  const around = site.path.filter(isBlock).length, inside = deepestNest(site.loop.body).depth;
  const fixed = around + inside + (guarded ? 1 : 0);
  if (fixed + factors + 1 <= MAX_NEST_DEPTH) return;
  const room = MAX_NEST_DEPTH - fixed - 1;
  const legal = room >= 1 ? `give at most ${room} factor${room === 1 ? '' : 's'}` : 'fuse loops of this nest first';
  throw new ScheduleError(prim, [site.loop.var], `${fixed + factors + 1} blocks (loops and guards) would nest around one statement, more than the ${MAX_NEST_DEPTH} that code generation takes`, legal);
}

/**
 * After any step (`label` describes it): the program stays within every code-size limit. Unroll
 * and split check their own limits with a more precise message; this catches the rest (a cache
 * placed inside unrolled loops, say). The measures are iterative, so they survive any program.
 */
export function checkCodeSize(p: Program, label: string): void {
  const size = codeSize(p);
  if (size.statements > MAX_UNROLLED_STATEMENTS) {
    const loops = expandingLoops(p.body);
    throw new ScheduleError(label, loops, `unrolled loops ${listLoops(loops)} would expand into ${size.statements} statements, more than the ${MAX_UNROLLED_STATEMENTS} that code generation takes`, 'unroll fewer or shorter loops (by a factor), or place this step outside them');
  }
  if (size.nestDepth > MAX_NEST_DEPTH) {
    const { loops } = deepestNest(p.body);
    const span = loops.length ? ` (loops ${loops[0]} to ${loops[loops.length - 1]})` : '';
    throw new ScheduleError(label, loops.length ? [loops[0]!, loops[loops.length - 1]!] : [], `${size.nestDepth} blocks (loops, guards, scratch scopes)${span} would nest around one statement, more than the ${MAX_NEST_DEPTH} that code generation takes`, 'split into fewer levels, or fuse loops first');
  }
  if (size.exprDepth > MAX_EXPR_DEPTH) {
    throw new ScheduleError(label, [], `an expression would be ${size.exprDepth} levels deep, more than the ${MAX_EXPR_DEPTH} that code generation takes`, 'split and fuse the loops it uses fewer times');
  }
}
