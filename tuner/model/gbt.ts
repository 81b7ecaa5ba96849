import { check, fields, nonNegativeInt, positiveInt, z } from '../../ir/schema.js';
import { rng } from '../../ir/random.js';

/**
 * Gradient-boosted regression trees fitted to a pairwise ranking objective within groups (RankNet's
 * logistic loss on score differences, as XGBoost's rank:pairwise): the scores only have to order
 * the rows of one group (one workload on one device) the way their labels do. Newton steps (leaf =
 * -G / (H + lambda)), depth-wise growth on histogram bins, rows and features subsampled per tree
 * with a seeded generator, so a fit is a pure function of its rows and options.
 */

export interface GbtOptions {
  readonly trees: number;
  readonly depth: number;
  /** Shrinkage applied to every leaf. */
  readonly learningRate: number;
  /** L2 penalty on leaf values. */
  readonly lambda: number;
  /** A child needs at least this much hessian. */
  readonly minChildWeight: number;
  readonly rowSample: number;
  readonly featureSample: number;
  /** Histogram bins per feature (at most 255). */
  readonly bins: number;
  /** Pairs per row for groups too big to take every pair. */
  readonly pairsPerRow: number;
  readonly seed: number;
}

export const GBT_DEFAULTS: GbtOptions = {
  trees: 60, depth: 5, learningRate: 0.2, lambda: 1, minChildWeight: 0.05, rowSample: 0.8, featureSample: 0.8, bins: 32, pairsPerRow: 16, seed: 1,
};

export interface RankingData {
  readonly features: readonly (readonly number[])[];
  readonly labels: readonly number[];
  /** A group id per row: only rows of one group are compared. */
  readonly groups: readonly number[];
}

/** Labels closer than this are a tie (measurement noise), not a pair to learn from. */
const TIE = 1e-3;

/** A split node `[feature, threshold, left, right]` (x[feature] <= threshold goes left) or a leaf `[value]`. */
export type TreeNode = readonly [number, number, number, number] | readonly [number];
export type Tree = readonly TreeNode[];

export interface GbtJSON {
  readonly featureCount: number;
  readonly trees: readonly Tree[];
}

function treeScore(t: Tree, x: readonly number[]): number {
  let n = t[0]!;
  while (n.length === 4) n = t[x[n[0]]! <= n[1] ? n[2] : n[3]]!;
  return n[0];
}

/** Thresholds between distinct values (all of them when few, else at quantiles of the distinct values). */
function thresholds(values: Float64Array, bins: number): Float64Array {
  const u = [...new Set(values)].sort((a, b) => a - b);
  if (u.length <= 1) return new Float64Array(0);
  const cuts: number[] = [];
  if (u.length <= bins) for (let i = 1; i < u.length; i++) cuts.push((u[i - 1]! + u[i]!) / 2);
  else for (let q = 1; q < bins; q++) {
    const i = Math.floor((q * u.length) / bins);
    const c = (u[i - 1]! + u[i]!) / 2;
    if (c !== cuts[cuts.length - 1]) cuts.push(c);
  }
  return Float64Array.from(cuts);
}

