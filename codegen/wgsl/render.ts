import { Expr } from '../../ir/expr.js';
import { Interval, bounds } from '../../ir/interval.js';
import { BufferDecl, GpuAxis, Stmt, isGpuAxis, walkStmt } from '../../ir/loop.js';
import { Lowered } from '../lower.js';
import { Names } from '../c/names.js';
import { rowMajorOffset } from '../layout.js';

export interface WgslBinding {
  readonly binding: number;
  readonly name: string;
  readonly wgslName: string;
  readonly role: 'input' | 'output';
  readonly shape: readonly number[];
  readonly elements: number;
}

/** One compute entry point: a top-level nest of the program, dispatched after the previous one. */
export interface WgslEntry {
  readonly name: string;
  readonly workgroupSize: readonly [number, number, number];
  readonly dispatch: readonly [number, number, number];
  /** Bytes of workgroup memory and of private scratch per invocation. */
  readonly workgroupBytes: number;
  readonly privateBytes: number;
}

export interface WgslKernel {
  readonly source: string;
  readonly bindings: readonly WgslBinding[];
  readonly entries: readonly WgslEntry[];
}

const AXES: Record<GpuAxis, { builtin: 'wid' | 'lid'; c: 'x' | 'y' | 'z'; i: 0 | 1 | 2 }> = {
  'workgroup.x': { builtin: 'wid', c: 'x', i: 0 }, 'workgroup.y': { builtin: 'wid', c: 'y', i: 1 }, 'workgroup.z': { builtin: 'wid', c: 'z', i: 2 },
  'thread.x': { builtin: 'lid', c: 'x', i: 0 }, 'thread.y': { builtin: 'lid', c: 'y', i: 1 }, 'thread.z': { builtin: 'lid', c: 'z', i: 2 },
};

const floatLit = (v: number) => {
  // Beyond f32's range a decimal literal would not compile: spell the extremes by their bits.
  if (Math.abs(v) >= 3.4e38) return v > 0 ? 'bitcast<f32>(0x7f7fffffu)' : 'bitcast<f32>(0xff7fffffu)';
  if (v === 0) return '0.0f';
  const s = Math.fround(v).toPrecision(9).replace(/\.?0+(e|$)/, '$1');
  return /[.e]/.test(s) ? `${s}f` : `${s}.0f`;
};

const PRELUDE = [
  '// floor division and its remainder: index arithmetic means the same as in the loop IR',
  'fn ls_fdiv(a: i32, b: i32) -> i32 { let q = a / b; if ((a % b != 0) && ((a < 0) != (b < 0))) { return q - 1; } return q; }',
  'fn ls_fmod(a: i32, b: i32) -> i32 { let r = a % b; if ((r != 0) && ((r < 0) != (b < 0))) { return r + b; } return r; }',
  '',
];

/**
 * Renders a lowered program as WGSL: each top-level nest is a compute entry point; loops bound to
 * `workgroup.*` and `thread.*` become the invocation's ids (their extents give the dispatch and
 * workgroup sizes), `cooperative` copies are striped across the workgroup's invocations,
 * workgroup scratch is `var<workgroup>`, local scratch a private array.
 */
