import { Expr } from '../ir/expr.js';
import { BufferDecl, ForStmt, Stmt } from '../ir/loop.js';
import { Program } from '../ir/program.js';

/**
 * Limits on the code a schedule makes, so that every legal schedule can be generated: code
 * generation (codegen/) and the reference executor walk the loop IR recursively, unrolling
 * multiplies statements, and WGSL compilers bound nesting. Past a limit the primitive that would
 * cross it refuses with a ScheduleError. test/scheduler/code-size.test.ts checks that the expert
 * schedules, the fixtures and the search spaces stay within a quarter of the statements and three
 * quarters of the depths, test/codegen/code-limits.test.ts that a program at each limit renders
 * and runs right.
 *
 * Statements after unroll expansion. The search space unrolls at most 64 copies of the update
 * (tuner/space/rules/annotate.ts), plus a register tile's init and write-back rows: under 600 in
 * all. The experts reach about 620 (the GPU conv2d with an 11 x 11 kernel; wider kernels unroll in
 * parts, scheduler/expert.ts). At 4096 straight-line statements codegen takes about half a second
 * and gcc -O3 about one (8192: three and a half); three full unrolls of a 64-cube GEMM, 262,144
 * copies, overflowed the stack in codegen.
 */
export const MAX_UNROLLED_STATEMENTS = 4096;

/**
 * Blocks around one statement: loops (unit loops too, although codegen drops them), guards and
 * scratch scopes, each a `{ }` in C and WGSL. Nests grow by splitting (a loop per factor, a guard
 * when the factors do not divide) and by caches; the deepest in the spaces is 26 (a 3-d convolution,
 * every axis tiled, two caches), in the experts 16. WGSL's bound is the binding one: a statement
 * and its block count two of its 127 levels of statement nesting, and Tint's parser allows 128
 * levels of blocks and parenthesized expressions together (MAX_EXPR_DEPTH).
 */
export const MAX_NEST_DEPTH = 40;

/**
 * Nodes on the longest path of one expression. Splits and fuses deepen indices a level or two
 * each (`i` becomes `i.0 * 8 + i.1`); the spaces reach 19 (a GPU transposed 3-d convolution), the
 * experts 14, the fuzzer's random traces 24. Tint's parser counts up to two levels per node (a
 * negation of a negation is `-(-x)`), blocks one each: 40 blocks around expressions 44 deep
 * compiled on lavapipe, 48 did not, so 36 leaves room for what rendering adds (row-major offsets).
 * The recursions of codegen and the reference executor are a few frames per level (lowering
 * overflowed the stack at about 2,000), so WGSL is the limit here too.
 */
export const MAX_EXPR_DEPTH = 36;

/** Largest local tile that codegen keeps in registers (32 AVX-512 registers hold 512 floats). */
export const REGISTER_TILE_BUDGET = 512;
/** Row lengths a register tile may have: one or more whole vectors of a supported width. */
export const REGISTER_TILE_ROWS = [2, 4, 8, 16, 32, 64];

/**
 * Can this scratch buffer be a register tile? Its shape allows it; the register-tiles pass
 * (codegen/registers.ts) then also checks how it is indexed. Counting every such tile as promoted
 * keeps `unrolledStatements` an upper bound of what codegen expands.
 */
export function registerTileShape(b: BufferDecl): boolean {
  const size = b.shape.reduce((x, y) => x * y, 1);
  return b.scope === 'local' && size <= REGISTER_TILE_BUDGET && REGISTER_TILE_ROWS.includes(b.shape[b.shape.length - 1]!);
}

/** Does codegen copy this loop's body once per iteration: unrolled, or an init/write-back row loop of a register tile? */
function expands(l: ForStmt, allocs: ReadonlyMap<string, BufferDecl>): boolean {
  if (l.loopKind === 'unrolled') return true;
  const r = l.role;
  if (l.loopKind !== 'serial' || r?.kind !== 'cacheBox' || r.stage === 'copy') return false;
  const b = allocs.get(r.buffer);
  return b !== undefined && registerTileShape(b) && r.dim < b.shape.length - 1;
}

/**
 * Straight-line statements (stores and barriers) after codegen expands unrolled loops: each
 * statement counts the product of the extents of the expanding loops around it (nested unrolls
 * multiply). `inside` is the part under loop `loop`, counted without that loop's own extent, so a
 * caller can ask what another extent of it would give: `total - inside * extent + inside * e`.
 * Iterative, so that it measures a program of any depth.
 */
export function unrolledStatements(body: Stmt, loop?: string): { total: number; inside: number } {
  let total = 0, inside = 0;
  const stack: { s: Stmt; copies: number; under: number; allocs: ReadonlyMap<string, BufferDecl> }[] = [{ s: body, copies: 1, under: 0, allocs: new Map() }];
  while (stack.length) {
    const { s, copies, under, allocs } = stack.pop()!;
    switch (s.kind) {
      case 'for': {
        const times = expands(s, allocs) ? s.extent : 1;
        // Below `loop`, `under` counts copies without its own extent.
        const below = s.var === loop ? copies : under ? under * times : 0;
        stack.push({ s: s.body, copies: copies * times, under: below, allocs });
        break;
      }
      case 'seq':
        for (const x of s.body) stack.push({ s: x, copies, under, allocs });
        break;
      case 'if':
        stack.push({ s: s.then, copies, under, allocs });
        break;
      case 'alloc':
        stack.push({ s: s.body, copies, under, allocs: new Map(allocs).set(s.buffer.name, s.buffer) });
        break;
      case 'store':
      case 'barrier':
        total += copies;
        inside += under;
        break;
    }
  }
  return { total, inside };
}

