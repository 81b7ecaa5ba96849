import { z } from '../../ir/schema.js';
import { Expr, add, int, mul, plus, variable } from '../../ir/expr.js';
import { ForStmt } from '../../ir/loop.js';
import { Program } from '../../ir/program.js';
import { affineIn } from '../affine.js';
import { ScheduleContext } from '../context.js';
import { ScheduleError } from '../errors.js';
import { FIELD, PrimitiveDef, stepFields } from '../primitive.js';
import { Packing, stageInput } from './cache.js';

type Scope = 'local' | 'workgroup';

/** Dimension `dim` split by `factor`, its inner part moved innermost. */
export interface Block {
  readonly dim: number;
  readonly factor: number;
}

/**
 * `i` as `q * f + r` with `r` in [0, f), read off its affine form when the terms whose
 * coefficients are not multiples of f stay in that range over the loops (the usual case: a split
 * loop of extent f), so the packed index is plain loop variables that the vectorizer sees as
 * contiguous; otherwise floor division and its remainder, which are right for any index.
 */
function divide(i: Expr, f: number, loops: readonly ForStmt[]): [Expr, Expr] {
  const ext = new Map(loops.map((l) => [l.var, l.extent]));
  const a = affineIn(i, new Set(ext.keys()));
  if (a && !a.rest) {
    const qc = Math.floor(a.constant / f), rc = a.constant - qc * f;
    let lo = rc, hi = rc, q: Expr | undefined, r: Expr | undefined;
    for (const [v, c] of a.coefs) {
      if (c % f === 0) {
        const t = c / f === 1 ? variable(v) : mul(variable(v), int(c / f));
        q = q ? add(q, t) : t;
      } else {
        const t = c === 1 ? variable(v) : mul(variable(v), int(c));
        r = r ? add(r, t) : t;
        lo += Math.min(0, c * (ext.get(v)! - 1));
        hi += Math.max(0, c * (ext.get(v)! - 1));
      }
    }
    if (lo >= 0 && hi < f) return [q ? plus(q, int(qc)) : int(qc), r ? plus(r, int(rc)) : int(rc)];
  }
  return [{ kind: 'binary', op: 'div', a: i, b: int(f) }, { kind: 'binary', op: 'mod', a: i, b: int(f) }];
}

/**
 * `[d0][d1]...` with each blocked dimension split: outer parts in place, inner parts last, in the
 * order given. A pack before the nest copies in the source's order (measured faster for the
 * pointwise layers' weights: 65 vs 54 GFLOP/s); a pack at a loop copies one block in its own order,
 * reading the block's `factor` source rows side by side and storing contiguously: 8 rows of 4608
 * weights packed in 0.40 ms instead of 1.6 ms, which took ResNet-18 conv5_x from 45 to 54 GFLOP/s.
 */
function blockedPacking(blocks: readonly Block[], sourceOrder: boolean): Packing {
  return {
    suffix: 'packed',
    shape: (extent) => [...extent.map((e, d) => {
      const b = blocks.find((x) => x.dim === d);
      return b ? Math.ceil(e / b.factor) : e;
    }), ...blocks.map((b) => b.factor)],
    index: (local, inner) => {
      const outer = [...local];
      const parts = blocks.map((b) => {
        const [q, r] = divide(local[b.dim]!, b.factor, inner);
        outer[b.dim] = q;
        return r;
      });
      return [...outer, ...parts];
    },
    copyOrder: sourceOrder ? (rank) => {
      const n = rank - blocks.length;
      return Array.from({ length: n }, (_, d) => d).flatMap((d) => {
        const j = blocks.findIndex((b) => b.dim === d);
        return j < 0 ? [d] : [d, n + j];
      });
    } : undefined,
    position: (t) => {
      const n = t.length - blocks.length;
      const pos = t.slice(0, n);
      blocks.forEach((b, j) => {
        pos[b.dim] = plus(mul(t[b.dim]!, int(b.factor)), t[n + j]!);
      });
      return pos;
    },
  };
}

/**
 * Stores an input in a blocked, permuted layout (TVM's NCHWc, oneDNN's OIhw16o): each blocked
 * dimension is split by its factor and the inner part moved innermost, so a loop over that inner
 * part reads contiguous memory (weights [K][C][R][S] blocked on K by 16 are read as
 * [K/16][C][R][S][16]). At `at`, the tile the loops inside it read is packed on every iteration
 * (scope local or workgroup, as cacheRead); without `at`, all of the input once before its nest. A
 * tile whose extent the factor does not divide is rounded up and zero-filled; without blocks, the
 * pack is a padded copy (positions outside the input are zero, so padding guards on the reads go).
 */
