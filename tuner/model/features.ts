import { byteSize } from '../../ir/dtype.js';
import { BinaryOp, Expr } from '../../ir/expr.js';
import { BufferDecl, ForStmt, Stmt, StoreStmt } from '../../ir/loop.js';
import { Program } from '../../ir/program.js';
import { accessExtent } from '../../scheduler/footprint.js';
import { splitPrepare } from '../../codegen/prepare.js';

/**
 * A fixed-length, named description of a scheduled program for the cost model (after Ansor's
 * per-statement features): the loops around the main statement, the buffers it touches (strides,
 * tile footprints, reuse), its arithmetic intensity, scratch memory and the GPU mapping. The length
 * does not depend on the shape, so one model serves every shape of an operator. Sizes are log2, so
 * a tree split means "at least this big" on any shape; absent slots are 0 (with a `present` flag).
 */

/** Loops described one by one, innermost first: a register tile and the cache tile around it. */
export const LOOP_SLOTS = 6;
/** The output, then the inputs by name. */
export const ACCESS_SLOTS = 3;
/** A tile that fits here counts as an L1 tile: the usual L1 data cache, a proxy for every machine. */
const L1_BYTES = 32 * 1024;

const KINDS = ['serial', 'parallel', 'vectorized', 'unrolled', 'workgroup', 'thread'] as const;
const LOOP_FIELDS = ['present', 'extent', ...KINDS, 'reduce', 'cache'];
const levels = (what: string) => Array.from({ length: LOOP_SLOTS }, (_, l) => `${what}${l + 1}`);
const ACCESS_FIELDS = ['present', 'local', 'workgroup', 'stride.inner', 'stride.vector', ...levels('bytes.'), ...levels('reuse.')];
const TOTALS = [
  'depth', 'loops', 'nests', 'iterations', 'parallel', 'vector', 'unroll', 'flops',
  'intensity.register', 'intensity.l1', 'level.register', 'level.l1',
  'scratch.local', 'scratch.workgroup', 'scratch.allocs', 'registers',
  'gpu.invocations', 'gpu.workgroupSize', 'gpu.workgroups', 'gpu.sharedPerThread',
  'guards.nest', 'guards.statement', 'pads', 'barriers',
];

export const FEATURE_NAMES: readonly string[] = Object.freeze([
  ...TOTALS,
  ...Array.from({ length: LOOP_SLOTS }, (_, i) => LOOP_FIELDS.map((f) => `loop${i}.${f}`)).flat(),
  ...Array.from({ length: ACCESS_SLOTS }, (_, i) => ACCESS_FIELDS.map((f) => `access${i}.${f}`)).flat(),
]);
export const FEATURE_COUNT = FEATURE_NAMES.length;

const log2p = (x: number) => Math.log2(1 + Math.abs(x));
const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** A statement with what encloses it: its loops, and the `if`s and allocations on the way down. */
interface Site {
  readonly store: StoreStmt;
  readonly loops: readonly ForStmt[];
  readonly guards: number;
  readonly allocs: readonly BufferDecl[];
  /** Index of the top-level nest that holds it. */
  readonly nest: number;
}

interface Walked {
  readonly stores: Site[];
  readonly decls: Map<string, BufferDecl>;
  loops: number;
  /** Per top-level nest: ifs and barriers. */
  readonly ifs: number[];
  readonly barriers: number[];
}

function walk(p: Program): Walked {
  const out: Walked = { stores: [], decls: new Map(p.buffers.map((b) => [b.name, b])), loops: 0, ifs: [], barriers: [] };
  const tops = p.body.kind === 'seq' ? p.body.body : [p.body];
  const visit = (s: Stmt, nest: number, loops: ForStmt[], guards: number, allocs: BufferDecl[]): void => {
    switch (s.kind) {
      case 'for':
        out.loops++;
        visit(s.body, nest, [...loops, s], guards, allocs);
        return;
      case 'seq':
        s.body.forEach((x) => visit(x, nest, loops, guards, allocs));
        return;
      case 'if':
        out.ifs[nest]!++;
        visit(s.then, nest, loops, guards + 1, allocs);
        return;
      case 'alloc':
        out.decls.set(s.buffer.name, s.buffer);
        visit(s.body, nest, loops, guards, [...allocs, s.buffer]);
        return;
      case 'store':
        out.stores.push({ store: s, loops, guards, allocs, nest });
        return;
      case 'barrier':
        out.barriers[nest]!++;
        return;
    }
  };
  tops.forEach((t, nest) => {
    out.ifs.push(0);
    out.barriers.push(0);
    visit(t, nest, [], 0, []);
  });
  return out;
}

/**
 * The statement that does the work: the reduction update (a `+=`, `max=` inside a reduction
 * loop), else a store to an output; among several, the one that runs most often.
 */
