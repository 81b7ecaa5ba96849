import { Expr } from './expr.js';
import { BufferDecl, Stmt } from './loop.js';
import { Program } from './program.js';
import { fillUniform } from './random.js';

export type Buffers = Record<string, Float32Array>;

const size = (b: BufferDecl) => b.shape.reduce((x, y) => x * y, 1);

/**
 * The reference executor: the loop IR rendered as plain JavaScript, every loop run serially
 * whatever its kind, every index checked against its dimension. Scheduled kernels are right when
 * they agree with this on the same inputs.
 */
export function compileReference(p: Program): (bufs: Buffers) => void {
  const ids = new Map<string, string>();
  const id = (name: string, prefix: string) => {
    const key = `${prefix}:${name}`;
    if (!ids.has(key)) ids.set(key, `${prefix}${ids.size}`);
    return ids.get(key)!;
  };
  const decls = new Map<string, BufferDecl>(p.buffers.map((b) => [b.name, b]));
  const lines: string[] = [];
  const emit = (s: string, depth: number) => lines.push('  '.repeat(depth) + s);

  const offset = (b: BufferDecl, indices: readonly Expr[]): string => {
    const parts: string[] = [];
    let stride = 1;
    for (let d = b.shape.length - 1; d >= 0; d--) {
      parts.push(`chk(${expr(indices[d]!)}, ${b.shape[d]}, ${JSON.stringify(b.name)}, ${d}) * ${stride}`);
      stride *= b.shape[d]!;
    }
    return parts.length ? parts.join(' + ') : '0';
  };

  const expr = (e: Expr): string => {
    switch (e.kind) {
      case 'const':
        return `(${e.value})`;
      case 'var':
        return id(e.name, 'v');
      case 'binary': {
        const a = expr(e.a), b = expr(e.b);
        switch (e.op) {
          case 'add': return `(${a} + ${b})`;
          case 'sub': return `(${a} - ${b})`;
          case 'mul': return `(${a} * ${b})`;
          case 'div': return `fdiv(${a}, ${b})`;
          case 'mod': return `fmod(${a}, ${b})`;
          case 'min': return `Math.min(${a}, ${b})`;
          case 'max': return `Math.max(${a}, ${b})`;
        }
        break;
      }
      case 'unary': {
        const a = expr(e.a);
        switch (e.op) {
          case 'neg': return `(-${a})`;
          case 'relu': return `Math.max(${a}, 0)`;
          case 'exp': return `Math.exp(${a})`;
          case 'sqrt': return `Math.sqrt(${a})`;
          case 'abs': return `Math.abs(${a})`;
        }
        break;
      }
      case 'cmp': {
        const op = { lt: '<', le: '<=', eq: '===', ne: '!==', ge: '>=', gt: '>' }[e.op];
        return `(${expr(e.a)} ${op} ${expr(e.b)})`;
      }
      case 'logic':
        return `(${expr(e.a)} ${e.op === 'and' ? '&&' : '||'} ${expr(e.b)})`;
      case 'not':
        return `(!${expr(e.a)})`;
      case 'select':
        return `(${expr(e.cond)} ? ${expr(e.then)} : ${expr(e.else)})`;
      case 'load': {
        const b = decls.get(e.buffer)!;
        return `${id(e.buffer, 'b')}[${offset(b, e.indices)}]`;
      }
      case 'cast':
        return e.dtype === 'f32' ? `Math.fround(${expr(e.a)})` : `Math.trunc(${expr(e.a)})`;
    }
    throw new Error(`unhandled expression ${JSON.stringify(e)}`);
  };

  const stmt = (s: Stmt, depth: number): void => {
    switch (s.kind) {
      case 'for': {
        const v = id(s.var, 'v');
        emit(`for (let ${v} = 0; ${v} < ${s.extent}; ${v}++) {`, depth);
        stmt(s.body, depth + 1);
        emit('}', depth);
        return;
      }
      case 'seq':
        s.body.forEach((x) => stmt(x, depth));
        return;
      case 'if':
        emit(`if (${expr(s.cond)}) {`, depth);
        stmt(s.then, depth + 1);
        emit('}', depth);
        return;
      case 'alloc': {
        decls.set(s.buffer.name, s.buffer);
        // NaN-filled on every entry: a kernel that reads scratch it never wrote shows up as wrong.
        emit(`{ const ${id(s.buffer.name, 'b')} = new Float32Array(${size(s.buffer)}).fill(NaN);`, depth);
        stmt(s.body, depth + 1);
        emit('}', depth);
        return;
      }
      case 'store': {
        const b = decls.get(s.buffer)!;
        const target = `${id(s.buffer, 'b')}[${offset(b, s.indices)}]`;
        const v = expr(s.value);
        if (s.accum === 'assign') emit(`${target} = ${v};`, depth);
        else if (s.accum === 'sum') emit(`${target} += ${v};`, depth);
        else emit(`{ const o = ${offset(b, s.indices)}; ${id(s.buffer, 'b')}[o] = Math.${s.accum}(${id(s.buffer, 'b')}[o], ${v}); }`, depth);
        return;
      }
      case 'barrier':
        return;
    }
  };

  const header = p.buffers.map((b) => `const ${id(b.name, 'b')} = bufs[${JSON.stringify(b.name)}];`);
  stmt(p.body, 0);
  const src = [
    '"use strict";',
    'const fdiv = (a, b) => Math.floor(a / b);',
    'const fmod = (a, b) => ((a % b) + b) % b;',
    'const chk = (i, n, buf, d) => { if (!(i >= 0 && i < n)) throw new RangeError(`index ${i} out of bounds [0, ${n}) in dimension ${d} of ${buf}`); return i; };',
    ...header,
    ...lines,
  ].join('\n');
  return new Function('bufs', src) as (bufs: Buffers) => void;
}

/** Deterministic inputs for a program: buffer i is filled from seed + i. */
export function randomInputs(p: Program, seed: number): Buffers {
  const out: Buffers = {};
  p.buffers.forEach((b, i) => {
    if (b.role === 'input') out[b.name] = fillUniform(size(b), seed * 7919 + i);
  });
  return out;
}

/**
 * Runs a program on copies of the inputs and returns every buffer afterwards. Outputs start
 * NaN-filled: a kernel that leaves an element unwritten cannot pass.
 */
export function execute(p: Program, inputs: Buffers): Buffers {
  const bufs: Buffers = {};
  for (const b of p.buffers) {
    if (b.role === 'input') {
      const src = inputs[b.name];
      if (!src || src.length !== size(b)) throw new Error(`input ${b.name} missing or of the wrong size`);
      bufs[b.name] = Float32Array.from(src);
    } else {
      bufs[b.name] = new Float32Array(size(b)).fill(NaN);
    }
  }
  compileReference(p)(bufs);
  return bufs;
}

export function outputsOf(p: Program, bufs: Buffers): Buffers {
  const out: Buffers = {};
  for (const b of p.buffers) if (b.role === 'output') out[b.name] = bufs[b.name]!;
  return out;
}