export function renderWgsl(lowered: Lowered): WgslKernel {
  const p = lowered.program;
  const names = new Names();
  const decls = new Map<string, BufferDecl>(p.buffers.map((b) => [b.name, b]));
  const bindings: WgslBinding[] = p.buffers.map((b, i) => ({
    binding: i, name: b.name, wgslName: names.get(b.name), role: b.role === 'output' ? 'output' : 'input', shape: b.shape,
    elements: b.shape.reduce((x, y) => x * y, 1),
  }));
  const moduleVars: string[] = [];
  const entries: WgslEntry[] = [];
  const bodies: string[] = [];
  const tops = p.body.kind === 'seq' ? p.body.body : [p.body];

  tops.forEach((nest, n) => {
    const lines: string[] = [];
    const emit = (depth: number, s: string) => lines.push('  '.repeat(depth + 1) + s);
    const wg: [number, number, number] = [1, 1, 1], dispatch: [number, number, number] = [1, 1, 1];
    let workgroupBytes = 0, privateBytes = 0;
    walkStmt(nest, (s) => {
      if (s.kind === 'for' && isGpuAxis(s.loopKind)) (AXES[s.loopKind].builtin === 'lid' ? wg : dispatch)[AXES[s.loopKind].i] = s.extent;
    });
    const threads = wg[0] * wg[1] * wg[2];

    const flat = (b: BufferDecl, idx: readonly Expr[], r: Map<string, Interval>): Expr => rowMajorOffset(b.shape, idx, r);
    const expr = (e: Expr, r: Map<string, Interval>): string => {
      switch (e.kind) {
        case 'const': return e.dtype === 'f32' || e.dtype === 'f16' ? floatLit(e.value) : `${e.value}i`;
        case 'var': return names.get(e.name);
        case 'binary': {
          const a = expr(e.a, r), b = expr(e.b, r);
          const nonneg = () => { const x = bounds(e.a, r); return x !== undefined && x[0] >= 0; };
          const isInt = intTyped(e);
          switch (e.op) {
            case 'add': return `(${a} + ${b})`;
            case 'sub': return `(${a} - ${b})`;
            case 'mul': return `(${a} * ${b})`;
            case 'div': return isInt && !nonneg() ? `ls_fdiv(${a}, ${b})` : `(${a} / ${b})`;
            case 'mod': return nonneg() ? `(${a} % ${b})` : `ls_fmod(${a}, ${b})`;
            case 'min': return `min(${a}, ${b})`;
            case 'max': return `max(${a}, ${b})`;
          }
          break;
        }
        case 'unary': {
          const a = expr(e.a, r);
          return { neg: `(-${a})`, relu: `max(${a}, 0.0f)`, exp: `exp(${a})`, sqrt: `sqrt(${a})`, abs: `abs(${a})` }[e.op];
        }
        case 'cmp': return `(${expr(e.a, r)} ${{ lt: '<', le: '<=', eq: '==', ne: '!=', ge: '>=', gt: '>' }[e.op]} ${expr(e.b, r)})`;
        case 'logic': return `(${expr(e.a, r)} ${e.op === 'and' ? '&&' : '||'} ${expr(e.b, r)})`;
        case 'not': return `(!${expr(e.a, r)})`;
        // select() evaluates both sides; an out-of-range load in the unused one is safe in WebGPU,
        // whose buffer accesses are bounds-checked by the implementation.
        case 'select': return `select(${expr(e.else, r)}, ${expr(e.then, r)}, ${expr(e.cond, r)})`;
        case 'cast': return e.dtype === 'f32' ? `f32(${expr(e.a, r)})` : `i32(${expr(e.a, r)})`;
        case 'load': {
          const b = decls.get(e.buffer)!;
          return `${names.get(b.name)}[${expr(flat(b, e.indices, r), r)}]`;
        }
      }
      throw new Error(`cannot render ${JSON.stringify(e)}`);
    };
    const stmt = (s: Stmt, depth: number, r: Map<string, Interval>): void => {
      switch (s.kind) {
        case 'for': {
          const inner = new Map(r).set(s.var, [0, s.extent - 1] as const);
          const v = names.get(s.var);
          if (isGpuAxis(s.loopKind)) {
            const a = AXES[s.loopKind];
            emit(depth, `let ${v}: i32 = i32(${a.builtin}.${a.c}); // ${s.loopKind}`);
            stmt(s.body, depth, inner);
            return;
          }
          if (s.loopKind === 'cooperative' && threads > 1) {
            emit(depth, `for (var ${v}: i32 = i32(lidx); ${v} < ${s.extent}i; ${v} = ${v} + ${threads}i) { // cooperative`);
          } else {
            emit(depth, `for (var ${v}: i32 = 0i; ${v} < ${s.extent}i; ${v} = ${v} + 1i) {${s.loopKind === 'serial' ? '' : ` // ${s.loopKind}`}`);
          }
          stmt(s.body, depth + 1, inner);
          emit(depth, '}');
          return;
        }
        case 'seq': s.body.forEach((x) => stmt(x, depth, r)); return;
        case 'if': {
          emit(depth, `if (${expr(s.cond, r)}) {`);
          stmt(s.then, depth + 1, r);
          emit(depth, '}');
          return;
        }
        case 'alloc': {
          const b = s.buffer;
          decls.set(b.name, b);
          const size = b.shape.reduce((x, y) => x * y, 1);
          const id = names.get(b.name);
          if (b.scope === 'workgroup') {
            // Unrolled copies of a staged loop share one workgroup array, used one after the other.
            const decl = `var<workgroup> ${id}: array<f32, ${size}>; // ${b.name}: ${b.shape.join('x')}`;
            if (!moduleVars.includes(decl)) {
              moduleVars.push(decl);
              workgroupBytes += size * 4;
            }
            stmt(s.body, depth, r);
            return;
          }
          emit(depth, '{');
          emit(depth + 1, `var ${id}: array<f32, ${size}>; // ${b.name}: ${b.shape.join('x')}`);
          privateBytes = Math.max(privateBytes, size * 4);
          stmt(s.body, depth + 1, r);
          emit(depth, '}');
          return;
        }
        case 'store': {
          const b = decls.get(s.buffer)!;
          const target = `${names.get(b.name)}[${expr(flat(b, s.indices, r), r)}]`;
          const v = expr(s.value, r);
          if (s.accum === 'assign') emit(depth, `${target} = ${v};`);
          else if (s.accum === 'sum') emit(depth, `${target} = ${target} + ${v};`);
          else emit(depth, `${target} = ${s.accum}(${target}, ${v});`);
          return;
        }
        case 'barrier':
          emit(depth, 'workgroupBarrier();');
          return;
      }
    };
    stmt(nest, 0, new Map());
    const name = `main_${n}`;
    bodies.push([
      `@compute @workgroup_size(${wg.join(', ')})`,
      `fn ${name}(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {`,
      ...lines,
      '}',
      '',
    ].join('\n'));
    entries.push({ name, workgroupSize: wg, dispatch, workgroupBytes, privateBytes });
  });

  const header = [
    `// generated by loopsmith: ${p.name}(${p.buffers.map((b) => `${b.name}[${b.shape.join('][')}]`).join(', ')})`,
    ...bindings.map((b) => `@group(0) @binding(${b.binding}) var<storage, ${b.role === 'input' ? 'read' : 'read_write'}> ${b.wgslName}: array<f32>;`),
    ...moduleVars,
    '',
    ...PRELUDE,
  ];
  return { source: [...header, ...bodies].join('\n'), bindings, entries };
}

function intTyped(e: Expr): boolean {
  switch (e.kind) {
    case 'const': return e.dtype === 'i32' || e.dtype === 'u32';
    case 'var': return true;
    case 'binary': return intTyped(e.a);
    default: return false;
  }
}

