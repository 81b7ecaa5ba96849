import { check, fields, shown, z } from '../../ir/schema.js';
import { readSavedJson, writeSavedJson } from '../saved-json.js';
import { FEATURE_COUNT, FEATURE_NAMES } from './features.js';
import { GbtOptions, RankingGbt } from './gbt.js';

export const COST_MODEL_FORMAT = 1;
const MODEL_TAG = 'loopsmith-cost-model';

/** One measured kernel as the model learns from it. */
export interface TrainingRow {
  /** The kernel (workload, device, trace): a row is kept once. */
  readonly key: string;
  /** Rows are only compared within a group: one workload on one device. */
  readonly group: string;
  readonly features: readonly number[];
  /** -ln(median seconds), higher is faster; absent for a candidate that failed. */
  readonly label?: number;
}

export interface CostModelOptions {
  /** The newest rows kept (older ones are dropped). */
  readonly maxRows?: number;
  /** Rows that ran correctly before the model ranks anything. */
  readonly minOkRows?: number;
  readonly seed?: number;
  readonly gbt?: Partial<GbtOptions>;
}

/**
 * The candidate ranker of one operator on one target kind: training rows from measurements (of
 * any shape of the operator), a pairwise-ranking GBT over them, saved beside the records.
 *
 * Failed candidates are rows too, with the worst label of their group: whether a candidate
 * compiles, fits the device's limits and runs is largely a function of its schedule (workgroup
 * size, scratch bytes), and a candidate that fails wastes a measurement just as a slow one does.
 * Only their order matters to a ranking loss, so the label is one below the slowest correct one.
 *
 * Refits: a full fit when the rows have grown by a quarter since the last one; otherwise, once the
 * new rows are 2 % of all (at least 2: every batch of a run that starts from nothing), a few more
 * trees boosted from the current scores. A run of many small batches over thousands of rows then
 * spends tens of milliseconds per batch on the model, not a refit each time.
 */
export class CostModel {
  private rows: TrainingRow[] = [];
  private readonly keys = new Set<string>();
  private gbt?: RankingGbt;
  private rowsAtFit = 0;
  /** Rows added since the trees last changed. */
  private pending = 0;
  /** Rows or trees changed since the model was created or loaded. */
  changed = false;
  private readonly o: Required<Omit<CostModelOptions, 'gbt'>> & { gbt: Partial<GbtOptions> };

  constructor(readonly op: string, readonly kind: string, options: CostModelOptions = {}) {
    this.o = { maxRows: options.maxRows ?? 4000, minOkRows: options.minOkRows ?? 4, seed: options.seed ?? 1, gbt: options.gbt ?? {} };
  }

  get size(): number {
    return this.rows.length;
  }

