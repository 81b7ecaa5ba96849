import { DType, isFloat } from './dtype.js';
import { IRInvariantError } from './errors.js';
import { Expr, forEachExpr } from './expr.js';
import { BufferDecl, ForStmt, Stmt, isGpuAxis } from './loop.js';

/** A whole kernel: its global buffers (parameters) and one statement tree. */
export interface Program {
  readonly name: string;
  readonly buffers: readonly BufferDecl[];
  readonly body: Stmt;
}

export type ValueType = DType | 'bool';

/** Builds a program and checks every invariant of the loop IR; throws IRInvariantError otherwise. */
export function program(name: string, buffers: readonly BufferDecl[], body: Stmt): Program {
  const p: Program = Object.freeze({ name, buffers: Object.freeze([...buffers]), body });
  verifyProgram(p);
  return p;
}

export function withBody(p: Program, body: Stmt): Program {
  return body === p.body ? p : program(p.name, p.buffers, body);
}

export function typeOf(e: Expr, buffers: ReadonlyMap<string, BufferDecl>): ValueType {
  switch (e.kind) {
    case 'const':
      return e.dtype;
    case 'var':
      return 'i32';
    case 'binary': {
      const a = typeOf(e.a, buffers), b = typeOf(e.b, buffers);
      if (a !== b || a === 'bool') throw new IRInvariantError(`operands of ${e.op} have types ${a} and ${b}`);
      return a;
    }
    case 'unary': {
      const a = typeOf(e.a, buffers);
      if (a === 'bool') throw new IRInvariantError(`${e.op} applied to a condition`);
      if (e.op !== 'neg' && e.op !== 'relu' && e.op !== 'abs' && !isFloat(a)) throw new IRInvariantError(`${e.op} needs a float, got ${a}`);
      return a;
    }
    case 'cmp': {
      const a = typeOf(e.a, buffers), b = typeOf(e.b, buffers);
      if (a !== b || a === 'bool') throw new IRInvariantError(`comparison of ${a} with ${b}`);
      return 'bool';
    }
    case 'logic':
      if (typeOf(e.a, buffers) !== 'bool' || typeOf(e.b, buffers) !== 'bool') throw new IRInvariantError(`${e.op} of non-conditions`);
      return 'bool';
    case 'not':
      if (typeOf(e.a, buffers) !== 'bool') throw new IRInvariantError('not of a non-condition');
      return 'bool';
    case 'select': {
      if (typeOf(e.cond, buffers) !== 'bool') throw new IRInvariantError('select condition is not a condition');
      const t = typeOf(e.then, buffers), o = typeOf(e.else, buffers);
      if (t !== o) throw new IRInvariantError(`select branches have types ${t} and ${o}`);
      return t;
    }
    case 'load': {
      const b = buffers.get(e.buffer);
      if (!b) throw new IRInvariantError(`load from undeclared buffer ${e.buffer}`);
      return b.dtype;
    }
    case 'cast': {
      const a = typeOf(e.a, buffers);
      if (a === 'bool') throw new IRInvariantError('cast of a condition');
      return e.dtype;
    }
  }
}

export function verifyProgram(p: Program): void {
  const buffers = new Map<string, BufferDecl>();
  for (const b of p.buffers) {
    if (buffers.has(b.name)) throw new IRInvariantError(`buffer ${b.name} declared twice`);
    if (b.scope !== 'global') throw new IRInvariantError(`program parameter ${b.name} must be global, is ${b.scope}`);
    buffers.set(b.name, b);
  }
  const loopNames = new Set<string>();

  const checkExpr = (e: Expr, bound: ReadonlySet<string>, bufs: ReadonlyMap<string, BufferDecl>) => {
    forEachExpr(e, (x) => {
      if (x.kind === 'var' && !bound.has(x.name)) throw new IRInvariantError(`variable ${x.name} used outside its loop`);
      if (x.kind === 'load') {
        const b = bufs.get(x.buffer);
        if (!b) throw new IRInvariantError(`load from undeclared buffer ${x.buffer}`);
        if (b.shape.length !== x.indices.length) {
          throw new IRInvariantError(`load ${x.buffer} with ${x.indices.length} indices, buffer has rank ${b.shape.length}`);
        }
        for (const i of x.indices) if (typeOf(i, bufs) !== 'i32') throw new IRInvariantError(`index of ${x.buffer} is not i32`);
      }
    });
    return typeOf(e, bufs);
  };

  const visit = (s: Stmt, bound: ReadonlySet<string>, bufs: ReadonlyMap<string, BufferDecl>, loops: readonly ForStmt[]): void => {
    switch (s.kind) {
      case 'for': {
        if (loopNames.has(s.var)) throw new IRInvariantError(`loop variable ${s.var} bound twice`);
        loopNames.add(s.var);
        if (isGpuAxis(s.loopKind) && loops.some((l) => l.loopKind === s.loopKind)) {
          throw new IRInvariantError(`loop ${s.var} bound to ${s.loopKind} inside another loop bound to it`);
        }
        if (s.loopKind === 'parallel' && loops.some((l) => l.loopKind === 'parallel')) {
          throw new IRInvariantError(`parallel loop ${s.var} nested in another parallel loop`);
        }
        if (loops.some((l) => l.loopKind === 'vectorized')) {
          throw new IRInvariantError(`loop ${s.var} inside vectorized loop ${loops.find((l) => l.loopKind === 'vectorized')!.var}`);
        }
        visit(s.body, new Set([...bound, s.var]), bufs, [...loops, s]);
        return;
      }
      case 'seq':
        s.body.forEach((x) => visit(x, bound, bufs, loops));
        return;
      case 'if':
        if (checkExpr(s.cond, bound, bufs) !== 'bool') throw new IRInvariantError('if condition is not a condition');
        visit(s.then, bound, bufs, loops);
        return;
      case 'alloc': {
        if (bufs.has(s.buffer.name)) throw new IRInvariantError(`buffer ${s.buffer.name} declared twice`);
        visit(s.body, bound, new Map([...bufs, [s.buffer.name, s.buffer]]), loops);
        return;
      }
      case 'store': {
        const b = bufs.get(s.buffer);
        if (!b) throw new IRInvariantError(`store to undeclared buffer ${s.buffer}`);
        if (b.role === 'input') throw new IRInvariantError(`store to input buffer ${s.buffer}`);
        if (b.shape.length !== s.indices.length) {
          throw new IRInvariantError(`store ${s.buffer} with ${s.indices.length} indices, buffer has rank ${b.shape.length}`);
        }
        for (const i of s.indices) if (checkExpr(i, bound, bufs) !== 'i32') throw new IRInvariantError(`index of ${s.buffer} is not i32`);
        const t = checkExpr(s.value, bound, bufs);
        if (t !== b.dtype) throw new IRInvariantError(`store of ${t} into ${b.dtype} buffer ${s.buffer}`);
        return;
      }
      case 'barrier':
        return;
    }
  };
  visit(p.body, new Set(), buffers, []);
}

/** All buffers visible anywhere in the program: parameters and allocations. */
export function allBuffers(p: Program): Map<string, BufferDecl> {
  const out = new Map(p.buffers.map((b) => [b.name, b] as const));
  const walk = (s: Stmt): void => {
    if (s.kind === 'alloc') out.set(s.buffer.name, s.buffer);
    if (s.kind === 'for' || s.kind === 'alloc') walk(s.body);
    else if (s.kind === 'seq') s.body.forEach(walk);
    else if (s.kind === 'if') walk(s.then);
  };
  walk(p.body);
  return out;
}
