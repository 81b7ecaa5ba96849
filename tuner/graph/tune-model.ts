import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { ModelGraph, graphTasks } from '../../ir/graph/graph.js';
import { Evaluator } from '../evaluate.js';
import { appendLine } from '../records-file.js';
import { RecordStore } from '../records.js';
import { StrategyName } from '../strategies.js';
import { plannedHorizon, tune } from '../tune.js';
import { expectedSeconds, newTaskState, nextTask, recordSlice, similarityClass, sliceSeconds } from './task-scheduler.js';

/**
 * `tune-model`: one time budget for a whole model, spent a slice at a time on the task the task
 * scheduler picks (task-scheduler.ts), each slice an ordinary `tune` of that workload into the
 * records (so every measurement is appended as it happens, and a task tuned again continues its
 * search rather than starting over). A journal beside the records remembers how much of the budget
 * each task has had: a run killed and started again spends only what is left, and what it had
 * measured is answered from the records, never measured again.
 */
export interface TuneModelOptions {
  readonly records: RecordStore;
  readonly budgetSeconds: number;
  readonly strategy: StrategyName;
  readonly seed: number;
  readonly version: string;
  readonly startingPoints?: number;
  readonly stop?: { requested: boolean };
  /** One line per event (slice started, slice ended, resume). */
  readonly say?: (line: string) => void;
}

export interface TaskSummary {
  readonly key: string;
  readonly layers: number;
  readonly flops: number;
  /** Best seconds per call before this run (from the records) and after it. */
  readonly before?: number;
  readonly after?: number;
  /** Tuning seconds it has had in all (this run and earlier runs in the journal). */
  readonly spent: number;
  readonly slices: number;
}

export interface TuneModelResult {
  readonly tasks: readonly TaskSummary[];
  /** Budget seconds spent by earlier runs (the journal) and by this one. */
  readonly earlierSeconds: number;
  readonly seconds: number;
  readonly stoppedBy: 'budget' | 'interrupted';
}

interface JournalLine { model: string; device: string; task: string; seconds: number; best: number | null; at: string }

export const journalPath = (records: string) => `${records}.tune-model.jsonl`;

/** A model's identity for the journal: its tasks, not its file name. */
export function modelHash(g: ModelGraph): string {
  return createHash('sha256').update(g.layers.map((l) => l.workload.key).join('\n')).digest('hex').slice(0, 16);
}

/** The journal's slices of this model on this device, and the seconds it holds for other imports on this device. */
function readJournal(path: string, model: string, device: string): { lines: JournalLine[]; otherSeconds: number } {
  if (!existsSync(path)) return { lines: [], otherSeconds: 0 };
  const lines: JournalLine[] = [];
  let otherSeconds = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    try {
      const j = JSON.parse(line) as JournalLine;
      if (j.device !== device) continue;
      if (j.model === model) lines.push(j);
      else otherSeconds += j.seconds;
    } catch {
      // A torn last line (the run was killed while writing it): that slice is simply not counted.
    }
  }
  return { lines, otherSeconds };
}

/** Best seconds per call of a workload on the evaluator's device, from the records (which keep GFLOP/s, not a median). */
function bestSeconds(db: RecordStore, key: string, flops: number, device: string): number | undefined {
  const g = db.best(key, device)?.outcome.gflops;
  return g ? flops / g / 1e9 : undefined;
}

export async function tuneModel(g: ModelGraph, evaluator: Evaluator, o: TuneModelOptions): Promise<TuneModelResult> {
  const say = o.say ?? (() => {});
  const device = evaluator.fingerprint.key;
  const model = modelHash(g);
  const journal = journalPath(o.records.path);
  const tasks = graphTasks(g);
  const states = tasks.map((t) => newTaskState(t.workload.key, similarityClass(t.workload.op.name, t.workload.params), t.layers.length, t.workload.flops));
  for (const s of states) s.best = bestSeconds(o.records, s.key, s.flops, device);
  const before = new Map(states.map((s) => [s.key, s.best]));
  const { lines: earlier, otherSeconds } = readJournal(journal, model, device);
  // A model is its tasks: another --layout, or a loopsmith that imports it differently, is another
  // model whose budget starts afresh (its measurements stay in the records and are reused).
  if (earlier.length === 0 && otherSeconds > 0) say(`the journal ${journal} holds ${otherSeconds.toFixed(0)} s spent on other task sets on this device (another --layout, another model, or a loopsmith that imports this one differently); this run's budget starts afresh, its records are reused`);
  for (const j of earlier) {
    const s = states.find((x) => x.key === j.task);
    if (!s) continue;
    s.spent += j.seconds;
    s.slices += 1;
  }
  const earlierSeconds = earlier.reduce((a, j) => a + j.seconds, 0);
  if (earlierSeconds > 0) say(`resuming: ${earlierSeconds.toFixed(0)} s of the ${o.budgetSeconds.toFixed(0)} s budget were spent by an earlier run (journal ${journal}); what it measured is in the records`);
  // A task's search plans over the budget it can expect in all: twice an even share.
  const horizonSeconds = (2 * o.budgetSeconds) / states.length;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let stoppedBy: TuneModelResult['stoppedBy'] = 'budget';
  for (;;) {
    const left = o.budgetSeconds - earlierSeconds - elapsed();
    if (left < 1) break;
    if (o.stop?.requested) {
      stoppedBy = 'interrupted';
      break;
    }
    const i = nextTask(states);
    const s = states[i]!;
    const w = tasks[i]!.workload;
    const slice = sliceSeconds(s, states.length, o.budgetSeconds, left);
    const share = expectedSeconds(s, states) / states.reduce((a, x) => a + expectedSeconds(x, states), 0);
    say(`[${fmt(o.budgetSeconds - left)}/${fmt(o.budgetSeconds)}] ${w.key}: ${slice.toFixed(0)} s (x${s.weight}, ${(100 * share).toFixed(0)} % of the model's time${s.best ? `, best ${(w.flops / s.best / 1e9).toFixed(1)} GFLOP/s` : ''})`);
    const t0 = elapsed();
    const r = await tune(w, evaluator, {
      strategy: o.strategy, trials: 1_000_000, seed: o.seed, records: o.records, version: o.version, timeBudgetSeconds: slice,
      horizon: plannedHorizon(1_000_000, horizonSeconds, evaluator.kind), remeasure: false, startingPoints: o.startingPoints ?? 8,
      ...(o.stop ? { stop: o.stop } : {}),
    });
    const spent = elapsed() - t0;
    const best = bestSeconds(o.records, w.key, w.flops, device) ?? (r.best?.measurement.gflops ? w.flops / r.best.measurement.gflops / 1e9 : undefined);
    const starts = r.started.flatMap((x) => (x.measurement.gflops ? [w.flops / x.measurement.gflops / 1e9] : []));
    recordSlice(s, spent, best, starts.length ? Math.min(...starts) : undefined);
    appendLine(journal, JSON.stringify({ model, device, task: w.key, seconds: spent, best: best ?? null, at: new Date().toISOString() } satisfies JournalLine) + '\n');
  }
  return {
    tasks: states.map((s) => ({ key: s.key, layers: s.weight, flops: s.flops, ...(before.get(s.key) !== undefined ? { before: before.get(s.key)! } : {}), ...(s.best !== undefined ? { after: s.best } : {}), spent: s.spent, slices: s.slices })),
    earlierSeconds, seconds: elapsed(), stoppedBy,
  };
}

const fmt = (s: number) => (s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);
