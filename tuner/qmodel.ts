import { readSavedJson, writeSavedJson } from './saved-json.js';
import { rng } from '../ir/random.js';
import { check, fields, positiveInt, shown, z } from '../ir/schema.js';

export interface QNetworkJSON {
  format: 1;
  inputs: number;
  actions: number;
  hidden: number;
  weights: number[][];
}

/** [outputs, inputs + bias] of each layer. */
function layerShapes(inputs: number, actions: number, hidden: number): [number, number][] {
  return [[hidden, inputs + 1], [hidden, hidden + 1], [actions, hidden + 1]];
}

/**
 * The value function: an MLP (inputs -> hidden tanh -> hidden tanh -> one Q per action) trained
 * with Adam on squared TD error of the chosen action, gradients clipped. Small enough to train in
 * microseconds per step, which is all a search of a few hundred trials needs.
 */
export class QNetwork {
  private w: Float64Array[];
  private m: Float64Array[];
  private v: Float64Array[];
  private step = 0;
  readonly shapes: [number, number][];

  constructor(readonly inputs: number, readonly actions: number, readonly hidden = 32, seed = 1) {
    this.shapes = layerShapes(inputs, actions, hidden);
    const r = rng(seed);
    this.w = this.shapes.map(([o, i]) => Float64Array.from({ length: o * i }, () => (r() * 2 - 1) * Math.sqrt(3 / i)));
    this.m = this.shapes.map(([o, i]) => new Float64Array(o * i));
    this.v = this.shapes.map(([o, i]) => new Float64Array(o * i));
  }

  private forward(x: readonly number[]): Float64Array[] {
    const acts: Float64Array[] = [Float64Array.from(x)];
    this.shapes.forEach(([o, i], l) => {
      const inp = acts[l]!, w = this.w[l]!, out = new Float64Array(o);
      for (let r = 0; r < o; r++) {
        let s = w[r * i + i - 1]!;
        for (let c = 0; c < i - 1; c++) s += w[r * i + c]! * inp[c]!;
        out[r] = l < this.shapes.length - 1 ? Math.tanh(s) : s;
      }
      acts.push(out);
    });
    return acts;
  }

  predict(features: readonly number[]): Float64Array {
    return this.forward(features)[this.shapes.length]!;
  }

  train(batch: readonly { features: readonly number[]; action: number; target: number }[], learningRate = 1e-3): number {
    const grads = this.shapes.map(([o, i]) => new Float64Array(o * i));
    let loss = 0;
    for (const ex of batch) {
      const acts = this.forward(ex.features);
      const q = acts[this.shapes.length]!;
      const err = q[ex.action]! - ex.target;
      loss += err * err;
      let delta = new Float64Array(this.actions);
      delta[ex.action] = Math.max(-1, Math.min(1, err));
      for (let l = this.shapes.length - 1; l >= 0; l--) {
        const [o, i] = this.shapes[l]!;
        const inp = acts[l]!, w = this.w[l]!, g = grads[l]!;
        const back = new Float64Array(i - 1);
        for (let r = 0; r < o; r++) {
          const d = delta[r]!;
          if (d === 0) continue;
          for (let c = 0; c < i - 1; c++) {
            g[r * i + c] += d * inp[c]!;
            back[c] += d * w[r * i + c]!;
          }
          g[r * i + i - 1] += d;
        }
        if (l > 0) {
          for (let c = 0; c < back.length; c++) back[c] *= 1 - inp[c]! * inp[c]!;
          delta = back;
        }
      }
    }
    this.step++;
    const b1 = 0.9, b2 = 0.999;
    this.w.forEach((w, l) => {
      const g = grads[l]!, m = this.m[l]!, v = this.v[l]!;
      for (let k = 0; k < w.length; k++) {
        const gk = g[k]! / batch.length;
        m[k] = b1 * m[k]! + (1 - b1) * gk;
        v[k] = b2 * v[k]! + (1 - b2) * gk * gk;
        const mh = m[k]! / (1 - b1 ** this.step), vh = v[k]! / (1 - b2 ** this.step);
        w[k] -= (learningRate * mh) / (Math.sqrt(vh) + 1e-8);
      }
    });
    return loss / Math.max(1, batch.length);
  }

  clone(): QNetwork {
    return QNetwork.fromJSON(this.toJSON());
  }

  toJSON(): QNetworkJSON {
    return { format: 1, inputs: this.inputs, actions: this.actions, hidden: this.hidden, weights: this.w.map((w) => [...w]) };
  }

  static fromJSON(j: QNetworkJSON): QNetwork {
    const n = new QNetwork(j.inputs, j.actions, j.hidden);
    n.w = j.weights.map((w) => Float64Array.from(w));
    return n;
  }
}

export interface Transition {
  features: number[];
  action: number;
  reward: number;
  next: number[];
  /** False when the move led to a point that failed: nothing follows it. */
  valid: boolean;
}

export interface QLearnerOptions {
  inputs: number;
  actions: number;
  seed: number;
  gamma?: number;
  epsilonStart?: number;
  epsilonEnd?: number;
  epsilonDecaySteps?: number;
  replayCapacity?: number;
  batchSize?: number;
  targetEvery?: number;
  learningRate?: number;
  network?: QNetwork;
}

