/**
 * Where a model's next minute of tuning goes (after Ansor's task scheduler): the tasks are the
 * model's distinct layer shapes, and the objective is the model's time, the sum over tasks of
 * (layers of that shape) x (its best time). Every task first gets one warm-up slice, largest
 * expected time first, so a short budget still covers what matters most. After that each slice goes
 * to the task with the largest expected gain: its share of the model's time times how fast it is
 * still improving (its last slice's relative gain) and how far it is below the best similar task
 * (same operator, kind of conv and layout) reached, in GFLOP/s. A task whose last slices gained nothing fades out.
 */
export interface TaskState {
  readonly key: string;
  /** Similarity class (`similarityClass`): tasks of one class are "similar". */
  readonly op: string;
  /** Layers of the model that run this workload. */
  readonly weight: number;
  readonly flops: number;
  /** Best measured seconds per call so far (undefined: not measured yet). */
  best?: number;
  /** Tuning seconds spent on it (this run and the journal of earlier ones). */
  spent: number;
  slices: number;
  /** Relative gain of its last slice: (before - after) / before; 1 before its first. */
  lastGain: number;
  /** Slices in a row that gained nothing. */
  flat: number;
}

export function newTaskState(key: string, op: string, weight: number, flops: number): TaskState {
  return { key, op, weight, flops, spent: 0, slices: 0, lastGain: 1, flat: 0 };
}

/**
 * Which tasks can be held against each other's GFLOP/s: one operator, and for convolutions one
 * kind (depthwise, pointwise 1x1, spatial kernels) in one layout. A depthwise layer reads as many
 * bytes per multiply-add as a 3x3 dense layer reads per nine: measured against dense layers it
 * would always look far behind and take slices it cannot use.
 */
export function similarityClass(op: string, p: Readonly<Record<string, number>>): string {
  if (p.kh === undefined && p.kw === undefined) return op;
  const kind = (p.groups ?? 1) > 1 && p.groups === p.c ? 'depthwise' : (p.kh ?? 1) * (p.kw ?? 1) === 1 ? 'pointwise' : 'spatial';
  return `${op}/${kind}/${p.layout ?? 0}`;
}

const gflops = (t: TaskState) => (t.best ? t.flops / t.best / 1e9 : undefined);

/** Seconds per call the model spends in the task: measured, or estimated from similar tasks' speed. */
export function expectedSeconds(t: TaskState, all: readonly TaskState[]): number {
  if (t.best !== undefined) return t.weight * t.best;
  const known = all.map(gflops).filter((g): g is number => g !== undefined).sort((a, b) => a - b);
  const speed = known.length ? known[Math.floor(known.length / 2)]! : 10;
  return (t.weight * t.flops) / (speed * 1e9);
}

/** The gain a slice on `t` is expected to bring, in seconds of model time per call. */
export function expectedGain(t: TaskState, all: readonly TaskState[]): number {
  const peers = all.map((x) => (x.op === t.op ? gflops(x) : undefined)).filter((g): g is number => g !== undefined);
  const g = gflops(t);
  const headroom = g === undefined || peers.length === 0 ? 1 : Math.max(0.05, 1 - g / Math.max(...peers));
  const momentum = Math.max(t.lastGain, 0.02);
  return (expectedSeconds(t, all) * (0.5 * momentum + 0.5 * headroom)) / (1 + t.flat);
}

/** The index of the task to tune next. */
export function nextTask(all: readonly TaskState[]): number {
  const fresh = all.map((t, i) => ({ t, i })).filter(({ t }) => t.slices === 0);
  const pool = fresh.length ? fresh : all.map((t, i) => ({ t, i }));
  const score = fresh.length ? (t: TaskState) => expectedSeconds(t, all) : (t: TaskState) => expectedGain(t, all);
  return pool.reduce((a, b) => (score(b.t) > score(a.t) ? b : a)).i;
}

/**
 * After a slice of `seconds` on `t` ended with `best` (seconds per call, or none). A task's first
 * slice has no "before": its gain is counted from `start`, the best of the known-good schedules it
 * measured first, so a search that only matched its expert does not look like one still improving.
 */
export function recordSlice(t: TaskState, seconds: number, best: number | undefined, start?: number): void {
  const before = t.best ?? start;
  if (best !== undefined && (t.best === undefined || best < t.best)) t.best = best;
  t.lastGain = before === undefined ? 1 : t.best === undefined ? 0 : Math.max(0, (before - t.best) / before);
  t.flat = t.lastGain > 0.01 ? 0 : t.flat + 1;
  t.spent += seconds;
  t.slices += 1;
}

/** Seconds for the next slice: short warm-ups that cover every task, then longer slices. */
export function sliceSeconds(t: TaskState, tasks: number, budget: number, left: number): number {
  const warm = Math.min(60, Math.max(10, (0.5 * budget) / tasks));
  const later = Math.min(90, Math.max(15, budget / (2 * tasks)));
  const want = t.slices === 0 ? warm : later;
  // Never leave a remainder too short to be worth a slice of its own.
  return left - want < 10 ? left : want;
}