/** The expanding loops of a program, outermost first (for messages). */
export function expandingLoops(body: Stmt): string[] {
  const out: string[] = [];
  const stack: { s: Stmt; allocs: ReadonlyMap<string, BufferDecl> }[] = [{ s: body, allocs: new Map() }];
  while (stack.length) {
    const { s, allocs } = stack.pop()!;
    if (s.kind === 'for' && expands(s, allocs)) out.push(s.var);
    if (s.kind === 'for' || s.kind === 'if') stack.push({ s: s.kind === 'for' ? s.body : s.then, allocs });
    else if (s.kind === 'alloc') stack.push({ s: s.body, allocs: new Map(allocs).set(s.buffer.name, s.buffer) });
    else if (s.kind === 'seq') for (let i = s.body.length - 1; i >= 0; i--) stack.push({ s: s.body[i]!, allocs });
  }
  return out;
}

/** Statements that open a block in the rendered code. */
export const isBlock = (s: Stmt): boolean => s.kind === 'for' || s.kind === 'if' || s.kind === 'alloc';

/** The most blocks around any statement (`depth`), and the loops among them, outermost first. Iterative. */
export function deepestNest(body: Stmt): { depth: number; loops: string[] } {
  let best = { depth: 0, loops: [] as string[] };
  const stack: { s: Stmt; depth: number; loops: string[] }[] = [{ s: body, depth: 0, loops: [] }];
  while (stack.length) {
    const { s, depth, loops } = stack.pop()!;
    const d = isBlock(s) ? depth + 1 : depth;
    if (d > best.depth) best = { depth: d, loops: s.kind === 'for' ? [...loops, s.var] : loops };
    if (s.kind === 'for') stack.push({ s: s.body, depth: d, loops: [...loops, s.var] });
    else if (s.kind === 'if' || s.kind === 'alloc') stack.push({ s: s.kind === 'if' ? s.then : s.body, depth: d, loops });
    else if (s.kind === 'seq') for (const x of s.body) stack.push({ s: x, depth, loops });
  }
  return best;
}

/** Nodes on the longest path from `e` to a leaf. Iterative, so that it measures any depth. */
export function exprDepth(e: Expr): number {
  let deepest = 0;
  const stack: [Expr, number][] = [[e, 1]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (d > deepest) deepest = d;
    switch (x.kind) {
      case 'const':
      case 'var':
        break;
      case 'binary':
      case 'cmp':
      case 'logic':
        stack.push([x.a, d + 1], [x.b, d + 1]);
        break;
      case 'unary':
      case 'not':
      case 'cast':
        stack.push([x.a, d + 1]);
        break;
      case 'select':
        stack.push([x.cond, d + 1], [x.then, d + 1], [x.else, d + 1]);
        break;
      case 'load':
        for (const i of x.indices) stack.push([i, d + 1]);
        break;
    }
  }
  return deepest;
}

/** What a program measures against the limits. */
export interface CodeSize {
  /** Statements after unroll expansion (`unrolledStatements`). */
  readonly statements: number;
  /** The most blocks (loops, guards, scratch scopes) around one statement. */
  readonly nestDepth: number;
  /** The deepest expression (store indices and values, conditions). */
  readonly exprDepth: number;
}

/** All three measures in one iterative walk: it runs after every schedule step. */
export function codeSize(p: Program): CodeSize {
  let statements = 0, nestDepth = 0, deepest = 0;
  const stack: { s: Stmt; copies: number; blocks: number; allocs: ReadonlyMap<string, BufferDecl> }[] = [{ s: p.body, copies: 1, blocks: 0, allocs: new Map() }];
  while (stack.length) {
    const { s, copies, blocks: outer, allocs } = stack.pop()!;
    const blocks = isBlock(s) ? outer + 1 : outer;
    nestDepth = Math.max(nestDepth, blocks);
    switch (s.kind) {
      case 'for':
        stack.push({ s: s.body, copies: expands(s, allocs) ? copies * s.extent : copies, blocks, allocs });
        break;
      case 'seq':
        for (const x of s.body) stack.push({ s: x, copies, blocks, allocs });
        break;
      case 'if':
        deepest = Math.max(deepest, exprDepth(s.cond));
        stack.push({ s: s.then, copies, blocks, allocs });
        break;
      case 'alloc':
        stack.push({ s: s.body, copies, blocks, allocs: new Map(allocs).set(s.buffer.name, s.buffer) });
        break;
      case 'store':
        for (const e of s.indices) deepest = Math.max(deepest, exprDepth(e));
        deepest = Math.max(deepest, exprDepth(s.value));
        statements += copies;
        break;
      case 'barrier':
        statements += copies;
        break;
    }
  }
  return { statements, nestDepth, exprDepth: deepest };
}
