import { DType } from './dtype.js';
import { IRInvariantError } from './errors.js';
import { Expr } from './expr.js';

/** How a loop runs. Scheduling changes kinds; lowering creates every loop `serial`. */
export const LOOP_KINDS = [
  'serial', 'parallel', 'vectorized', 'unrolled',
  // A copy into workgroup memory that every invocation of the workgroup shares a slice of.
  'cooperative',
  'workgroup.x', 'workgroup.y', 'workgroup.z', 'thread.x', 'thread.y', 'thread.z',
] as const;
export type LoopKind = (typeof LOOP_KINDS)[number];
export type GpuAxis = Extract<LoopKind, `workgroup.${string}` | `thread.${string}`>;
export const GPU_AXES = ['workgroup.x', 'workgroup.y', 'workgroup.z', 'thread.x', 'thread.y', 'thread.z'] as const satisfies readonly GpuAxis[];
export function isGpuAxis(k: LoopKind): k is GpuAxis {
  return (GPU_AXES as readonly string[]).includes(k);
}

/** Spatial axes index the output; reduction axes are summed (or max/min-ed) over. */
export type AxisKind = 'spatial' | 'reduce';
export type MemScope = 'global' | 'workgroup' | 'local';
export type BufferRole = 'input' | 'output' | 'temp';
/** How a store combines with what is already there: plain assignment or a reduction update. */
export type Accumulate = 'assign' | 'sum' | 'max' | 'min';

export interface BufferDecl {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly scope: MemScope;
  readonly role: BufferRole;
  /**
   * An input the caller fills once and keeps (a layer's weights): what is computed from it alone
   * may run once, outside the kernel's call (codegen/prepare.ts). Absent when false, so the hashes
   * of programs without constants do not change.
   */
  readonly constant?: true;
}

/** What a loop made by a cache does for its scratch buffer. */
export type CacheStage = 'copy' | 'init' | 'writeBack';

/**
 * Why a primitive made a loop, for passes that treat such loops specially: they read the role,
 * never the name (names are for people and for traces, which replay by name).
 */
export type LoopRole =
  /** Level `level` (0 is outermost) of the `levels` loops that a split of loop `parent` made. */
  | { readonly kind: 'split'; readonly parent: string; readonly level: number; readonly levels: number }
  /** Runs over dimension `dim` of the tile of scratch buffer `buffer`. */
  | { readonly kind: 'cacheBox'; readonly buffer: string; readonly stage: CacheStage; readonly dim: number }
  /** Runs over the whole tile of workgroup buffer `buffer`, flattened, striped across the workgroup's invocations. */
  | { readonly kind: 'cacheFlat'; readonly buffer: string; readonly stage: CacheStage };

export type Stmt =
  | {
      readonly kind: 'for';
      readonly var: string;
      readonly extent: number;
      readonly loopKind: LoopKind;
      readonly axis: AxisKind;
      readonly body: Stmt;
      /** Absent on loops that lowering made; the field is omitted then, so hashes do not change. */
      readonly role?: LoopRole;
    }
  | { readonly kind: 'seq'; readonly body: readonly Stmt[] }
  | {
      readonly kind: 'store';
      readonly buffer: string;
      readonly indices: readonly Expr[];
      readonly value: Expr;
      readonly accum: Accumulate;
    }
  | { readonly kind: 'if'; readonly cond: Expr; readonly then: Stmt }
  | { readonly kind: 'alloc'; readonly buffer: BufferDecl; readonly body: Stmt }
  | { readonly kind: 'barrier' };

export type ForStmt = Extract<Stmt, { kind: 'for' }>;
export type StoreStmt = Extract<Stmt, { kind: 'store' }>;
export type AllocStmt = Extract<Stmt, { kind: 'alloc' }>;

function positiveInt(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) throw new IRInvariantError(`${what} must be a positive integer, got ${n}`);
}

/**
 * The buffer a cache's write-back loop copies out of, or undefined: a per-dimension box loop
 * (`cacheBox`) or a workgroup's flat cooperative loop (`cacheFlat`) both count; code that asks
 * only one of them misses the other (the fuzzer found a register cache inside a workgroup cache's
 * write-back that assigned where it had to accumulate).
 */
export function writeBackOf(l: ForStmt): string | undefined {
  return (l.role?.kind === 'cacheBox' || l.role?.kind === 'cacheFlat') && l.role.stage === 'writeBack' ? l.role.buffer : undefined;
}

export function bufferDecl(
  name: string, shape: readonly number[], dtype: DType, scope: MemScope, role: BufferRole, constant = false,
): BufferDecl {
  if (name.length === 0) throw new IRInvariantError('buffer with an empty name');
  shape.forEach((d, i) => positiveInt(d, `dimension ${i} of buffer ${name}`));
  if (constant && (scope !== 'global' || role !== 'input')) throw new IRInvariantError(`buffer ${name} is ${scope} ${role}: only a global input can be constant`);
  return Object.freeze({ name, shape: Object.freeze([...shape]), dtype, scope, role, ...(constant ? { constant: true as const } : {}) });
}