/** Index of the first threshold >= x (thresholds.length when none). */
function binOf(x: number, t: Float64Array): number {
  let lo = 0, hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x <= t[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Pairs to compare, (better, worse) flat: every pair of a small group, a random sample of a large one; ties dropped. */
function samplePairs(members: readonly Int32Array[], labels: Float64Array, perRow: number, r: () => number): Int32Array {
  const small = (m: number) => m <= 2 * perRow + 1;
  const bound = members.reduce((s, g) => s + (small(g.length) ? (g.length * (g.length - 1)) / 2 : perRow * g.length), 0);
  const out = new Int32Array(2 * bound);
  let n = 0;
  const add = (i: number, j: number) => {
    const d = labels[i]! - labels[j]!;
    if (d > TIE || d < -TIE) {
      out[n++] = d > 0 ? i : j;
      out[n++] = d > 0 ? j : i;
    }
  };
  for (const g of members) {
    const m = g.length;
    if (m < 2) continue;
    if (small(m)) {
      for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) add(g[a]!, g[b]!);
      continue;
    }
    for (let k = 0; k < perRow * m; k++) {
      const a = Math.floor(r() * m);
      let b = Math.floor(r() * (m - 1));
      if (b >= a) b++;
      add(g[a]!, g[b]!);
    }
  }
  return out.subarray(0, n);
}

export class RankingGbt {
  private constructor(readonly featureCount: number, readonly trees: readonly Tree[]) {}

  score(x: readonly number[]): number {
    let s = 0;
    for (const t of this.trees) s += treeScore(t, x);
    return s;
  }

  /**
   * Fits `trees` trees to the data; from `init` on, when given, the new trees continue its ensemble
   * (boosting from its scores), which is how a model takes in a few new rows without a refit.
   */
  static fit(data: RankingData, options: Partial<GbtOptions> = {}, init?: RankingGbt): RankingGbt {
    const o = { ...GBT_DEFAULTS, ...options };
    const n = data.features.length, F = init?.featureCount ?? data.features[0]?.length ?? 0;
    // A continuation draws other samples than the fit it continues.
    const r = rng(o.seed + 7919 * (init?.trees.length ?? 0));
    const cuts: Float64Array[] = [];
    const binned = new Uint8Array(n * F);
    for (let f = 0; f < F; f++) {
      const col = Float64Array.from(data.features, (x) => x[f]!);
      const t = thresholds(col, Math.min(255, o.bins));
      cuts.push(t);
      for (let i = 0; i < n; i++) binned[i * F + f] = binOf(col[i]!, t);
    }
    const byGroup = new Map<number, number[]>();
    data.groups.forEach((g, i) => {
      const m = byGroup.get(g);
      if (m) m.push(i);
      else byGroup.set(g, [i]);
    });
    const members = [...byGroup.values()].map((g) => Int32Array.from(g));
    const labels = Float64Array.from(data.labels);
    const scores = Float64Array.from(data.features, (x) => init?.score(x) ?? 0);
    const grad = new Float64Array(n), hess = new Float64Array(n);
    const trees: Tree[] = [...(init?.trees ?? [])];
    for (let t = 0; t < o.trees; t++) {
      grad.fill(0);
      hess.fill(0);
      const pairs = samplePairs(members, labels, o.pairsPerRow, r);
      if (!pairs.length) break;
      for (let k = 0; k < pairs.length; k += 2) {
        const hi = pairs[k]!, lo = pairs[k + 1]!;
        // d loss / d s_hi of log(1 + exp(s_lo - s_hi)).
        const p = 1 / (1 + Math.exp(scores[hi]! - scores[lo]!));
        grad[hi] -= p;
        grad[lo] += p;
        const h = Math.max(p * (1 - p), 1e-6);
        hess[hi] += h;
        hess[lo] += h;
      }
      const rows: number[] = [];
      for (let i = 0; i < n; i++) if (hess[i]! > 0 && r() < o.rowSample) rows.push(i);
      const feats: number[] = [];
      for (let f = 0; f < F; f++) if (cuts[f]!.length && r() < o.featureSample) feats.push(f);
      if (!rows.length) continue;
      const tree = growTree(Int32Array.from(rows), feats, binned, F, cuts, grad, hess, o);
      trees.push(tree);
      for (let i = 0; i < n; i++) scores[i] += treeScore(tree, data.features[i]!);
    }
    return new RankingGbt(F, trees);
  }

  toJSON(): GbtJSON {
    return { featureCount: this.featureCount, trees: this.trees };
  }

  /** A model from its JSON, or what is wrong with it: every node checked, children only ever point forward. */
  static fromJSON(raw: unknown, featureCount: number): RankingGbt | string {
    const r = check(GBT_SCHEMA, raw, 'gbt');
    if (!r.ok) return `has malformed trees (${r.problem})`;
    const { featureCount: fc, trees } = r.value;
    if (fc !== featureCount) return `has trees over ${fc} features, not ${featureCount}`;
    const nodeOk = (nd: TreeNode, i: number, len: number): boolean => {
      if (nd.length === 1) return true;
      const [f, , l, rt] = nd;
      const child = (c: number) => c > i && c < len;
      return f < featureCount && child(l) && child(rt);
    };
    if (!trees.every((t) => t.every((nd, i) => nodeOk(nd as TreeNode, i, t.length)))) return 'has a malformed tree (a feature out of range, or a child that does not point forward)';
    return new RankingGbt(featureCount, trees as Tree[]);
  }
}

/** Trees as saved: a leaf is [value], a split [feature, threshold, left, right]. */
const GBT_SCHEMA = fields({
  featureCount: positiveInt,
  trees: z.array(z.array(z.union([z.tuple([z.number()]), z.tuple([nonNegativeInt, z.number(), positiveInt, positiveInt])])).min(1)),
});

/** One tree, level by level: each node takes the best histogram split of the sampled features, or becomes a leaf. */
function growTree(
  rows: Int32Array, feats: readonly number[], binned: Uint8Array, F: number, cuts: readonly Float64Array[],
  grad: Float64Array, hess: Float64Array, o: GbtOptions,
): Tree {
  const nodes: (TreeNode | undefined)[] = [];
  const leaf = (G: number, H: number): TreeNode => [(-o.learningRate * G) / (H + o.lambda)];
  const sum = (rs: Int32Array) => {
    let G = 0, H = 0;
    for (let k = 0; k < rs.length; k++) {
      G += grad[rs[k]!]!;
      H += hess[rs[k]!]!;
    }
    return [G, H] as const;
  };
  let level: { id: number; rows: Int32Array }[] = [{ id: 0, rows }];
  nodes.push(undefined);
  const hg = new Float64Array(256), hh = new Float64Array(256);
  for (let depth = 0; level.length; depth++) {
    const next: typeof level = [];
    for (const { id, rows: rs } of level) {
      const [G, H] = sum(rs);
      let best = { gain: 1e-9, f: -1, bin: -1 };
      if (depth < o.depth && rs.length >= 2 && H >= 2 * o.minChildWeight) {
        const parent = (G * G) / (H + o.lambda);
        for (const f of feats) {
          const nb = cuts[f]!.length + 1;
          hg.fill(0, 0, nb);
          hh.fill(0, 0, nb);
          for (let k = 0; k < rs.length; k++) {
            const i = rs[k]!, b = binned[i * F + f]!;
            hg[b] += grad[i]!;
            hh[b] += hess[i]!;
          }
          let GL = 0, HL = 0;
          for (let b = 0; b < nb - 1; b++) {
            GL += hg[b]!;
            HL += hh[b]!;
            const GR = G - GL, HR = H - HL;
            if (HL < o.minChildWeight || HR < o.minChildWeight) continue;
            const gain = (GL * GL) / (HL + o.lambda) + (GR * GR) / (HR + o.lambda) - parent;
            if (gain > best.gain) best = { gain, f, bin: b };
          }
        }
      }
      if (best.f < 0) {
        nodes[id] = leaf(G, H);
        continue;
      }
      const goesLeft = (i: number) => binned[i * F + best.f]! <= best.bin;
      const left = rs.filter(goesLeft), right = rs.filter((i) => !goesLeft(i));
      const l = nodes.push(undefined) - 1, r = nodes.push(undefined) - 1;
      nodes[id] = [best.f, cuts[best.f]![best.bin]!, l, r];
      next.push({ id: l, rows: left }, { id: r, rows: right });
    }
    level = next;
  }
  return nodes as TreeNode[];
}