export function layout(p: Program, buffer: string, blocks: readonly Block[], scope: Scope, at: string | undefined, ctx: ScheduleContext): Program {
  const prim = `layout(${buffer}${blocks.length ? `, [${blocks.map((b) => b.dim).join(', ')}] by [${blocks.map((b) => b.factor).join(', ')}]` : ''}${at ? `, ${scope}, ${at}` : ''})`;
  const decl = p.buffers.find((b) => b.name === buffer);
  if (decl) {
    const rank = decl.shape.length;
    blocks.forEach((b, i) => {
      if (b.dim < 0 || b.dim >= rank) throw new ScheduleError(prim, [], `${buffer} has ${rank} dimensions (shape ${decl.shape.join('x')}); dimension ${b.dim} does not exist`, `dimensions 0 to ${rank - 1}`);
      if (blocks.findIndex((x) => x.dim === b.dim) !== i) throw new ScheduleError(prim, [], `dimension ${b.dim} is blocked twice`, 'block each dimension once');
      if (b.factor < 2) throw new ScheduleError(prim, [], `a block of ${b.factor} along dimension ${b.dim} changes nothing`, 'factors of 2 or more');
      if (b.factor > decl.shape[b.dim]!) throw new ScheduleError(prim, [], `a block of ${b.factor} along dimension ${b.dim} is larger than the dimension (${decl.shape[b.dim]})`, `factors up to ${decl.shape[b.dim]}`);
    });
  }
  return stageInput(p, prim, buffer, scope, at, blockedPacking(blocks, at === undefined), ctx);
}

// --- trace step ---

export interface LayoutStep {
  readonly prim: 'layout';
  readonly buffer: string;
  /** Blocked dimensions and their factors, pairwise; absent: a copy as it is. */
  readonly dims?: readonly number[];
  readonly factors?: readonly number[];
  /** Absent: local. */
  readonly scope?: Scope;
  /** Absent: once, before the nest. */
  readonly at?: string;
}

const SCOPES = ['local', 'workgroup'] as const satisfies readonly Scope[];

function blocksOf(s: LayoutStep): Block[] {
  return (s.dims ?? []).map((dim, i) => ({ dim, factor: s.factors![i]! }));
}

export const LAYOUT: PrimitiveDef<LayoutStep, [buffer: string, dims?: number[], factors?: number[], scope?: Scope, at?: string]> = {
  prim: 'layout',
  schema: stepFields('layout', { buffer: FIELD.buffer, dims: FIELD.ints.optional(), factors: FIELD.ints.optional(), scope: z.enum(SCOPES).optional(), at: FIELD.loop.optional() })
    .superRefine((s, ctx) => {
      if ((s.dims === undefined) !== (s.factors === undefined)) ctx.addIssue({ code: 'custom', message: `layout of ${s.buffer}: 'dims' and 'factors' go together (each blocked dimension and its factor)` });
      else if (s.dims && s.factors && s.dims.length !== s.factors.length) ctx.addIssue({ code: 'custom', message: `layout of ${s.buffer}: ${s.dims.length} dims and ${s.factors.length} factors; give one factor per blocked dimension` });
    })
    .transform((s) => LAYOUT.step(s.buffer, s.dims, s.factors, s.scope, s.at)),
  step: (buffer, dims, factors, scope, at) => ({
    prim: 'layout', buffer, ...(dims?.length ? { dims: [...dims], factors: [...(factors ?? [])] } : {}), ...(scope && scope !== 'local' ? { scope } : {}), ...(at !== undefined ? { at } : {}),
  }),
  // Trailing defaults are left out: s.layout('W', [0], [16]) packs before the nest.
  args: (s) => {
    const dims = [...(s.dims ?? [])], factors = [...(s.factors ?? [])];
    if (s.at !== undefined) return [s.buffer, dims, factors, s.scope ?? 'local', s.at];
    if (s.scope) return [s.buffer, dims, factors, s.scope];
    return dims.length ? [s.buffer, dims, factors] : [s.buffer];
  },
  apply: (p, s, ctx) => {
    if ((s.dims?.length ?? 0) !== (s.factors?.length ?? 0)) throw new ScheduleError(`layout(${s.buffer})`, [], `${s.dims?.length ?? 0} dims and ${s.factors?.length ?? 0} factors`, 'one factor per blocked dimension');
    return layout(p, s.buffer, blocksOf(s), s.scope ?? 'local', s.at, ctx);
  },
};
