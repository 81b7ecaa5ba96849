import { AllocStmt, BufferDecl, ForStmt, LoopKind, StoreStmt } from '../../ir/loop.js';
import { Code } from '../cstyle/code.js';
import { Dialect } from '../cstyle/dialect.js';
import { ExprPrinter, LoadExpr, Ranges } from '../cstyle/expr.js';
import { Names } from '../cstyle/names.js';
import { StmtWriter, combine, scratchNote, elements } from '../cstyle/stmt.js';
import { Lowered } from '../lower.js';
import { PreparedBuffer } from '../prepare.js';
import { C_DIALECT, cPrelude } from './dialect.js';
import { RegisterTiles } from './register-tiles.js';
import { cSignature } from './header.js';
import { Vectorizer } from './vectors.js';

export interface CParam {
  readonly name: string;
  readonly cName: string;
  readonly shape: readonly number[];
  /** `prepared`: the block the prepare function filled, read by the kernel (const, like an input). */
  readonly role: 'input' | 'output' | 'prepared';
}

/** The prepared block's parameter, by IR name: no buffer of a workload is called this. */
export const PREPARED = 'prepared';

/**
 * The function that runs once when the constant inputs are loaded (codegen/prepare.ts): it reads
 * the constants and fills the prepared block (`floats` floats; 0 when the schedule packs nothing
 * once), which the kernel then reads on every call. Its last parameter is the block, written.
 */
export interface CPrepare {
  readonly functionName: string;
  readonly params: readonly CParam[];
  readonly floats: number;
  readonly signature: string;
}

/** Every function of a kernel's definition (prepare and the kernel) made file-local. */
export const staticDefinition = (definition: string) => definition.replace(/^void /gm, 'static void ');

export interface CKernel {
  readonly source: string;
  readonly functionName: string;
  readonly params: readonly CParam[];
  /** `void name(params)`: the kernel's declaration without the semicolon. */
  readonly signature: string;
  readonly usesOpenMP: boolean;
  /** Bytes of scratch the kernel takes from the heap on each call (packed inputs, large caches). */
  readonly heapScratchBytes: number;
  /** The functions alone (prepare first), and the vector widths its prelude declares: what a file holding several kernels needs. */
  readonly definition: string;
  readonly vectorWidths: readonly number[];
  /** Present when the workload has constant inputs (prepack): call it once before the kernel. */
  readonly prepare?: CPrepare;
}

export interface CRenderOptions {
  /** f32 lanes of the target's vector registers: wider vectorized loops become several vectors. */
  readonly lanes: number;
  /** C's tables unless given: the fuzzer's tests render with a deliberately broken variant to show it finds the bug. */
  readonly dialect?: Dialect;
}

/** Scratch up to this size lives on the stack; larger tiles (packed panels) on the heap. */
const STACK_BYTES = 64 * 1024;

const PRAGMAS: Partial<Record<LoopKind, (extent: number) => string>> = {
  parallel: () => '#pragma omp parallel for schedule(static)',
  vectorized: () => '#pragma GCC ivdep',
  unrolled: (n) => `#pragma GCC unroll ${n}`,
};

/** Scalar C, where loads of register tiles read the tile's variables. */
class CExprPrinter extends ExprPrinter {
  constructor(dialect: Dialect, names: Names, decls: ReadonlyMap<string, BufferDecl>, private readonly tiles: RegisterTiles) {
    super(dialect, names, decls);
  }

  protected override load(e: LoadExpr, r: Ranges): Code {
    if (!this.tiles.has(e.buffer)) return super.load(e, r);
    return this.tiles.element(this.decl(e.buffer), e.indices, r, (x) => this.print(x, r)).read;
  }
}

/** The body of the C function: loops with OpenMP and GCC pragmas, vector statements, scratch on the stack, heap or in registers. */
class CWriter extends StmtWriter {
  usesOpenMP = false;
  heapScratchBytes = 0;

  constructor(dialect: Dialect, names: Names, exprs: ExprPrinter, decls: Map<string, BufferDecl>, private readonly tiles: RegisterTiles, readonly vectors: Vectorizer) {
    super(dialect, names, exprs, decls);
  }

  protected loop(s: ForStmt, depth: number, outer: Ranges, inner: Ranges): void {
    const vector = s.loopKind === 'vectorized' ? this.vectors.loop(s, outer) : undefined;
    if (vector) return vector.forEach((line) => this.emit(depth, line));
    const pragma = PRAGMAS[s.loopKind];
    if (pragma) this.emit(depth, pragma(s.extent));
    if (s.loopKind === 'parallel') this.usesOpenMP = true;
    const v = this.names.variable(s.var);
    const note = s.loopKind === 'serial' ? '' : ` /* ${s.loopKind} */`;
    this.block(depth, `for (int ${v} = 0; ${v} < ${s.extent}; ${v}++) {${note}`, () => this.write(s.body, depth + 1, inner));
  }

  protected alloc(s: AllocStmt, depth: number, r: Ranges): void {
    const b = s.buffer, id = this.names.buffer(b.name), bytes = elements(b.shape) * 4;
    const body = () => this.write(s.body, depth + 1, r);
    this.block(depth, '{', () => {
      if (this.tiles.has(b.name)) {
        this.vectors.widths.add(this.tiles.width(b));
        this.emit(depth + 1, this.tiles.declare(b));
        body();
      } else if (bytes <= STACK_BYTES) {
        this.emit(depth + 1, `float ${id}[${elements(b.shape)}] __attribute__((aligned(64))); /* ${scratchNote(b.name, b.shape)} */`);
        body();
      } else {
        this.heapScratchBytes += Math.ceil(bytes / 64) * 64 + 64;
        this.emit(depth + 1, `float *restrict ${id} = ls_alloc(${Math.ceil(bytes / 64) * 64}); /* ${scratchNote(b.name, b.shape)} */`);
        body();
        this.emit(depth + 1, `ls_free(${id});`);
      }
    });
  }

