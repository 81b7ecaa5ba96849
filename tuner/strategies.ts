import { Action, Point, ScheduleSpace } from './space.js';
import { QLearner } from './qmodel.js';

export const STRATEGIES = ['random', 'sa', 'q', 'flex'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/** What a strategy learns of a point: its cost (median seconds), Infinity when it failed. */
export interface Feedback {
  readonly point: Point;
  readonly cost: number;
}

export interface StrategyContext {
  readonly space: ScheduleSpace;
  readonly rng: () => number;
  /** Trials this run may spend: temperature and exploration schedules adapt to it. */
  readonly budget: number;
  /** Keys of points already proposed in this run (or measured before it). */
  readonly seen: Set<string>;
  /** Best points known before this run (from the records), best first. */
  readonly warm: readonly Point[];
  /** A learned value function to start from, and where to keep it. */
  readonly learner?: QLearner;
  /**
   * The cost model's scores of points (higher: faster), undefined while it cannot rank; the
   * Q-learner uses it as its baseline. Not an estimate of time: only differences within one run mean anything.
   */
  readonly value?: (points: readonly Point[]) => number[] | undefined;
}

export interface Strategy {
  readonly name: StrategyName;
  propose(n: number): Point[];
  feedback(results: readonly Feedback[]): void;
}

/** A fresh random point (one not seen yet, when such a point can be found). */
function freshSample(ctx: StrategyContext): Point {
  let p = ctx.space.sample(ctx.rng);
  for (let i = 0; i < 50 && ctx.seen.has(ctx.space.key(p)); i++) p = ctx.space.sample(ctx.rng);
  ctx.seen.add(ctx.space.key(p));
  return p;
}

/** A neighbour of `p` by a random applicable move that leads somewhere new. */
function randomNeighbour(ctx: StrategyContext, p: Point): { point: Point; action: number } | undefined {
  const { space } = ctx;
  for (let i = 0; i < 40; i++) {
    const a = Math.floor(ctx.rng() * space.actions.length);
    const q = space.apply(p, space.actions[a]!);
    if (q && !ctx.seen.has(space.key(q))) {
      ctx.seen.add(space.key(q));
      return { point: q, action: a };
    }
  }
  return undefined;
}

/** Moves that apply to `p` and lead to a point not seen yet. */
function allowedActions(ctx: StrategyContext, p: Point): number[] {
  const out: number[] = [];
  ctx.space.actions.forEach((a: Action, i) => {
    const q = ctx.space.apply(p, a);
    if (q && !ctx.seen.has(ctx.space.key(q))) out.push(i);
  });
  return out;
}

/** The baseline: independent uniform samples of the space. */
export class RandomSearch implements Strategy {
  readonly name = 'random' as const;
  constructor(private readonly ctx: StrategyContext) {}
  propose(n: number): Point[] {
    return Array.from({ length: n }, () => freshSample(this.ctx));
  }
  feedback(): void {}
}

/**
 * Simulated annealing on relative cost: a neighbour that is slower by a fraction d is accepted
 * with probability exp(-d / T); T falls geometrically from 0.3 to 0.005 over the trial budget, so
 * the schedule adapts to however many trials there are. After `patience` trials without a new
 * best, each chain restarts from one of the best points.
 */
export class SimulatedAnnealing implements Strategy {
  readonly name: StrategyName = 'sa';
  protected chains: { point: Point; cost: number }[] = [];
  protected best: { point: Point; cost: number }[] = [];
  protected trial = 0;
  private sinceBest = 0;
  private pending = new Map<string, number>();

  constructor(protected readonly ctx: StrategyContext) {}

  protected temperature(): number {
    const t = Math.min(1, this.trial / Math.max(1, this.ctx.budget));
    return 0.3 * Math.pow(0.005 / 0.3, t);
  }

  propose(n: number): Point[] {
    const out: Point[] = [];
    for (let i = 0; i < n; i++) {
      const chain = this.chains[i % Math.max(1, this.chains.length)];
      const next = chain ? randomNeighbour(this.ctx, chain.point) : undefined;
      const p = next?.point ?? (this.ctx.warm.length > i && this.trial === 0 ? this.ctx.warm[i]! : freshSample(this.ctx));
      this.ctx.seen.add(this.ctx.space.key(p));
      this.pending.set(this.ctx.space.key(p), i % Math.max(1, n));
      out.push(p);
    }
    return out;
  }

  feedback(results: readonly Feedback[]): void {
    for (const r of results) {
      this.trial++;
      this.recordBest(r);
      const slot = this.pending.get(this.ctx.space.key(r.point)) ?? 0;
      const cur = this.chains[slot];
      if (!cur) {
        if (Number.isFinite(r.cost)) this.chains[slot] = { point: r.point, cost: r.cost };
        continue;
      }
      if (!Number.isFinite(r.cost)) continue;
      const d = (r.cost - cur.cost) / cur.cost;
      if (d < 0 || this.ctx.rng() < Math.exp(-d / this.temperature())) this.chains[slot] = { point: r.point, cost: r.cost };
    }
    const patience = Math.max(10, Math.floor(this.ctx.budget / 10));
    if (this.sinceBest > patience && this.best.length) {
      this.chains = this.chains.map((_, i) => ({ ...this.best[i % this.best.length]! }));
      this.sinceBest = 0;
    }
  }

  protected recordBest(r: Feedback): void {
    if (!Number.isFinite(r.cost)) {
      this.sinceBest++;
      return;
    }
    const improved = !this.best.length || r.cost < this.best[0]!.cost;
    this.best.push({ point: r.point, cost: r.cost });
    this.best.sort((a, b) => a.cost - b.cost);
    this.best.length = Math.min(this.best.length, 8);
    this.sinceBest = improved ? 0 : this.sinceBest + 1;
  }
}

/**
 * The reward of a move: the log of the speedup over the point it moved from, in units of the
 * typical speedup seen so far in this run (a running RMS), clipped to [-1, 1]; -1 when it failed.
 * Raw speedup ratios differ by orders of magnitude between workloads and phases of a search (the
 * first moves double the speed, the last gain 2 %); normalized, one learning rate fits them all.
 */
class RewardScale {
  private sumSq = 0;
  private n = 0;

  reward(fromCost: number, cost: number): number {
    if (!Number.isFinite(cost)) return -1;
    const g = Math.log(fromCost / cost);
    this.sumSq += g * g;
    this.n++;
    const rms = Math.sqrt(this.sumSq / this.n) || 1;
    return Math.max(-1, Math.min(1, g / (2 * rms)));
  }
}

/**
 * The cost model as a baseline for the learner: the model's score difference between a point and
 * its neighbour, scaled by a factor fitted online (least squares through 0) to the rewards the
 * moves actually earned. The learner then learns only what the model gets wrong (the reward minus
 * this baseline), and chooses moves by its residual plus the baseline.
 */
class ModelBaseline {
  private sxy = 0;
  private sxx = 0;

  get scale(): number {
    return this.sxx > 0 ? Math.max(0, this.sxy / this.sxx) : 0;
  }

  fit(diff: number, reward: number): void {
    this.sxy += diff * reward;
    this.sxx += diff * diff;
  }
}

/** Moves tried by the model per proposal: the learner's best few and a few at random. */
const BASELINE_MOVES = 8;

/**
 * Q-learning over the neighbour moves: from the current point the learner picks a move
 * (epsilon-greedy on its value model plus the cost model's baseline), the reward is the
 * normalized log speedup over the point it moved from (-1 when the move led to a failing point),
 * and the walk continues from the better of the two.
 */
export class QSearch implements Strategy {
  readonly name: StrategyName = 'q';
  protected readonly learner: QLearner;
  protected current?: { point: Point; cost: number };
  protected best?: { point: Point; cost: number };
  private readonly origin = new Map<string, { from: Point; fromCost: number; action: number; diff?: number }>();
  private readonly rewards = new RewardScale();
  private readonly baseline = new ModelBaseline();

  constructor(protected readonly ctx: StrategyContext) {
    if (!ctx.learner) throw new Error('q search needs a learner');
    this.learner = ctx.learner;
  }

  /** Where the next walk starts: the current point (q), or a point chosen by annealing (flex). */
  protected start(_i: number): { point: Point; cost: number } | undefined {
    return this.current;
  }

  /**
   * The move from `from`: epsilon-greedy like the learner, but greedy over the learner's residual
   * value plus the model's baseline, among the learner's best moves and a few random ones.
   */
  private choose(from: Point, allowed: readonly number[]): { action: number; diff?: number } {
    const { space } = this.ctx;
    const features = space.features(from);
    const a = this.learner.act(features, allowed);
    if (!this.ctx.value || this.learner.lastWasRandom) return { action: a };
    const ranked = this.learner.rank(features, allowed);
    const rest = ranked.slice(BASELINE_MOVES / 2);
    const tried = [...new Set([a, ...ranked.slice(0, BASELINE_MOVES / 2), ...Array.from({ length: Math.min(rest.length, BASELINE_MOVES / 2) }, () => rest[Math.floor(this.ctx.rng() * rest.length)]!)])];
    const v = this.ctx.value([from, ...tried.map((x) => space.apply(from, space.actions[x]!)!)]);
    if (!v) return { action: a };
    const q = this.learner.values(features);
    const k = this.baseline.scale;
    let best = 0;
    for (let i = 1; i < tried.length; i++) if (q[tried[i]!]! + k * (v[i + 1]! - v[0]!) > q[tried[best]!]! + k * (v[best + 1]! - v[0]!)) best = i;
    return { action: tried[best]!, diff: v[best + 1]! - v[0]! };
  }

  propose(n: number): Point[] {
    const out: Point[] = [];
    for (let i = 0; i < n; i++) {
      const from = this.start(i);
      if (!from) {
        const p = this.ctx.warm[i] && !this.ctx.seen.has(this.ctx.space.key(this.ctx.warm[i]!)) ? this.ctx.warm[i]! : freshSample(this.ctx);
        this.ctx.seen.add(this.ctx.space.key(p));
        out.push(p);
        continue;
      }
      const allowed = allowedActions(this.ctx, from.point);
      if (!allowed.length) {
        out.push(freshSample(this.ctx));
        continue;
      }
      const { action: a, diff } = this.choose(from.point, allowed);
      const p = this.ctx.space.apply(from.point, this.ctx.space.actions[a]!)!;
      this.ctx.seen.add(this.ctx.space.key(p));
      this.origin.set(this.ctx.space.key(p), { from: from.point, fromCost: from.cost, action: a, ...(diff !== undefined ? { diff } : {}) });
      out.push(p);
    }
    return out;
  }

  feedback(results: readonly Feedback[]): void {
    for (const r of results) {
      const o = this.origin.get(this.ctx.space.key(r.point));
      if (o) {
        this.origin.delete(this.ctx.space.key(r.point));
        const valid = Number.isFinite(r.cost);
        const reward = this.rewards.reward(o.fromCost, r.cost);
        // The baseline is fitted on the moves the model scored; the learner keeps the residual.
        if (o.diff !== undefined && valid) this.baseline.fit(o.diff, reward);
        const residual = o.diff !== undefined ? Math.max(-1, Math.min(1, reward - this.baseline.scale * o.diff)) : reward;
        this.learner.observe({ features: this.ctx.space.features(o.from), action: o.action, reward: residual, next: this.ctx.space.features(r.point), valid });
      }
      if (!Number.isFinite(r.cost)) continue;
      if (!this.best || r.cost < this.best.cost) this.best = { point: r.point, cost: r.cost };
      this.onMeasured(r);
    }
  }

  protected onMeasured(r: Feedback): void {
    if (!this.current || r.cost < this.current.cost || this.ctx.rng() < 0.1) this.current = { point: r.point, cost: r.cost };
  }
}

/**
 * FlexTensor's combination: annealing chooses where to start (a pool of measured points, each
 * picked with Boltzmann weight exp(-relative cost / T)), the Q-learner chooses which way to walk.
 */
export class FlexSearch extends QSearch {
  override readonly name: StrategyName = 'flex';
  private pool: { point: Point; cost: number }[] = [];
  private trial = 0;

  protected override start(_i: number): { point: Point; cost: number } | undefined {
    // Seed the pool with a spread of random points (a tenth of the budget), and keep exploring a
    // little: fresh samples with a probability that falls from 30 % to 5 % over the budget.
    const progress = Math.min(1, this.trial / Math.max(1, this.ctx.budget));
    if (this.pool.length < Math.max(4, Math.floor(this.ctx.budget / 10)) && this.trial < this.ctx.budget / 10) return undefined;
    if (this.ctx.rng() < 0.05 + 0.25 * (1 - progress)) return undefined;
    if (!this.pool.length) return undefined;
    const t = 0.3 * Math.pow(0.005 / 0.3, Math.min(1, this.trial / Math.max(1, this.ctx.budget)));
    const best = this.pool[0]!.cost;
    const w = this.pool.map((p) => Math.exp(-(p.cost / best - 1) / t));
    let x = this.ctx.rng() * w.reduce((a, b) => a + b, 0);
    for (let i = 0; i < w.length; i++) {
      x -= w[i]!;
      if (x <= 0) return this.pool[i];
    }
    return this.pool[0];
  }

  protected override onMeasured(r: Feedback): void {
    this.trial++;
    this.pool.push({ point: r.point, cost: r.cost });
    this.pool.sort((a, b) => a.cost - b.cost);
    this.pool.length = Math.min(this.pool.length, 16);
  }

  override feedback(results: readonly Feedback[]): void {
    for (const r of results) if (!Number.isFinite(r.cost)) this.trial++;
    super.feedback(results);
  }
}

export function makeStrategy(name: StrategyName, ctx: StrategyContext): Strategy {
  switch (name) {
    case 'random': return new RandomSearch(ctx);
    case 'sa': return new SimulatedAnnealing(ctx);
    case 'q': return new QSearch(ctx);
    case 'flex': return new FlexSearch(ctx);
  }
}
