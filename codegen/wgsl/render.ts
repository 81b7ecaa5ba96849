import { AllocStmt, BufferDecl, ForStmt, GpuAxis, Stmt, isGpuAxis, walkStmt } from '../../ir/loop.js';
import { ExprPrinter, Ranges } from '../cstyle/expr.js';
import { Names } from '../cstyle/names.js';
import { StmtWriter, scratchNote, elements } from '../cstyle/stmt.js';
import { Lowered } from '../lower.js';
import { BUILTIN_PARAMS, WGSL_DIALECT, WGSL_PRELUDE } from './dialect.js';

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

const AXES: Record<GpuAxis, { builtin: string; c: 'x' | 'y' | 'z'; i: 0 | 1 | 2 }> = {
  'workgroup.x': { builtin: BUILTIN_PARAMS.workgroup, c: 'x', i: 0 },
  'workgroup.y': { builtin: BUILTIN_PARAMS.workgroup, c: 'y', i: 1 },
  'workgroup.z': { builtin: BUILTIN_PARAMS.workgroup, c: 'z', i: 2 },
  'thread.x': { builtin: BUILTIN_PARAMS.local, c: 'x', i: 0 },
  'thread.y': { builtin: BUILTIN_PARAMS.local, c: 'y', i: 1 },
  'thread.z': { builtin: BUILTIN_PARAMS.local, c: 'z', i: 2 },
};

const ENTRY_PARAMS = `@builtin(workgroup_id) ${BUILTIN_PARAMS.workgroup}: vec3<u32>, @builtin(local_invocation_id) ${BUILTIN_PARAMS.local}: vec3<u32>, `
  + `@builtin(local_invocation_index) ${BUILTIN_PARAMS.index}: u32, @builtin(num_workgroups) ${BUILTIN_PARAMS.groups}: vec3<u32>`;

/**
 * Zero at run time (a dispatch has at least one workgroup) but not to the device's compiler: added to
 * every loop bound, it keeps the driver from unrolling the loops the schedule left as loops, so the
 * schedule alone decides what unrolls. On lavapipe, full unrolls by the driver cost 1-8 s of shader
 * compile on small nests and made the expert conv2d 1.9x slower (measured, docs/design.md).
 */
const OPAQUE_ZERO = 'ls_zero';
const OPAQUE_ZERO_DECL = `  let ${OPAQUE_ZERO}: i32 = i32(${BUILTIN_PARAMS.groups}.x == 0u); // 0: see the WGSL renderer`;

/** Workgroup and dispatch sizes of a nest: the extents of the loops bound to thread and workgroup axes. */
function gridOf(nest: Stmt): { workgroupSize: [number, number, number]; dispatch: [number, number, number] } {
  const workgroupSize: [number, number, number] = [1, 1, 1], dispatch: [number, number, number] = [1, 1, 1];
  walkStmt(nest, (s) => {
    if (s.kind === 'for' && isGpuAxis(s.loopKind)) (AXES[s.loopKind].builtin === BUILTIN_PARAMS.local ? workgroupSize : dispatch)[AXES[s.loopKind].i] = s.extent;
  });
  return { workgroupSize, dispatch };
}

/**
 * One entry point in SPMD form: a loop bound to a GPU axis is the invocation's id, a `cooperative`
 * copy is striped across the workgroup's invocations, workgroup scratch is a module-scope
 * `var<workgroup>` (shared with the other entries in `moduleVars`), local scratch a private array.
 */
class WgslWriter extends StmtWriter {
  workgroupBytes = 0;
  privateBytes = 0;

  constructor(names: Names, exprs: ExprPrinter, decls: Map<string, BufferDecl>, private readonly threads: number, private readonly moduleVars: string[]) {
    super(WGSL_DIALECT, names, exprs, decls);
  }