function mainSite(w: Walked): Site | undefined {
  const runs = (s: Site) => product(s.loops.map((l) => l.extent));
  const most = (xs: Site[]) => xs.reduce<Site | undefined>((a, b) => (!a || runs(b) > runs(a) ? b : a), undefined);
  return most(w.stores.filter((s) => s.store.accum !== 'assign' && s.loops.some((l) => l.axis === 'reduce')))
    ?? most(w.stores.filter((s) => w.decls.get(s.store.buffer)?.role === 'output'))
    ?? most(w.stores);
}

/** Arithmetic per execution of the statement (index arithmetic inside loads and guards does not count). */
function flopsOf(e: Expr): number {
  switch (e.kind) {
    case 'const': case 'var': case 'load': case 'cmp': case 'logic': case 'not': return 0;
    case 'binary': return 1 + flopsOf(e.a) + flopsOf(e.b);
    case 'unary': return 1 + flopsOf(e.a);
    case 'cast': return flopsOf(e.a);
    case 'select': return Math.max(flopsOf(e.then), flopsOf(e.else));
  }
}

/** Selects around loads: padded tails (and the op's own padding). */
function selectsOf(e: Expr): number {
  switch (e.kind) {
    case 'const': case 'var': case 'load': return 0;
    case 'binary': case 'cmp': case 'logic': return selectsOf(e.a) + selectsOf(e.b);
    case 'unary': case 'not': case 'cast': return selectsOf(e.a);
    case 'select': return 1 + selectsOf(e.cond) + selectsOf(e.then) + selectsOf(e.else);
  }
}

/** The first load of each buffer in the value (not inside other loads' indices), by buffer name. */
function loadsOf(e: Expr, out = new Map<string, readonly Expr[]>()): Map<string, readonly Expr[]> {
  switch (e.kind) {
    case 'const': case 'var': return out;
    case 'load':
      if (!out.has(e.buffer)) out.set(e.buffer, e.indices);
      return out;
    case 'binary': case 'cmp': case 'logic': loadsOf(e.a, out); return loadsOf(e.b, out);
    case 'unary': case 'not': case 'cast': return loadsOf(e.a, out);
    case 'select': loadsOf(e.cond, out); loadsOf(e.then, out); return loadsOf(e.else, out);
  }
}

const INDEX_OPS: Record<BinaryOp, (a: number, b: number) => number | undefined> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, min: Math.min, max: Math.max,
  div: (a, b) => (b === 0 ? undefined : Math.floor(a / b)), mod: (a, b) => (b === 0 ? undefined : a - b * Math.floor(a / b)),
};

/** Integer value of an index expression (unbound variables are 0), or undefined when it is not plain integer arithmetic. */
function evalIndex(e: Expr, env: ReadonlyMap<string, number>): number | undefined {
  if (e.kind === 'const') return e.value;
  if (e.kind === 'var') return env.get(e.name) ?? 0;
  if (e.kind !== 'binary') return undefined;
  const a = evalIndex(e.a, env), b = evalIndex(e.b, env);
  return a === undefined || b === undefined ? undefined : INDEX_OPS[e.op](a, b);
}

/**
 * log2(1 + elements) between the accesses of consecutive iterations of loop `v` (row-major: 0 is
 * reuse, 1 contiguous), taken at the start of the nest: exact for affine indices and for the inner
 * part of a fused loop. -1 when the index is not integer arithmetic (a value the trees can split off).
 */
function strideOf(indices: readonly Expr[], shape: readonly number[], v: string): number {
  const offset = (env: ReadonlyMap<string, number>) => {
    let off = 0;
    for (let d = 0; d < shape.length; d++) {
      const x = evalIndex(indices[d]!, env);
      if (x === undefined) return undefined;
      off = off * shape[d]! + x;
    }
    return off;
  };
  const a = offset(new Map()), b = offset(new Map([[v, 1]]));
  return a === undefined || b === undefined ? -1 : log2p(b - a);
}

interface Access {
  readonly decl: BufferDecl;
  readonly indices: readonly Expr[];
}

/**
 * Features of a scheduled program: a vector of `FEATURE_COUNT` finite numbers, in the order of
 * `FEATURE_NAMES`. Cheap (a few tens of microseconds for a scheduled GEMM): the tuner scores
 * many more candidates than it measures.
 */
