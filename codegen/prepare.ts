import { forEachExpr } from '../ir/expr.js';
import { AllocStmt, BufferDecl, Stmt, alloc, bufferDecl, seq, walkStmt } from '../ir/loop.js';
import { Program, program } from '../ir/program.js';

/** A buffer the prepare function fills, at `offset` floats into the one prepared block. */
export interface PreparedBuffer {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
}

/** A kernel split in two: what runs once when the constants are loaded, and what runs per call. */
export interface PrepareSplit {
  /** The per-call kernel: each hoisted pack is gone and its buffer is a constant global input. */
  readonly program: Program;
  /** Reads the constant inputs, writes the prepared buffers; absent when the program has no constant input. */
  readonly prepare?: Program;
  readonly prepared: readonly PreparedBuffer[];
  /** Floats of the prepared block: every buffer, each starting on a 64-byte boundary. */
  readonly floats: number;
}

/** Prepared buffers start on 64-byte boundaries, so their vector loads are as aligned as a fresh allocation's. */
const ALIGN_FLOATS = 16;

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Buffers a statement reads and writes. */
function accesses(s: Stmt): { reads: Set<string>; writes: Set<string>; allocs: boolean } {
  const reads = new Set<string>(), writes = new Set<string>();
  let allocs = false;
  walkStmt(s, (x) => {
    if (x.kind === 'alloc') allocs = true;
    const exprs = x.kind === 'store' ? [...x.indices, x.value] : x.kind === 'if' ? [x.cond] : [];
    if (x.kind === 'store') writes.add(x.buffer);
    exprs.forEach((e) => forEachExpr(e, (y) => {
      if (y.kind === 'load') reads.add(y.buffer);
    }));
  });
  return { reads, writes, allocs };
}

/**
 * A scratch buffer filled once, before anything else in its scope, from constant inputs alone (a
 * whole-buffer `layout` of the weights) holds the same values on every call: its copy can run once
 * at load. The alloc must sit outside every loop and condition, its first statement must write it
 * and only it from constants, and nothing after may write it again.
 */
function hoistable(a: AllocStmt, constants: ReadonlySet<string>): Stmt | undefined {
  if (a.buffer.scope !== 'local') return undefined;
  const first = a.body.kind === 'seq' ? a.body.body[0] : undefined;
  if (!first || first.kind !== 'for') return undefined;
  const copy = accesses(first);
  if (copy.allocs || copy.writes.size !== 1 || !copy.writes.has(a.buffer.name) || copy.reads.size === 0) return undefined;
  if (![...copy.reads].every((r) => constants.has(r))) return undefined;
  const rest = (a.body as Extract<Stmt, { kind: 'seq' }>).body.slice(1);
  if (rest.some((s) => accesses(s).writes.has(a.buffer.name))) return undefined;
  return first;
}

/**
 * Splits `p` into a prepare program and the per-call kernel: every hoistable pack of constant
 * inputs (see `hoistable`) moves to the prepare program, its scratch becomes a global input of the
 * kernel. A program without constant inputs comes back as it is, without a prepare program; one
 * with constants always has one (maybe empty), so a caller's interface depends on the workload,
 * never on the schedule.
 */
export function splitPrepare(p: Program): PrepareSplit {
  const constantSet = new Set(p.buffers.filter((b) => b.constant).map((b) => b.name));
  if (constantSet.size === 0) return { program: p, prepared: [], floats: 0 };
  const copies: Stmt[] = [];
  const hoisted: BufferDecl[] = [];
  const visit = (s: Stmt): Stmt => {
    if (s.kind === 'seq') return seq(s.body.map(visit));
    if (s.kind !== 'alloc') return s;
    const copy = hoistable(s, constantSet);
    if (!copy) return alloc(s.buffer, visit(s.body));
    copies.push(copy);
    hoisted.push(s.buffer);
    const rest = (s.body as Extract<Stmt, { kind: 'seq' }>).body.slice(1);
    return visit(seq(rest));
  };
  const body = visit(p.body);
  let at = 0;
  const prepared = hoisted.map((b) => {
    const offset = at;
    at += Math.ceil(elements(b.shape) / ALIGN_FLOATS) * ALIGN_FLOATS;
    return { name: b.name, shape: b.shape, offset };
  });
  const globals = hoisted.map((b) => bufferDecl(b.name, b.shape, b.dtype, 'global', 'input', true));
  const inputs = p.buffers.filter((b) => b.role === 'input'), outputs = p.buffers.filter((b) => b.role !== 'input');
  const kernel = program(p.name, [...inputs, ...globals, ...outputs], body);
  const prepare = program(`${p.name}.prepare`, [
    ...inputs.filter((b) => b.constant).map((b) => bufferDecl(b.name, b.shape, b.dtype, 'global', 'input')),
    ...hoisted.map((b) => bufferDecl(b.name, b.shape, b.dtype, 'global', 'output')),
  ], seq(copies));
  return { program: kernel, prepare, prepared, floats: at };
}