  protected override store(s: StoreStmt, depth: number, r: Ranges): void {
    if (!this.tiles.has(s.buffer)) return super.store(s, depth, r);
    const el = this.tiles.element(this.exprs.decl(s.buffer), s.indices, r, (x) => this.exprs.print(x, r));
    this.emit(depth, el.write(combine(this.dialect, s.accum, el.read, this.exprs.print(s.value, r), this.exprs.isInt(s.value))));
  }

  // C runs the invocations of a GPU nest one after another, so there is nothing to wait for.
  protected barrier(): void {}
}

/** One C function's text and what its harness needs to know. */
interface RenderedFunction {
  readonly name: string;
  readonly params: CParam[];
  readonly signature: string;
  readonly definition: string;
  readonly usesOpenMP: boolean;
  readonly heapScratchBytes: number;
  readonly widths: Set<number>;
}

/** The prepared buffers of a function: where each sits in the block, and whether the function reads or fills them. */
interface PreparedView {
  readonly buffers: readonly PreparedBuffer[];
  readonly floats: number;
  readonly access: 'read' | 'write';
}

function renderFunction(lowered: Lowered, functionName: string, opts: CRenderOptions, view?: PreparedView): RenderedFunction {
  const p = lowered.program;
  const dialect = opts.dialect ?? C_DIALECT;
  const names = new Names(dialect.reserved);
  const fn = names.own(functionName);
  const decls = new Map<string, BufferDecl>(p.buffers.map((b) => [b.name, b]));
  const inBlock = new Set(view?.buffers.map((b) => b.name) ?? []);
  const params: CParam[] = p.buffers.filter((b) => !inBlock.has(b.name)).map((b) => ({ name: b.name, cName: names.buffer(b.name), shape: b.shape, role: b.role === 'output' ? 'output' : 'input' }));
  const block = view ? { name: PREPARED, cName: names.own(PREPARED), shape: [view.floats], role: view.access === 'read' ? 'prepared' as const : 'output' as const } : undefined;
  if (block) params.splice(view!.access === 'read' ? params.findIndex((q) => q.role === 'output') : params.length, 0, block);
  const tiles = new RegisterTiles(lowered.registerTiles, names, opts.lanes);
  const exprs = new CExprPrinter(dialect, names, decls, tiles);
  const writer = new CWriter(dialect, names, exprs, decls, tiles, new Vectorizer(exprs, tiles, names, opts.lanes));
  writer.write(p.body, 0, new Map());
  // Each prepared buffer is a view into the block, at its offset: the caller passes one pointer.
  const views = (view?.buffers ?? []).map((b) => `  ${view!.access === 'read' ? 'const ' : ''}float *restrict ${names.buffer(b.name)} = ${block!.cName} + ${b.offset}; /* ${scratchNote(b.name, b.shape)}, prepared */`);
  const unused = view && view.buffers.length === 0 ? [`  (void)${block!.cName};`] : [];
  const signature = `void ${fn}(${cSignature(params)})`;
  const definition = [`${signature} {`, ...views, ...unused, ...writer.lines, '}', ''].join('\n');
  return { name: fn, params, signature, definition, usesOpenMP: writer.usesOpenMP, heapScratchBytes: writer.heapScratchBytes, widths: writer.vectors.widths };
}

/**
 * Renders a lowered program as a C11 function; with a prepare stage, also the function that fills
 * the prepared block (named `<functionName>_prepare`), which the kernel reads through one pointer.
 */
export function renderC(lowered: Lowered, functionName = 'kernel', opts: CRenderOptions = { lanes: 16 }): CKernel {
  const st = lowered.prepare;
  const main = renderFunction(lowered, functionName, opts, st ? { buffers: st.prepared, floats: st.floats, access: 'read' } : undefined);
  const prep = st ? renderFunction(st.lowered, `${functionName}_prepare`, opts, { buffers: st.prepared, floats: st.floats, access: 'write' }) : undefined;
  const p = lowered.program;
  const vectorWidths = [...new Set([...main.widths, ...(prep?.widths ?? [])])].sort((a, b) => a - b);
  const definition = (prep ? prep.definition : '') + main.definition;
  const shown = p.buffers.filter((b) => !st?.prepared.some((x) => x.name === b.name));
  const source = [
    `/* generated by loopsmith: ${p.name}(${shown.map((b) => `${b.name}[${b.shape.join('][')}]`).join(', ')}${st ? `; prepared ${st.floats} floats` : ''}) */`,
    ...cPrelude(vectorWidths),
    definition,
  ];
  return {
    source: source.join('\n'), functionName: main.name, params: main.params, signature: main.signature,
    usesOpenMP: main.usesOpenMP || (prep?.usesOpenMP ?? false), heapScratchBytes: main.heapScratchBytes, definition, vectorWidths,
    ...(prep ? { prepare: { functionName: prep.name, params: prep.params, floats: st!.floats, signature: prep.signature } } : {}),
  };
}