  protected loop(s: ForStmt, depth: number, _outer: Ranges, inner: Ranges): void {
    const v = this.names.variable(s.var);
    if (isGpuAxis(s.loopKind)) {
      const a = AXES[s.loopKind];
      this.emit(depth, `let ${v}: i32 = i32(${a.builtin}.${a.c}); // ${s.loopKind}`);
      return this.write(s.body, depth, inner);
    }
    const header = s.loopKind === 'cooperative' && this.threads > 1
      ? `for (var ${v}: i32 = i32(${BUILTIN_PARAMS.index}); ${v} < ${s.extent}i + ${OPAQUE_ZERO}; ${v} += ${this.threads}i) { // cooperative`
      : `for (var ${v}: i32 = 0i; ${v} < ${s.extent}i + ${OPAQUE_ZERO}; ${v}++) {${s.loopKind === 'serial' ? '' : ` // ${s.loopKind}`}`;
    this.block(depth, header, () => this.write(s.body, depth + 1, inner));
  }

  protected alloc(s: AllocStmt, depth: number, r: Ranges): void {
    const b = s.buffer, id = this.names.buffer(b.name), size = elements(b.shape);
    if (b.scope === 'workgroup') {
      // Unrolled copies of a staged loop share one workgroup array, used one after the other.
      const decl = `var<workgroup> ${id}: array<f32, ${size}>; // ${scratchNote(b.name, b.shape)}`;
      if (!this.moduleVars.includes(decl)) {
        this.moduleVars.push(decl);
        this.workgroupBytes += size * 4;
      }
      return this.write(s.body, depth, r);
    }
    this.privateBytes = Math.max(this.privateBytes, size * 4);
    this.block(depth, '{', () => {
      this.emit(depth + 1, `var ${id}: array<f32, ${size}>; // ${scratchNote(b.name, b.shape)}`);
      this.write(s.body, depth + 1, r);
    });
  }

  protected barrier(depth: number): void {
    this.emit(depth, 'workgroupBarrier();');
  }
}

/**
 * Renders a lowered program as WGSL: each top-level nest is a compute entry point; loops bound to
 * `workgroup.*` and `thread.*` become the invocation's ids (their extents give the dispatch and
 * workgroup sizes), `cooperative` copies are striped across the workgroup's invocations,
 * workgroup scratch is `var<workgroup>`, local scratch a private array.
 */
export function renderWgsl(lowered: Lowered): WgslKernel {
  const p = lowered.program;
  const names = new Names(WGSL_DIALECT.reserved);
  const decls = new Map<string, BufferDecl>(p.buffers.map((b) => [b.name, b]));
  const bindings: WgslBinding[] = p.buffers.map((b, i) => ({
    binding: i, name: b.name, wgslName: names.buffer(b.name), role: b.role === 'output' ? 'output' : 'input', shape: b.shape, elements: elements(b.shape),
  }));
  const exprs = new ExprPrinter(WGSL_DIALECT, names, decls);
  const moduleVars: string[] = [];
  const entries: WgslEntry[] = [];
  const bodies = (p.body.kind === 'seq' ? p.body.body : [p.body]).map((nest, n) => {
    const grid = gridOf(nest);
    const writer = new WgslWriter(names, exprs, decls, grid.workgroupSize.reduce((x, y) => x * y, 1), moduleVars);
    writer.write(nest, 0, new Map());
    const name = `main_${n}`;
    entries.push({ name, ...grid, workgroupBytes: writer.workgroupBytes, privateBytes: writer.privateBytes });
    return [`@compute @workgroup_size(${grid.workgroupSize.join(', ')})`, `fn ${name}(${ENTRY_PARAMS}) {`, OPAQUE_ZERO_DECL, ...writer.lines, '}', ''].join('\n');
  });
  const header = [
    `// generated by loopsmith: ${p.name}(${p.buffers.map((b) => `${b.name}[${b.shape.join('][')}]`).join(', ')})`,
    ...bindings.map((b) => `@group(0) @binding(${b.binding}) var<storage, ${b.role === 'input' ? 'read' : 'read_write'}> ${b.wgslName}: array<f32>;`),
    ...moduleVars,
    '',
    ...WGSL_PRELUDE,
  ];
  return { source: [...header, ...bodies].join('\n'), bindings, entries };
}
