/**
 * The search bench's core: per workload, the peers once, then every (configuration, seed) as a tune
 * from fresh records (its own temporary RecordStore, so no run sees another's records, Q-model or
 * cost model), each sampled after every batch: best-so-far by trial and by wall-clock seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../ir/errors.js';
import { lowerWorkload } from '../../ir/ops/index.js';
import { CTarget } from '../../targets/c/target.js';
import { Pipeline } from '../../targets/pipeline.js';
import { openTarget } from '../../targets/registry.js';
import { MeasureSettings, Target } from '../../targets/target.js';
import { TargetEvaluator } from '../../tuner/evaluate.js';
import { RecordStore } from '../../tuner/records.js';
import { plannedHorizon, tune } from '../../tuner/tune.js';
import type { LoadGate } from '../load-gate.js';
import { OpenBlas } from '../openblas.js';
import { OneDnn, oneDnnShape } from '../onednn.js';
import { runSettings } from '../section.js';
import { loadTf } from '../tfjs.js';
import { version } from '../version.js';
import { PeerLibraries, measurePeers } from './peers.js';
import { SEARCH_BENCH_FORMAT, SearchBenchResult, SearchConfig, SearchRun, WorkloadResult } from './result.js';
import { speedTargets } from './speed-targets.js';
import { BenchTargetKind, SearchWorkload } from './workloads.js';

export interface SearchBenchOptions {
  readonly workloads: readonly SearchWorkload[];
  readonly configs: readonly SearchConfig[];
  readonly seeds: number;
  readonly timeBudgetSeconds?: number;
  /** Infinity: the time budget alone ends each tune. */
  readonly trials: number;
  /**
   * Trials the strategies plan over; default `trials`, or with a time budget alone the budget at
   * tuner/tune.ts's PLANNED_RATE (issue 11's candidates per second).
   */
  readonly horizon?: number;
  readonly startingPoints: number;
  /** C target threads (and the CPU peer's). */
  readonly threads: number;
  /** Seconds of timed runs per candidate in the tunes (the peers get the bench's usual second). */
  readonly minSeconds: number;
  /** Peers measured with a few short repeats: a smoke run, not for comparison. */
  readonly quickPeers?: boolean;
  /** The command line of this bench run, and the one that runs one workload alone with the same settings. */
  readonly command: string;
  readonly commandFor: (id: string) => string;
  readonly gate: LoadGate;
  readonly log: (line: string) => void;
}

/**
 * Each tune ends in its final round (tune.ts FINALISTS): the fastest few measured again and recorded;
 * the run's final figure is the best record's final-round measurement, or its recorded one when the
 * best after the round was not a finalist (`remeasured: false`). 1: on, as `loopsmith tune` does.
 */
export const REMEASURE = 1;

function horizonFor(o: SearchBenchOptions, kind: BenchTargetKind): number {
  if (o.horizon !== undefined) return o.horizon;
  if (Number.isFinite(o.trials)) return o.trials;
  return plannedHorizon(Infinity, o.timeBudgetSeconds!, kind);
}

async function openKind(kind: BenchTargetKind, settings: Partial<MeasureSettings>, threads: number): Promise<Target> {
  return openTarget(kind, { settings, ...(kind === 'c' ? { options: { threads } } : {}) });
}

