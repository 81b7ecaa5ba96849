import { Workload } from '../ir/ops/index.js';
import { expertCpuBlockedConv } from '../scheduler/expert-blocked.js';
import { LAYOUTS } from '../ir/ops/layout.js';
import { Program } from '../ir/program.js';
import { LoopsmithError } from '../ir/errors.js';
import { applyTrace } from '../scheduler/apply.js';
import { expertCpuConv2d, expertCpuDepthwise, expertCpuGemm, expertGpuConv2d, expertGpuDepthwise, expertGpuGemm, expertGpuGemmRegisters } from '../scheduler/expert.js';
import { Trace } from '../scheduler/trace.js';
import { vectorUnitFor } from '../scheduler/vector-unit.js';
import { SpaceTarget } from './space/target.js';
import { expertPoint } from './expert-points.js';
import { TuningRecord } from './record.js';
import { RecordStore } from './records.js';
import { Point, ScheduleSpace, traceHash } from './space.js';

/** Records carried over from one other shape at most: the rest of the places go to other shapes. */
const PER_SHAPE = 2;

/** A schedule measured before the search starts, and why it was chosen. */
export interface StartingPoint {
  readonly label: string;
  readonly trace: Trace;
  /** Its point in this run's space, when it has one: the strategy then continues from it. */
  readonly point?: Point;
}

/** The 2-d convolutions whose loops the conv2d experts schedule. */
const CONV2D_OPS: readonly string[] = ['conv2d', 'grouped_conv2d', 'dilated_conv2d', 'conv2d_transpose'];

/**
 * Hand-written schedules of an operator for a target (scheduler/expert.ts), their register tiles
 * sized to its vector unit; the search bench measures them as peers.
 */
export function expertSchedules(w: Workload, target: Pick<SpaceTarget, 'style' | 'lanes' | 'vectorRegisters'>): { label: string; trace: Trace }[] {
  const p = w.params, style = target.style;
  const unit = vectorUnitFor(target.lanes, target.vectorRegisters);
  if (w.op.name === 'gemm' && !p.transA && !p.transB) {
    const { m, n, k } = p as { m: number; n: number; k: number };
    return style === 'cpu'
      ? [{ label: 'expert CPU GEMM', trace: expertCpuGemm(m, n, k, w.key, unit) }]
      : [{ label: 'expert GPU GEMM (register tiles)', trace: expertGpuGemmRegisters(m, n, k, w.key) }, { label: 'expert GPU GEMM (workgroup tiles)', trace: expertGpuGemm(m, n, k, w.key) }];
  }
  if (CONV2D_OPS.includes(w.op.name)) {
    return style === 'cpu' ? [{ label: `expert CPU ${w.op.name}`, trace: expertCpuConv2d(p, w.key, unit, w.op.name) }] : [{ label: `expert GPU ${w.op.name}`, trace: expertGpuConv2d(p, w.key, w.op.name) }];
  }
  // A fused conv is scheduled as the conv it wraps: depthwise where every channel is its own group.
  // The NCHW experts do not fit other layouts (other axes: ko, ki): a blocked layout has its own
  // (dense and depthwise), NHWC starts from the search.
  if (w.op.name === 'conv2d_fused' && (p.layout ?? 0) !== 0) {
    if (style !== 'cpu') return [];
    const one = expertCpuBlockedConv(p, w.key, unit, w.op.name);
    const several = expertCpuBlockedConv(p, w.key, unit, w.op.name, { channelBlocks: 'several' });
    return [
      ...(one ? [{ label: `expert CPU conv2d_fused (${LAYOUTS[p.layout!]})`, trace: one }] : []),
      ...(several ? [{ label: `expert CPU conv2d_fused (${LAYOUTS[p.layout!]}, several channel blocks per tile)`, trace: several }] : []),
    ];
  }
  if (w.op.name === 'conv2d_fused') {
    const depthwise = p.groups === p.c && p.k === p.c;
    if (style === 'cpu') return [{ label: `expert CPU conv2d_fused (${depthwise ? 'depthwise' : 'conv2d'})`, trace: depthwise ? expertCpuDepthwise(p, w.key, unit, w.op.name) : expertCpuConv2d(p, w.key, unit, w.op.name) }];
    return [{ label: 'expert GPU conv2d_fused', trace: expertGpuConv2d(p, w.key, w.op.name) }];
  }
  if (w.op.name === 'depthwise_conv2d') {
    return style === 'cpu' ? [{ label: 'expert CPU depthwise_conv2d', trace: expertCpuDepthwise(p, w.key, unit) }] : [{ label: 'expert GPU depthwise_conv2d', trace: expertGpuDepthwise(p, w.key) }];
  }
  return [];
}

/** How far apart two shapes of one operator are: the sum of |log2| ratios of their parameters. */
export function shapeDistance(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): number {
  let d = 0;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k] ?? 0, y = b[k] ?? 0;
    d += x > 0 && y > 0 ? Math.abs(Math.log2(x / y)) : x === y ? 0 : 4;
  }
  return d;
}

/** The divisor of `n` nearest to `want` on a log scale (ties to the smaller). */
function nearestDivisor(n: number, want: number): number {
  let best = 1;
  for (let d = 1; d <= n; d++) if (n % d === 0 && Math.abs(Math.log(d / want)) < Math.abs(Math.log(best / want))) best = d;
  return best;
}

