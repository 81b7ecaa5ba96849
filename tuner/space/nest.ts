import { ForStmt, collectLoops, walkStmt } from '../../ir/loop.js';
import { Expr, forEachExpr, freeVars } from '../../ir/expr.js';
import { Program } from '../../ir/program.js';
import { LoopsmithError } from '../../ir/errors.js';
import { perfectChain } from '../../scheduler/locate.js';
import { splitNames } from '../../scheduler/primitives/split.js';

export interface Axis {
  readonly name: string;
  readonly extent: number;
  readonly axis: 'spatial' | 'reduce';
  /** Spatial axes get 3 levels (CPU: outer/cache/register, GPU: workgroup/thread/register), reductions 2. */
  readonly levels: number;
}

/** A loop of the tiled main nest: the axis it was split from and its level (0 is outermost). */
export interface TiledLoop {
  readonly name: string;
  readonly axis: Axis;
  readonly level: number;
}

/**
 * The perfect nest that computes the output (the update nest of a reduction): its loops are the
 * axes of the space. The names of the tiled loops are the ones `split` gives, kept in a map from
 * name to (axis, level) so that no rule ever has to read a loop name.
 */
export class MainNest {
  readonly axes: readonly Axis[];
  readonly spatial: readonly Axis[];
  readonly reduce: readonly Axis[];
  /** Inputs the main nest reads: the candidates for staging (an epilogue's bias is not). */
  readonly inputs: readonly string[];
  /** Inputs declared constant (prepack): a pack of them before the nest runs once, at load. */
  readonly constants: ReadonlySet<string>;
  readonly output: string;
  /** Per buffer the main nest touches (inputs and the output): the dimension each axis indexes directly, where one does. */
  private readonly dims: ReadonlyMap<string, ReadonlyMap<string, number>>;
  private readonly ranks: ReadonlyMap<string, number>;
  /**
   * Axes in a stride phase guard, their stride and the guard's other axes (a transposed
   * convolution's output and kernel axes along a strided dimension): split by the stride innermost
   * and unrolled, each copy's guard is a constant, and the taps that never land on an input disappear.
   */
  readonly phases: ReadonlyMap<string, { readonly stride: number; readonly with: readonly string[] }>;
  /** Per buffer: every axis its index expressions use (`X[oh * 2 + rh]` uses oh and rh). */
  private readonly used: ReadonlyMap<string, ReadonlySet<string>>;
  private readonly names: ReadonlyMap<string, readonly string[]>;
  private readonly tiled: ReadonlyMap<string, TiledLoop>;

  constructor(program: Program) {
    const tops = program.body.kind === 'seq' ? program.body.body : [program.body];
    const main = tops.find((t) => collectLoops(t).some((l) => l.axis === 'reduce')) ?? tops[0]!;
    if (main.kind !== 'for') throw new LoopsmithError(`${program.name}: no loop nest to schedule`);
    const chain: ForStmt[] = perfectChain(main);
    this.axes = chain.map((l) => ({ name: l.var, extent: l.extent, axis: l.axis, levels: l.axis === 'spatial' ? 3 : 2 }));
    this.spatial = this.axes.filter((a) => a.axis === 'spatial');
    this.reduce = this.axes.filter((a) => a.axis === 'reduce');
    const read = new Set<string>();
    const dims = new Map<string, Map<string, number>>();
    const used = new Map<string, Set<string>>();
    // Loops of extent 1 add nothing to an index: a depthwise layer reads its input channel as
    // `k + rc` with rc of extent 1, which is k by itself (and can be blocked along k).
    const unit = new Set(chain.filter((l) => l.extent === 1).map((l) => l.var));
    const alone = (e: Expr): string | undefined => {
      if (e.kind === 'var') return e.name;
      if (e.kind !== 'binary' || e.op !== 'add') return undefined;
      const a = alone(e.a), b = alone(e.b);
      return a !== undefined && b !== undefined ? (unit.has(a) ? b : unit.has(b) ? a : undefined) : undefined;
    };
    const note = (buffer: string, indices: readonly Expr[]) => {
      const m = dims.get(buffer) ?? new Map<string, number>();
      const u = used.get(buffer) ?? new Set<string>();
      indices.forEach((e, d) => {
        const v = alone(e);
        if (v !== undefined) m.set(v, d);
        for (const v of freeVars(e)) u.add(v);
      });
      dims.set(buffer, m);
      used.set(buffer, u);
    };
    // A stride phase guard, `(o + pad - r) mod s == 0` (a transposed convolution's taps that land
    // on an input element): the axes it uses, and s.
    const phases = new Map<string, { stride: number; with: string[] }>();
    const axisNames = new Set(chain.map((l) => l.var));
    walkStmt(main, (x) => {
      if (x.kind === 'store') {
        note(x.buffer, x.indices);
        forEachExpr(x.value, (e) => {
          if (e.kind === 'load') { read.add(e.buffer); note(e.buffer, e.indices); }
          const m = e.kind === 'cmp' && e.op === 'eq' && e.b.kind === 'const' && e.b.value === 0 ? e.a : undefined;
          if (m?.kind === 'binary' && m.op === 'mod' && m.b.kind === 'const' && m.b.value > 1) {
            const group = [...freeVars(m.a)].filter((v) => axisNames.has(v));
            for (const v of group) phases.set(v, { stride: m.b.value, with: [...new Set([...(phases.get(v)?.with ?? []), ...group.filter((x) => x !== v)])] });
          }
        });
      }
    });
    this.phases = phases;
    this.dims = dims;
    this.used = used;
    this.ranks = new Map(program.buffers.map((b) => [b.name, b.shape.length]));
    this.inputs = program.buffers.filter((b) => b.role === 'input' && read.has(b.name)).map((b) => b.name);
    this.constants = new Set(program.buffers.filter((b) => b.constant && read.has(b.name)).map((b) => b.name));
    this.output = program.buffers.find((b) => b.role === 'output')!.name;
    this.names = new Map(this.axes.map((a) => [a.name, splitNames(a.name, a.levels)]));
    this.tiled = new Map(this.axes.flatMap((a) => this.names.get(a.name)!.map((name, level) => [name, { name, axis: a, level }] as const)));
  }