export function programFeatures(p: Program): number[] {
  // What runs per call: a pack of constant inputs runs once, at load, and costs nothing measured.
  const w = walk(splitPrepare(p).program);
  const site = mainSite(w);
  const chain = site?.loops ?? [];
  const inner = [...chain].reverse();
  const depth = chain.length;
  const accesses: Access[] = [];
  if (site) {
    const out = w.decls.get(site.store.buffer);
    if (out) accesses.push({ decl: out, indices: site.store.indices });
    const loads = loadsOf(site.store.value);
    for (const name of [...loads.keys()].sort()) {
      const decl = w.decls.get(name);
      if (decl) accesses.push({ decl, indices: loads.get(name)! });
    }
  }

  // Footprints of every access at every level 1..depth (level l: the innermost l loops).
  const iterations = [1];
  for (let l = 1; l <= depth; l++) iterations.push(iterations[l - 1]! * inner[l - 1]!.extent);
  const elements = accesses.map((a) => {
    const perLevel = [1];
    for (let l = 1; l <= depth; l++) perLevel.push(product(accessExtent(a.indices, inner.slice(0, l), a.decl.shape)));
    return perLevel;
  });
  const bytesAt = (l: number) => accesses.reduce((s, a, k) => s + elements[k]![l]! * byteSize(a.decl.dtype), 0);
  const flops = site ? flopsOf(site.store.value) + (site.store.accum === 'assign' ? 0 : 1) : 0;
  const intensity = (l: number) => (flops * iterations[l]!) / Math.max(1, bytesAt(l));
  // Register tile: the unrolled and vectorized loops innermost, and the loop that steps through them.
  let register = 0;
  while (register < depth && (inner[register]!.loopKind === 'unrolled' || inner[register]!.loopKind === 'vectorized')) register++;
  register = Math.min(depth, register + 1);
  let l1 = Math.min(1, depth);
  while (l1 < depth && bytesAt(l1 + 1) <= L1_BYTES) l1++;

  const kindOf = (l: ForStmt) => (l.loopKind.startsWith('workgroup') ? 'workgroup' : l.loopKind.startsWith('thread') ? 'thread' : l.loopKind);
  const extentsOf = (pred: (l: ForStmt) => boolean) => product(chain.filter(pred).map((l) => l.extent));
  let localBytes = 0, workgroupBytes = 0;
  for (const d of w.decls.values()) {
    const bytes = product(d.shape) * byteSize(d.dtype);
    if (d.scope === 'local') localBytes += bytes;
    else if (d.scope === 'workgroup') workgroupBytes += bytes;
  }
  const scratchAllocs = [...w.decls.values()].filter((d) => d.scope !== 'global').length;
  const registers = (site?.allocs ?? []).filter((d) => d.scope === 'local').reduce((s, d) => s + product(d.shape), 0);
  const invocations = extentsOf((l) => kindOf(l) === 'workgroup' || kindOf(l) === 'thread');
  const workgroupSize = extentsOf((l) => kindOf(l) === 'thread');
  const nest = site?.nest ?? 0;

  const f: number[] = [
    depth, w.loops, w.ifs.length, Math.log2(iterations[depth]!), Math.log2(extentsOf((l) => l.loopKind === 'parallel')),
    Math.log2(extentsOf((l) => l.loopKind === 'vectorized')), Math.log2(extentsOf((l) => l.loopKind === 'unrolled')), flops,
    log2p(intensity(register)), log2p(intensity(l1)), register, l1,
    log2p(localBytes), log2p(workgroupBytes), scratchAllocs, log2p(registers),
    Math.log2(invocations), Math.log2(workgroupSize), Math.log2(invocations / workgroupSize), log2p(workgroupBytes / workgroupSize),
    w.ifs[nest] ?? 0, site?.guards ?? 0, site ? selectsOf(site.store.value) : 0, w.barriers[nest] ?? 0,
  ];
  for (let i = 0; i < LOOP_SLOTS; i++) {
    const l = inner[i];
    if (!l) {
      for (let k = 0; k < LOOP_FIELDS.length; k++) f.push(0);
      continue;
    }
    const kind = kindOf(l);
    f.push(1, Math.log2(l.extent), ...KINDS.map((k) => (kind === k ? 1 : 0)), l.axis === 'reduce' ? 1 : 0, l.role && l.role.kind !== 'split' ? 1 : 0);
  }
  const vectorLoop = inner.find((l) => l.loopKind === 'vectorized');
  for (let k = 0; k < ACCESS_SLOTS; k++) {
    const a = accesses[k];
    if (!a) {
      for (let x = 0; x < ACCESS_FIELDS.length; x++) f.push(0);
      continue;
    }
    const el = elements[k]!, size = byteSize(a.decl.dtype);
    // Beyond the depth of the nest the tile is the whole nest's.
    const at = (l: number) => Math.min(l, depth);
    f.push(
      1, a.decl.scope === 'local' ? 1 : 0, a.decl.scope === 'workgroup' ? 1 : 0,
      inner[0] ? strideOf(a.indices, a.decl.shape, inner[0].var) : 0,
      vectorLoop ? strideOf(a.indices, a.decl.shape, vectorLoop.var) : -1,
      ...Array.from({ length: LOOP_SLOTS }, (_, l) => Math.log2(el[at(l + 1)]! * size)),
      ...Array.from({ length: LOOP_SLOTS }, (_, l) => Math.log2(iterations[at(l + 1)]! / el[at(l + 1)]!)),
    );
  }
  if (f.length !== FEATURE_COUNT) throw new Error(`cost-model features: ${f.length} values for ${FEATURE_COUNT} names`);
  return f;
}
