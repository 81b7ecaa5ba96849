import { ForStmt, Stmt, collectLoops, mapStmt, walkStmt } from '../ir/loop.js';
import { Program } from '../ir/program.js';
import { ScheduleError } from './errors.js';

export interface LoopSite {
  readonly loop: ForStmt;
  /** Loops enclosing it, outermost first. */
  readonly enclosing: readonly ForStmt[];
  /** Every statement from the root down to (not including) the loop. */
  readonly path: readonly Stmt[];
}

function listNames(p: Program): string {
  const names = collectLoops(p.body).map((l) => l.var);
  return names.length ? `loops are: ${names.join(', ')}` : 'the program has no loops';
}

export function findLoop(p: Program, name: string, primitive: string): LoopSite {
  let site: LoopSite | undefined;
  const walk = (s: Stmt, path: Stmt[], enclosing: ForStmt[]): void => {
    if (site) return;
    if (s.kind === 'for' && s.var === name) {
      site = { loop: s, enclosing, path };
      return;
    }
    const next = [...path, s];
    if (s.kind === 'for') walk(s.body, next, [...enclosing, s]);
    else if (s.kind === 'seq') s.body.forEach((x) => walk(x, next, enclosing));
    else if (s.kind === 'if' ) walk(s.then, next, enclosing);
    else if (s.kind === 'alloc') walk(s.body, next, enclosing);
  };
  walk(p.body, [], []);
  if (!site) throw new ScheduleError(primitive, [name], `there is no loop '${name}'`, listNames(p));
  return site;
}

/** Replaces the loop named `name` (names are unique) by what `f` makes of it. */
export function replaceLoop(body: Stmt, name: string, f: (l: ForStmt) => Stmt): Stmt {
  return mapStmt(body, (s) => (s.kind === 'for' && s.var === name ? f(s) : s));
}

/** The chain of loops below `l` while each body is exactly one loop. */
export function perfectChain(l: ForStmt): ForStmt[] {
  const out = [l];
  let cur: Stmt = l.body;
  while (cur.kind === 'for') {
    out.push(cur);
    cur = cur.body;
  }
  return out;
}

export function loopsInside(l: ForStmt): ForStmt[] {
  return collectLoops(l.body);
}

export function hasLoopInside(s: Stmt): boolean {
  let found = false;
  walkStmt(s, (x) => {
    if (x.kind === 'for') found = true;
  });
  return found;
}

export function freshName(p: Program, base: string): string {
  const taken = new Set(collectLoops(p.body).map((l) => l.var));
  walkStmt(p.body, (s) => {
    if (s.kind === 'alloc') taken.add(s.buffer.name);
  });
  p.buffers.forEach((b) => taken.add(b.name));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}${i}`)) return `${base}${i}`;
}