/** One tune from fresh records in a temporary directory (removed after). */
async function searchRun(sw: SearchWorkload, target: Target, cfg: SearchConfig, seed: number, o: SearchBenchOptions): Promise<SearchRun> {
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-search-'));
  try {
    // Batch by batch: each trial gets the time its batch ended, when its outcome was known.
    const seconds: number[] = [];
    let searchSeconds: number | undefined;
    const t0 = performance.now();
    const r = await tune(sw.workload, new TargetEvaluator(target), {
      strategy: cfg.strategy, model: cfg.model, seed, trials: o.trials, horizon: horizonFor(o, sw.target), startingPoints: o.startingPoints,
      ...(o.timeBudgetSeconds !== undefined ? { timeBudgetSeconds: o.timeBudgetSeconds } : {}),
      records: new RecordStore(join(dir, 'records.jsonl')), version: 'bench', remeasure: REMEASURE > 0, earlyStopWindow: Infinity,
      onProgress: (p) => {
        while (seconds.length < p.trial) seconds.push(p.elapsedSeconds);
        searchSeconds = p.elapsedSeconds;
      },
    });
    const totalSeconds = (performance.now() - t0) / 1000;
    // No batch after the starting points: the search's end is not known apart from the re-measurement.
    const search = searchSeconds ?? totalSeconds;
    while (seconds.length < r.curve.length) seconds.push(search);
    const b = r.best, m = b?.remeasured?.status === 'ok' ? b.remeasured : b?.measurement;
    return {
      config: cfg.label, strategy: cfg.strategy, model: cfg.model, seed, byTrial: { best: [...r.curve], seconds },
      trials: r.trials, measured: r.measured, fromRecords: r.fromRecords, searchSeconds: search, totalSeconds, candidatesPerSecond: search > 0 ? r.measured / search : 0,
      earlyAborts: r.earlyAborts.count, passedOver: r.passedOver, failures: r.failures, stoppedBy: r.stoppedBy,
      started: r.started.map((s) => ({ label: s.label, status: s.measurement.status, ...(s.measurement.gflops !== undefined ? { gflops: s.measurement.gflops } : {}) })),
      ...(m?.gflops !== undefined && m.stats ? { final: { gflops: m.gflops, median: m.stats.median, spread: m.stats.spread, remeasured: m === b!.remeasured } } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The peers once, the reference ready on disk (so no tune's clock holds it), then every seed of every configuration, interleaved so drift spreads evenly. */
async function benchWorkload(sw: SearchWorkload, libs: PeerLibraries, o: SearchBenchOptions, summary: string[]): Promise<WorkloadResult> {
  const { log } = o;
  // The peers' own target: measured in full, with the bench's usual repeats, then closed (a WebGPU device process each).
  const peerTarget = await openKind(sw.target, runSettings(!!o.quickPeers), o.threads);
  const peers = await measurePeers(sw.target, sw.workload, o.threads, libs, new Pipeline(peerTarget), !!o.quickPeers, log).finally(() => peerTarget.close());
  const target = await openKind(sw.target, { minSeconds: o.minSeconds }, o.threads);
  const runs: SearchRun[] = [];
  try {
    if (sw.target === 'webgpu' && !summary.some((l) => l.startsWith('webgpu:'))) summary.push(...target.summary.map((l) => `webgpu: ${l}`));
    const base = lowerWorkload(sw.workload);
    await new Pipeline(target).reference({ key: sw.workload.key, unscheduled: base, flops: sw.workload.flops });
    for (let seed = 1; seed <= o.seeds; seed++) {
      for (const cfg of o.configs) {
        const run = await searchRun(sw, target, cfg, seed, o);
        runs.push(run);
        log(`${sw.id} ${cfg.label} seed ${seed}: ${run.final ? `${run.final.gflops.toFixed(2)} GFLOP/s` : 'no verified kernel'} after ${run.trials} trials (${run.measured} measured, ${run.candidatesPerSecond.toFixed(2)}/s) in ${run.searchSeconds.toFixed(0)} s, stopped by ${run.stoppedBy}`);
      }
    }
    return { id: sw.id, key: sw.workload.key, target: sw.target, device: target.description, command: o.commandFor(sw.id), peers, runs };
  } finally {
    await target.close();
  }
}

/** Runs the whole bench; the caller prints, plots and writes what it returns. */
export async function searchBench(o: SearchBenchOptions): Promise<SearchBenchResult> {
  if (o.timeBudgetSeconds === undefined && !Number.isFinite(o.trials)) throw new InputError('the search bench needs --time-budget or --trials');
  const date = new Date().toISOString();
  const cpu = await openTarget('c', { options: { threads: o.threads } });
  if (!(cpu instanceof CTarget)) throw new Error('the registry\'s c target is not the C target');
  const summary = [...cpu.summary];
  const wants = (k: BenchTargetKind) => o.workloads.some((w) => w.target === k);
  const blas = wants('c') ? await OpenBlas.open(cpu.compiler.command, cpu.cpu.flags) : 'no C workload';
  const tf = wants('webgpu') ? await loadTf().catch((e: Error) => `TensorFlow.js did not start: ${e.message.split('\n')[0]}`) : 'no WebGPU workload';
  const dnnl = o.workloads.some((w) => w.target === 'c' && typeof oneDnnShape(w.workload.op.name, w.workload.params) !== 'string') ? await OneDnn.open() : 'no convolution';
  summary.push(typeof dnnl === 'string' ? `peer oneDNN: ${dnnl}` : `peer ${dnnl.version}: NC(D)HW in and out (reorders timed) and at its best (blocked layouts, inputs reordered outside the time)`);
  if (typeof blas !== 'string') summary.push(`peer ${blas.version}: core types ${blas.configs.map((c) => `${c.label}${c.skip ? ` (skipped: ${c.skip})` : ''}`).join(', ')}`);
  const workloads: WorkloadResult[] = [];
  try {
    for (const sw of o.workloads) {
      await o.gate.check(`workload ${sw.id}`);
      workloads.push(await benchWorkload(sw, { blas, tf, dnnl }, o, summary));
    }
  } finally {
    if (typeof blas !== 'string') await blas.close();
    if (typeof dnnl !== 'string') await dnnl.close();
  }
  const horizon = Object.fromEntries((['c', 'webgpu'] as const).filter(wants).map((k) => [k, horizonFor(o, k)]));
  const partial = {
    format: SEARCH_BENCH_FORMAT, date, command: o.command, loopsmith: await version(), machine: { cpu: cpu.cpu.model, summary },
    settings: {
      ...(o.timeBudgetSeconds !== undefined ? { timeBudgetSeconds: o.timeBudgetSeconds } : {}), trials: o.trials, horizon, seeds: o.seeds, configs: o.configs,
      startingPoints: o.startingPoints, threads: o.threads, minSeconds: o.minSeconds, remeasure: REMEASURE,
    },
    load: { threshold: o.gate.options.threshold, seen: o.gate.seen, underLoad: o.gate.underLoad },
    workloads,
  } as const;
  return { ...partial, targets: speedTargets(partial) };
}