  /** Has it seen enough (a few correct rows, two different costs in one group) to rank? */
  get ranks(): boolean {
    return this.gbt !== undefined;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** Adds the rows not seen yet (the newest `maxRows` are kept) and refits when they change the data. */
  update(rows: readonly TrainingRow[]): void {
    let added = 0;
    for (const r of rows) {
      if (this.keys.has(r.key) || r.features.length !== FEATURE_COUNT) continue;
      this.rows.push({ ...r, features: canonical(r.features) });
      this.keys.add(r.key);
      added++;
    }
    if (!added) return;
    this.changed = true;
    this.pending += added;
    const drop = this.rows.length - this.o.maxRows;
    if (drop > 0) this.rows.splice(0, drop).forEach((r) => this.keys.delete(r.key));
    this.refit();
  }

  private refit(): void {
    const full = !this.gbt || this.rows.length >= 1.25 * this.rowsAtFit || this.gbt.trees.length >= 3 * (this.o.gbt.trees ?? 60);
    if (!full && this.pending < Math.max(2, 0.02 * this.rows.length)) return;
    const data = rankingData(this.rows);
    if (!data.ready(this.o.minOkRows)) {
      this.gbt = undefined;
      return;
    }
    this.pending = 0;
    if (full) {
      this.gbt = RankingGbt.fit(data, { ...this.o.gbt, seed: this.o.seed });
      this.rowsAtFit = this.rows.length;
    } else {
      this.gbt = RankingGbt.fit(data, { ...this.o.gbt, seed: this.o.seed, trees: 8 }, this.gbt);
    }
  }

  /** Higher is faster; undefined while the model has too little to rank by (the caller then picks at random). */
  score(features: readonly (readonly number[])[]): number[] | undefined {
    const g = this.gbt;
    return g ? features.map((x) => g.score(canonical(x))) : undefined;
  }

  save(path: string): void {
    const json = {
      format: COST_MODEL_FORMAT, model: MODEL_TAG, op: this.op, target: this.kind, features: FEATURE_NAMES,
      rows: this.rows.map((r) => ({ k: r.key, g: r.group, ...(r.label !== undefined ? { y: r.label } : {}), x: r.features })),
      gbt: this.gbt?.toJSON() ?? null,
    };
    writeSavedJson(path, json);
  }

  /** The model saved at `path` if it is one for this operator, target kind and feature set; a file that is not is named in a warning. */
  static load(path: string, op: string, kind: string, options: CostModelOptions = {}): LoadedModel {
    const saved = readSavedJson(path);
    if (saved.status === 'absent') return saved;
    if (saved.status === 'bad') return rejected(path, saved.problem);
    const parsed = parseModel(saved.raw, op, kind);
    if (typeof parsed === 'string') return rejected(path, parsed);
    const m = new CostModel(op, kind, options);
    for (const r of parsed.rows.slice(-m.o.maxRows)) {
      m.rows.push(r);
      m.keys.add(r.key);
    }
    if (parsed.gbt) m.gbt = parsed.gbt;
    else m.refit();
    m.rowsAtFit = m.rows.length;
    return { status: 'loaded', model: m };
  }
}

export type LoadedModel =
  | { readonly status: 'absent' }
  | { readonly status: 'loaded'; readonly model: CostModel }
  /** The file exists but cannot be used: the search starts from a fresh model and says why. */
  | { readonly status: 'rejected'; readonly warning: string };

const rejected = (path: string, problem: string): LoadedModel => ({ status: 'rejected', warning: `cost model ${path} ${problem}; starting from a fresh model` });

/** Four decimals: saved rows stay short, and a row reads back as the very value it was trained on. */
const canonical = (x: readonly number[]) => x.map((v) => Math.round(v * 1e4) / 1e4);

/** The rows as the GBT sees them: group ids, and failures one below the slowest correct row of their group. */
function rankingData(rows: readonly TrainingRow[]) {
  const ids = new Map<string, number>(), worst = new Map<string, number>();
  for (const r of rows) {
    if (!ids.has(r.group)) ids.set(r.group, ids.size);
    if (r.label !== undefined) worst.set(r.group, Math.min(worst.get(r.group) ?? Infinity, r.label));
  }
  const labels = rows.map((r) => r.label ?? (worst.get(r.group) ?? 0) - 1);
  const ok = rows.filter((r) => r.label !== undefined);
  // At least two correct rows of one group with different costs: one pair to learn an order from.
  const spread = new Map<string, [number, number]>();
  for (const r of ok) {
    const [lo, hi] = spread.get(r.group) ?? [Infinity, -Infinity];
    spread.set(r.group, [Math.min(lo, r.label!), Math.max(hi, r.label!)]);
  }
  return {
    features: rows.map((r) => r.features), labels, groups: rows.map((r) => ids.get(r.group)!),
    ready: (minOk: number) => ok.length >= minOk && [...spread.values()].some(([lo, hi]) => hi - lo > 1e-3),
  };
}

/** A saved cost model as JSON (its trees are checked by RankingGbt.fromJSON). */
const COST_MODEL_SCHEMA = fields({
  format: z.literal(COST_MODEL_FORMAT, { error: (iss) => `${shown(iss.input)} is not ${COST_MODEL_FORMAT}` }),
  model: z.literal(MODEL_TAG),
  op: z.string(),
  target: z.string(),
  features: z.array(z.string()),
  rows: z.array(fields({ k: z.string(), g: z.string(), y: z.number().optional(), x: z.array(z.number()) })),
  gbt: z.unknown(),
});

/** A saved model checked against what it is for: the schema, then operator, target kind, the feature names, every row and tree. */
function parseModel(raw: unknown, op: string, kind: string): { rows: TrainingRow[]; gbt?: RankingGbt } | string {
  const r = check(COST_MODEL_SCHEMA, raw);
  if (!r.ok) return `is not a cost model (${r.problem})`;
  const j = r.value;
  if (j.op !== op || j.target !== kind) return `is for ${JSON.stringify(j.op)} on ${JSON.stringify(j.target)}, not ${op} on ${kind}`;
  if (j.features.length !== FEATURE_COUNT || j.features.some((n, i) => n !== FEATURE_NAMES[i])) return `was trained on other features (${j.features.length} named, this loopsmith computes ${FEATURE_COUNT})`;
  const short = j.rows.findIndex((row) => row.x.length !== FEATURE_COUNT);
  if (short >= 0) return `has a malformed row (row ${short + 1}: ${j.rows[short]!.x.length} features, not ${FEATURE_COUNT})`;
  const rows = j.rows.map((row): TrainingRow => ({ key: row.k, group: row.g, features: row.x, ...(row.y !== undefined ? { label: row.y } : {}) }));
  if (j.gbt === null || j.gbt === undefined) return { rows };
  const gbt = RankingGbt.fromJSON(j.gbt, FEATURE_COUNT);
  return typeof gbt === 'string' ? gbt : { rows, gbt };
}