  axis(name: string): Axis {
    const a = this.axes.find((x) => x.name === name);
    if (!a) throw new LoopsmithError(`no axis '${name}' in the main nest`);
    return a;
  }

  /** The dimension of `buffer` that axis `axis` indexes by itself (`X[.., axis, ..]`), if one does. */
  dimOf(buffer: string, axis: string): number | undefined {
    return this.dims.get(buffer)?.get(axis);
  }

  /**
   * The dimension a layout can block `buffer` along `axis` by (a pack makes a loop over `axis`
   * read contiguous vectors): one `axis` indexes by itself, other than the last (already contiguous).
   */
  blockDimOf(buffer: string, axis: string): number | undefined {
    const d = this.dimOf(buffer, axis);
    return d !== undefined && d !== this.rank(buffer) - 1 ? d : undefined;
  }

  /** Does an index of `buffer` use `axis` at all (by itself or inside an expression)? */
  uses(buffer: string, axis: string): boolean {
    return this.used.get(buffer)?.has(axis) ?? false;
  }

  rank(buffer: string): number {
    return this.ranks.get(buffer)!;
  }

  /** The loop that level `level` of an axis becomes. */
  loop(axis: string, level: number): string {
    return this.names.get(axis)![level]!;
  }

  /** All loops of the tiled nest, axis by axis. */
  loops(): string[] {
    return [...this.tiled.keys()];
  }

  has(loop: string): boolean {
    return this.tiled.has(loop);
  }

  /**
   * Is `loop` (of extent `extent`) a stride phase placed outside reduction loops in `order`? Each
   * of its unrolled copies then runs the whole reduction with a register tile of its own, so it is
   * not part of the tile (a transposed convolution's output phases, rules/register-tile.ts).
   */
  isPhaseCopy(order: readonly string[], loop: string, extent: number): boolean {
    if (!this.isPhaseLoop(loop, extent) || this.tiledLoop(loop).axis.axis !== 'spatial') return false;
    return order.slice(order.indexOf(loop) + 1).some((x) => this.tiledLoop(x).axis.axis === 'reduce');
  }

  /** Is `loop` (of extent `extent`) a stride phase: the innermost level of a phased axis, as long as its stride? */
  isPhaseLoop(loop: string, extent: number): boolean {
    const t = this.tiledLoop(loop);
    return t.level === t.axis.levels - 1 && this.phases.get(t.axis.name)?.stride === extent;
  }

  /** What a loop of the tiled nest is; only names this nest generated are known. */
  tiledLoop(loop: string): TiledLoop {
    const t = this.tiled.get(loop);
    if (!t) throw new LoopsmithError(`'${loop}' is not a loop of the tiled main nest`);
    return t;
  }
}