/** Epsilon-greedy Q-learning with experience replay and a target network refreshed periodically. */
export class QLearner {
  readonly network: QNetwork;
  private target: QNetwork;
  private readonly replay: Transition[] = [];
  private readonly r: () => number;
  private steps = 0;
  private updates = 0;
  private readonly o: Required<Omit<QLearnerOptions, 'network'>>;

  constructor(opts: QLearnerOptions) {
    this.o = {
      inputs: opts.inputs, actions: opts.actions, seed: opts.seed, gamma: opts.gamma ?? 0.9, epsilonStart: opts.epsilonStart ?? 1,
      epsilonEnd: opts.epsilonEnd ?? 0.05, epsilonDecaySteps: opts.epsilonDecaySteps ?? 200, replayCapacity: opts.replayCapacity ?? 2000,
      batchSize: opts.batchSize ?? 32, targetEvery: opts.targetEvery ?? 50, learningRate: opts.learningRate ?? 3e-3,
    };
    this.network = opts.network ?? new QNetwork(opts.inputs, opts.actions, 32, opts.seed);
    this.target = this.network.clone();
    this.r = rng(opts.seed ^ 0x5bd1e995);
  }

  get epsilon(): number {
    const t = Math.min(1, this.steps / this.o.epsilonDecaySteps);
    return this.o.epsilonStart + (this.o.epsilonEnd - this.o.epsilonStart) * t;
  }

  /** Whether the last `act` explored (a random move) rather than exploited. */
  lastWasRandom = false;

  act(features: readonly number[], allowed: readonly number[]): number {
    const eps = this.epsilon;
    this.steps++;
    this.lastWasRandom = this.r() < eps;
    if (this.lastWasRandom) return allowed[Math.floor(this.r() * allowed.length)]!;
    return this.rank(features, allowed)[0]!;
  }

  /** The Q value of every action at `features`. */
  values(features: readonly number[]): ArrayLike<number> {
    return this.network.predict(features);
  }

  rank(features: readonly number[], allowed: readonly number[]): number[] {
    const q = this.network.predict(features);
    return [...allowed].sort((a, b) => q[b]! - q[a]!);
  }

  observe(t: Transition): void {
    this.replay.push(t);
    if (this.replay.length > this.o.replayCapacity) this.replay.shift();
    if (this.replay.length < Math.min(this.o.batchSize, 8)) return;
    const batch = Array.from({ length: Math.min(this.o.batchSize, this.replay.length) }, () => this.replay[Math.floor(this.r() * this.replay.length)]!);
    const examples = batch.map((x) => {
      const future = x.valid ? Math.max(...this.target.predict(x.next)) : 0;
      const target = Math.max(-2, Math.min(2, x.reward + this.o.gamma * future));
      return { features: x.features, action: x.action, target };
    });
    this.network.train(examples, this.o.learningRate);
    if (++this.updates % this.o.targetEvery === 0) this.target = this.network.clone();
  }

  save(path: string): void {
    writeSavedJson(path, this.network.toJSON());
  }

  /** The network saved at `path` if it fits a space of this size; a file that does not is named in a warning. */
  static loadNetwork(path: string, inputs: number, actions: number): LoadedNetwork {
    const saved = readSavedJson(path);
    if (saved.status === 'absent') return saved;
    if (saved.status === 'bad') return rejected(path, saved.problem);
    const parsed = parseNetwork(saved.raw, inputs, actions);
    return typeof parsed === 'string' ? rejected(path, parsed) : { status: 'loaded', network: QNetwork.fromJSON(parsed) };
  }
}

export type LoadedNetwork =
  | { readonly status: 'absent' }
  | { readonly status: 'loaded'; readonly network: QNetwork }
  /** The file exists but cannot be used: the search starts from a fresh model and says why. */
  | { readonly status: 'rejected'; readonly warning: string };

const rejected = (path: string, problem: string): LoadedNetwork => ({ status: 'rejected', warning: `Q-model ${path} ${problem}; starting from a fresh model` });

/** A saved Q-network as JSON: sizes, and finite weights of each layer. */
const QNETWORK_SCHEMA = fields({
  format: z.literal(1, { error: (iss) => `${shown(iss.input)} is not 1` }),
  inputs: positiveInt,
  actions: positiveInt,
  hidden: positiveInt,
  weights: z.array(z.array(z.number())),
});

/** A saved network checked against the space it is for: the schema, then sizes and layer shapes. */
function parseNetwork(raw: unknown, inputs: number, actions: number): QNetworkJSON | string {
  const r = check(QNETWORK_SCHEMA, raw);
  if (!r.ok) return `is not a Q-model (${r.problem})`;
  const { inputs: i, actions: a, hidden, weights } = r.value;
  if (i !== inputs || a !== actions) return `was trained for ${i} features and ${a} moves; this space has ${inputs} and ${actions}`;
  const sizes = layerShapes(inputs, actions, hidden).map(([o, n]) => o * n);
  if (weights.length !== sizes.length || weights.some((w, k) => w.length !== sizes[k])) return 'has weights that do not match its layer sizes';
  return { format: 1, inputs, actions, hidden, weights };
}

/** Maps x to (-1, 1) with `scale` at about 0.76. */
export function squash(x: number, scale: number): number {
  return Math.tanh(x / scale);
}