export function forLoop(
  v: string, extent: number, body: Stmt, axis: AxisKind = 'spatial', loopKind: LoopKind = 'serial', role?: LoopRole,
): Stmt {
  if (v.length === 0) throw new IRInvariantError('loop with an empty variable name');
  positiveInt(extent, `extent of loop ${v}`);
  return Object.freeze({ kind: 'for', var: v, extent, loopKind, axis, body, ...(role ? { role: Object.freeze({ ...role }) } : {}) });
}

export function seq(body: readonly Stmt[]): Stmt {
  const flat: Stmt[] = [];
  // A loop, not push(...s.body): spreading a long body as arguments overflows the call stack.
  for (const s of body) {
    if (s.kind === 'seq') for (const x of s.body) flat.push(x);
    else flat.push(s);
  }
  if (flat.length === 1) return flat[0]!;
  return Object.freeze({ kind: 'seq', body: Object.freeze(flat) });
}

export function store(buffer: string, indices: readonly Expr[], value: Expr, accum: Accumulate = 'assign'): Stmt {
  if (buffer.length === 0) throw new IRInvariantError('store to a buffer with an empty name');
  return Object.freeze({ kind: 'store', buffer, indices: Object.freeze([...indices]), value, accum });
}

export function ifThen(cond: Expr, then: Stmt): Stmt {
  return Object.freeze({ kind: 'if', cond, then });
}

export function alloc(buffer: BufferDecl, body: Stmt): Stmt {
  if (buffer.scope === 'global') throw new IRInvariantError(`alloc of ${buffer.name} in global scope: globals are program parameters`);
  return Object.freeze({ kind: 'alloc', buffer, body });
}

export const barrier: Stmt = Object.freeze({ kind: 'barrier' });

/** Copy of a loop with some fields changed (its role too, unless `changes` sets one); the same node when nothing changes. */
export function withLoop(l: ForStmt, changes: Partial<Omit<ForStmt, 'kind'>>): ForStmt {
  const next = { ...l, ...changes };
  if (next.var === l.var && next.extent === l.extent && next.loopKind === l.loopKind && next.axis === l.axis && next.body === l.body && next.role === l.role) return l;
  return forLoop(next.var, next.extent, next.body, next.axis, next.loopKind, next.role) as ForStmt;
}

/**
 * A statement with each of its child statements replaced by `f(child)`; the same node when none
 * changed. One level only: passes that carry context down (enclosing loops, held conditions)
 * recurse through it.
 */
export function mapChildren(s: Stmt, f: (child: Stmt) => Stmt): Stmt {
  switch (s.kind) {
    case 'for': {
      const b = f(s.body);
      return b === s.body ? s : withLoop(s, { body: b });
    }
    case 'seq': {
      const b = s.body.map(f);
      return b.every((x, i) => x === s.body[i]) ? s : seq(b);
    }
    case 'if': {
      const t = f(s.then);
      return t === s.then ? s : ifThen(s.cond, t);
    }
    case 'alloc': {
      const b = f(s.body);
      return b === s.body ? s : alloc(s.buffer, b);
    }
    case 'store':
    case 'barrier':
      return s;
  }
}

/** Rebuilds a statement tree bottom-up, keeping untouched subtrees shared. */
export function mapStmt(s: Stmt, f: (s: Stmt) => Stmt): Stmt {
  return f(mapChildren(s, (c) => mapStmt(c, f)));
}

/** Applies `f` to every expression held directly by a statement (not inside nested statements). */
export function mapStmtExprs(s: Stmt, f: (e: Expr) => Expr): Stmt {
  return mapStmt(s, (x) => {
    if (x.kind === 'store') {
      const idx = x.indices.map(f), v = f(x.value);
      return idx.every((e, i) => e === x.indices[i]) && v === x.value ? x : store(x.buffer, idx, v, x.accum);
    }
    if (x.kind === 'if') {
      const c = f(x.cond);
      return c === x.cond ? x : ifThen(c, x.then);
    }
    return x;
  });
}

/** Visits statements parents-first, with the loops that enclose each. */
export function walkStmt(s: Stmt, f: (s: Stmt, enclosing: readonly ForStmt[]) => void, enclosing: readonly ForStmt[] = []): void {
  f(s, enclosing);
  switch (s.kind) {
    case 'for':
      walkStmt(s.body, f, [...enclosing, s]);
      return;
    case 'seq':
      s.body.forEach((x) => walkStmt(x, f, enclosing));
      return;
    case 'if':
      walkStmt(s.then, f, enclosing);
      return;
    case 'alloc':
      walkStmt(s.body, f, enclosing);
      return;
    case 'store':
    case 'barrier':
      return;
  }
}

export function collectLoops(s: Stmt): ForStmt[] {
  const out: ForStmt[] = [];
  walkStmt(s, (x) => {
    if (x.kind === 'for') out.push(x);
  });
  return out;
}
