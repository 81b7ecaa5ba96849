import { AllocStmt, BufferDecl, ForStmt, LoopKind, StoreStmt } from '../../ir/loop.js';
import { Code } from '../cstyle/code.js';
import { Dialect } from '../cstyle/dialect.js';
import { ExprPrinter, LoadExpr, Ranges } from '../cstyle/expr.js';
import { Names } from '../cstyle/names.js';
import { StmtWriter, combine, scratchNote, elements } from '../cstyle/stmt.js';
import { Lowered } from '../lower.js';
import { C_DIALECT, cPrelude } from './dialect.js';
import { RegisterTiles } from './register-tiles.js';
import { Vectorizer } from './vectors.js';

export interface CParam {
  readonly name: string;
  readonly cName: string;
  readonly shape: readonly number[];
  readonly role: 'input' | 'output';
}

export interface CKernel {
  readonly source: string;
  readonly functionName: string;
  readonly params: readonly CParam[];
  readonly usesOpenMP: boolean;
  /** Bytes of scratch the kernel takes from the heap on each call (packed inputs, large caches). */
  readonly heapScratchBytes: number;
  /** The function alone, and the vector widths its prelude declares: what a file holding several kernels needs. */
  readonly definition: string;
  readonly vectorWidths: readonly number[];
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

/** Renders a lowered program as a C11 function. */
export function renderC(lowered: Lowered, functionName = 'kernel', opts: CRenderOptions = { lanes: 16 }): CKernel {
  const p = lowered.program;
  const dialect = opts.dialect ?? C_DIALECT;
  const names = new Names(dialect.reserved);
  const fn = names.own(functionName);
  const decls = new Map<string, BufferDecl>(p.buffers.map((b) => [b.name, b]));
  const params: CParam[] = p.buffers.map((b) => ({ name: b.name, cName: names.buffer(b.name), shape: b.shape, role: b.role === 'output' ? 'output' : 'input' }));
  const tiles = new RegisterTiles(lowered.registerTiles, names, opts.lanes);
  const exprs = new CExprPrinter(dialect, names, decls, tiles);
  const writer = new CWriter(dialect, names, exprs, decls, tiles, new Vectorizer(exprs, tiles, names, opts.lanes));
  writer.write(p.body, 0, new Map());
  const signature = params.map((q) => `${q.role === 'input' ? 'const ' : ''}float *restrict ${q.cName}`).join(', ');
  const vectorWidths = [...writer.vectors.widths].sort((a, b) => a - b);
  const definition = [`void ${fn}(${signature}) {`, ...writer.lines, '}', ''].join('\n');
  const source = [
    `/* generated by loopsmith: ${p.name}(${p.buffers.map((b) => `${b.name}[${b.shape.join('][')}]`).join(', ')}) */`,
    ...cPrelude(vectorWidths),
    definition,
  ];
  return { source: source.join('\n'), functionName: fn, params, usesOpenMP: writer.usesOpenMP, heapScratchBytes: writer.heapScratchBytes, definition, vectorWidths };
}