/**
 * A point of another shape's space carried onto this one: each axis keeps its tile sizes where
 * they divide, else the nearest that do (innermost level first, since that is the register tile).
 * Loop names, order and switches carry over as they are: spaces of one operator share their axes.
 */
export function projectPoint(space: ScheduleSpace, p: Point): Point | undefined {
  const factors: Record<string, number[]> = {};
  for (const a of space.axes) {
    const f = p.factors[a.name];
    if (!f || f.length !== a.levels - 1) return undefined;
    let left = a.extent;
    const inner: number[] = [];
    for (let l = f.length - 1; l >= 0; l--) {
      const d = nearestDivisor(left, f[l]!);
      inner.unshift(d);
      left /= d;
    }
    factors[a.name] = inner;
  }
  const q: Point = { ...p, factors };
  return space.contains(q) && space.withinBudgets(q) ? q : undefined;
}

/**
 * A point from another device, for this space's threads: a 1-thread record has no parallel loop
 * (the space adds none on one thread), so carried as it is to 2 threads it would run on one. Its
 * outermost loop becomes the parallel one, as the space does on more threads (YOLO C1: the 1-thread
 * tune's 176 GFLOP/s kernel splits its two output-channel blocks between two threads).
 */
function withThreads(space: ScheduleSpace, p: Point): Point {
  if (space.target.style !== 'cpu' || space.target.threads <= 1 || p.parallel === 1) return p;
  const q: Point = { ...p, parallel: 1 };
  return space.contains(q) ? q : p;
}

export interface StartingContext {
  readonly workload: Workload;
  readonly base: Program;
  readonly space: ScheduleSpace;
  readonly records: RecordStore;
  readonly kind: string;
  readonly fingerprintKey: string;
  /** The target's own default schedule, where it has one (GPUs: one output per invocation). */
  readonly defaultTrace?: Trace;
  /** At most this many records of other shapes (default 6). */
  readonly neighbours?: number;
}

/**
 * What a tune measures first (issue 11, item 3): the target's default schedule, the operator's
 * expert schedules, then the best records of the nearest shapes of the same operator, on this
 * device first and then on other devices of the same kind (this shape included), carried onto this
 * shape where legal.
 * Each is kept only if its trace applies to this workload; duplicates (by trace hash) are dropped.
 */
export function startingPoints(ctx: StartingContext): StartingPoint[] {
  const { workload: w, space } = ctx;
  const out: StartingPoint[] = [];
  const seen = new Set<string>();
  const add = (label: string, trace: Trace, point?: Point) => {
    const h = traceHash(trace);
    if (seen.has(h)) return;
    try {
      applyTrace(ctx.base, trace);
    } catch (e) {
      if (e instanceof LoopsmithError) return;
      throw e;
    }
    seen.add(h);
    out.push({ label, trace, ...(point ? { point } : {}) });
  };
  if (ctx.defaultTrace) add('default schedule', ctx.defaultTrace);
  let experts: ReturnType<typeof expertSchedules> = [];
  try {
    experts = expertSchedules(w, space.target);
  } catch (e) {
    // An expert written for the common shapes may not fit this one: the tune goes on without it.
    if (!(e instanceof LoopsmithError)) throw e;
  }
  for (const e of experts) add(e.label, e.trace, expertPoint(w, space, e.trace));

  // This shape on other devices too (the same CPU at another thread count): measured again here, they
  // become this device's records; as they stand, they never count as its own.
  const others = ctx.records.load().records.filter((r) => r.workload.op === w.op.name && r.target.kind === ctx.kind && r.point && r.outcome.status === 'ok'
    && !(r.workload.key === w.key && r.target.fingerprint.key === ctx.fingerprintKey) && ctx.records.plausible(r));
  const groups = new Map<string, TuningRecord[]>();
  for (const r of others) {
    const k = `${r.workload.key}|${r.target.fingerprint.key}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const rank = (r: TuningRecord) => (r.target.fingerprint.key === ctx.fingerprintKey ? 0 : 1000) + shapeDistance(r.workload.params, w.params);
  const nearest = [...groups.values()].sort((a, b) => rank(a[0]!) - rank(b[0]!));
  let left = ctx.neighbours ?? 6;
  for (const g of nearest) {
    // The best few of each shape (its single best may not carry over), nearest shapes first.
    let taken = 0;
    for (const r of [...g].sort((a, b) => (b.outcome.gflops ?? 0) - (a.outcome.gflops ?? 0))) {
      if (left === 0 || taken === PER_SHAPE) break;
      const projected = projectPoint(space, r.point!);
      if (!projected) continue;
      const here = r.target.fingerprint.key === ctx.fingerprintKey;
      const q = here ? projected : withThreads(space, projected);
      const where = here ? 'this device' : `device ${r.target.fingerprint.key}`;
      const before = out.length;
      add(`best of ${r.workload.key} on ${where}`, space.toTrace(q, w.key), q);
      if (out.length > before) {
        taken++;
        left--;
      }
    }
    if (left === 0) break;
  }
  return out;
}
