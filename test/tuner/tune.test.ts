import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { trace } from '../../scheduler/trace.js';
import { collectLoops } from '../../ir/loop.js';
import { Program } from '../../ir/program.js';
import { structuralHash } from '../../ir/hash.js';
import { Measurement } from '../../targets/measurement.js';
import { timingStats } from '../../targets/stats.js';
import { CTarget } from '../../targets/c/target.js';
import { Evaluator, TargetEvaluator } from '../../tuner/evaluate.js';
import { CostModel } from '../../tuner/model/cost-model.js';
import { RecordStore, RecordsFileError, TuningRecord, recordId, validateRecord } from '../../tuner/records.js';
import { STRATEGIES } from '../../tuner/strategies.js';
import { FINALISTS, plannedHorizon, tune } from '../../tuner/tune.js';
import { DISTURBED_SPREAD, FINAL_ROUND } from '../../tuner/tune-run.js';
import { diskFullAfter } from '../full-disk.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'loopsmith-tune-'));

/**
 * A stand-in device with a known cost landscape (best: a 64-element register tile, unrolled),
 * and a trap: some kernels are "fast" but wrong. Deterministic, so the driver can be tested exactly.
 */
class StubEvaluator implements Evaluator {
  readonly kind = 'c' as const;
  readonly fingerprint = { key: 'cpu:stub', isa: 'avx512', compiler: 'gcc' };
  readonly spaceTarget = { kind: 'c', style: 'cpu' as const, lanes: 8, threads: 1, maxInvocations: 1, maxWorkgroupDim: [1, 1, 1] as const, maxWorkgroupBytes: 0 };
  measured = 0;
  /** `slower`: every time multiplied by it; `w`: the workload whose FLOPs give the rates. */
  constructor(private readonly slower = 1, private readonly w = W) {}
  compatible(): boolean { return true; }
  async measure(programs: readonly Program[]) {
    return programs.map((p) => {
      this.measured++;
      const loops = collectLoops(p.body);
      const reg = loops.filter((l) => l.var.endsWith('.2')).reduce((n, l) => n * l.extent, 1);
      const unrolled = loops.some((l) => l.loopKind === 'unrolled');
      const seconds = this.slower * 1e-3 * (1 + 0.3 * Math.abs(Math.log2(reg) - 6) + (unrolled ? 0 : 0.2));
      // As the pipeline does, and as loading a record checks: GFLOP/s are the workload's FLOPs over the median.
      // Each measurement its own (a last run a hair slower, the median unchanged): records of one
      // measurement (a known kernel answered from memory) are told from two by their times.
      const own = (t: number) => [t, t, t * (1 + 1e-12 * this.measured)];
      const timed = (t: number) => ({ times: own(t), stats: timingStats(own(t)), gflops: this.w.flops / t / 1e9 });
      const m: Measurement = reg === 2 ? { status: 'wrong_answer', message: 'planted', ...timed(1e-9) } : { status: 'ok', ...timed(seconds) };
      return { measurement: m, codeHash: structuralHash(p), cached: false };
    });
  }
  async close(): Promise<void> {}
}

const W = workload('gemm', { m: 64, n: 64, k: 64 });

describe('tuner: the tuning loop', function () {
  this.timeout(300_000);

  for (const strategy of STRATEGIES) {
    it(`${strategy}: every measurement is recorded, a wrong kernel is never best, and a rerun resumes`, async () => {
      const db = new RecordStore(join(tmp(), 'r.jsonl'));
      const ev = new StubEvaluator();
      const r1 = await tune(W, ev, { strategy, trials: 40, seed: 3, records: db, version: 'test', remeasure: true, earlyStopWindow: 1000 });
      assert.equal(r1.trials, 40);
      assert.ok(r1.best, 'found a kernel');
      assert.equal(r1.best!.measurement.status, 'ok');
      const lines = readFileSync(db.path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
      assert.ok(lines.every(validateRecord));
      assert.equal(lines.length, r1.measured + r1.finalRound.length, 'every measurement is recorded, the final round\'s too');
      assert.equal(r1.finalRound.length, 3);
      assert.ok(r1.curve.every((x, i) => i === 0 || x >= r1.curve[i - 1]!), 'best-so-far never decreases');
      const before = ev.measured;
      const r2 = await tune(W, ev, { strategy, trials: 40, seed: 3, records: new RecordStore(db.path), version: 'test', remeasure: false, earlyStopWindow: 1000 });
      assert.equal(ev.measured, before, 'nothing measured again');
      assert.equal(r2.resumed, 40);
      // The starting points (expert schedules, not points of the space) were trials of the run resumed: all 40 come from the records.
      assert.equal(r2.fromRecords, 40, 'every resumed trial is from the records');
      assert.equal(r2.best?.recordId, r1.best?.recordId, 'the resumed run knows the same best');
      const r3 = await tune(W, ev, { strategy, trials: 50, seed: 3, records: new RecordStore(db.path), version: 'test', remeasure: false, earlyStopWindow: 1000 });
      assert.equal(r3.trials, 50);
      assert.ok(ev.measured - before <= 10, 'a larger budget measures only the new trials');
    });
  }

  it('plans over the trials a time budget holds, not over a trial count it will not reach', () => {
    assert.equal(plannedHorizon(100000, 300, 'c'), 600);
    assert.equal(plannedHorizon(100000, 300, 'webgpu'), 300);
    assert.equal(plannedHorizon(100, 300, 'c'), 100, 'the trials end the run first');
    assert.equal(plannedHorizon(1000, undefined, 'c'), 1000, 'no time budget');
    assert.equal(plannedHorizon(1000, 2, 'c'), 20, 'at least a short plan');
  });

  it('flex and sa find the best region of a known landscape', async () => {
    for (const strategy of ['flex', 'sa'] as const) {
      const r = await tune(W, new StubEvaluator(), { strategy, trials: 120, seed: 11, records: new RecordStore(join(tmp(), 'r.jsonl')), version: 'test', remeasure: false, earlyStopWindow: 1000 });
      assert.ok(r.best!.measurement.gflops! > 0.9 * W.flops / 1e-3 / 1e9, `${strategy} reached ${r.best!.measurement.gflops}`);
    }
  });

  it('a corrupted Q-model is reported once in the summary warnings and replaced by a fresh one', async () => {
    const dir = tmp();
    const model = join(dir, 'qmodels', 'gemm-c.json');
    mkdirSync(dirname(model), { recursive: true });
    writeFileSync(model, '{"format": 1, "inputs": 3');
    const r = await tune(W, new StubEvaluator(), { strategy: 'flex', trials: 6, seed: 2, records: new RecordStore(join(dir, 'r.jsonl')), version: 'test', remeasure: false });
    assert.deepEqual(r.warnings.filter((x) => x.includes(model)).length, 1, r.warnings.join('\n'));
    assert.match(r.warnings.find((x) => x.includes(model))!, /is not JSON \(corrupted\); starting from a fresh model/);
    const again = await tune(W, new StubEvaluator(), { strategy: 'flex', trials: 6, seed: 2, records: new RecordStore(join(dir, 'r.jsonl')), version: 'test', remeasure: false });
    assert.deepEqual(again.warnings, [], 'the model saved by the first run loads');
  });

  it('an invalid record in the file is counted in one warning and never becomes best', async () => {
    const path = join(tmp(), 'r.jsonl');
    const first = await tune(W, new StubEvaluator(), { strategy: 'random', trials: 8, seed: 4, records: new RecordStore(path), version: 'test', remeasure: false });
    const rec = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!) as Record<string, unknown>;
    // Claims to be the fastest ever, with a status no loopsmith writes.
    appendFileSync(path, JSON.stringify({ ...rec, id: 'forged', outcome: { status: 'fast', median: 1e-12, gflops: 1e12 } }) + '\n');
    const r = await tune(W, new StubEvaluator(), { strategy: 'random', trials: 8, seed: 4, records: new RecordStore(path), version: 'test', remeasure: true });
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /skipped 1 invalid line: line 9 is not a tuning record/);
    assert.notEqual(r.best!.recordId, 'forged');
    assert.equal(r.best!.measurement.gflops, first.best!.measurement.gflops);
  });

  it('a record whose trace does not replay is passed over in resume, warm start and re-measure, and named in one warning', async () => {
    const path = join(tmp(), 'r.jsonl');
    const first = await tune(W, new StubEvaluator(), { strategy: 'flex', trials: 8, seed: 4, records: new RecordStore(path), version: 'test', remeasure: false, startingPoints: 0 });
    const rec = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!) as { outcome: { median: number }; trace: { steps: unknown[] } };
    // Same search (resume feeds it back), a point of this space, a consistent and very fast time, and a trace with a step that cannot apply.
    // 100 times faster: far ahead of every kernel, and within what the device could do (far faster is implausible, tested apart).
    const median = rec.outcome.median / 100;
    const trace = { ...rec.trace, steps: [...rec.trace.steps, { prim: 'split', loop: 'nowhere', factors: [2], tail: 'guard' }] };
    appendFileSync(path, JSON.stringify({ ...rec, id: 'forged', trace, outcome: { status: 'ok', times: [median], median, gflops: W.flops / median / 1e9 } }) + '\n');
    for (const remeasure of [false, true]) {
      const r = await tune(W, new StubEvaluator(), { strategy: 'flex', trials: 8, seed: 4, records: new RecordStore(path), version: 'test', remeasure, startingPoints: 0 });
      assert.notEqual(r.best!.recordId, 'forged');
      assert.ok(r.best!.measurement.gflops! <= first.best!.measurement.gflops! * 1.01);
      assert.deepEqual(r.warnings.length, 1, r.warnings.join('\n'));
      assert.match(r.warnings[0]!, /skipped 1 record whose trace does not replay onto its workload: record forged \(.*nowhere/);
    }
  });

  it('stops at the first record it cannot write, in one line (exit 1), keeping every record written before', async () => {
    const path = join(tmp(), 'r.jsonl');
    const ev = new StubEvaluator();
    const measure = ev.measure.bind(ev);
    let restore: (() => void) | undefined;
    ev.measure = async (ps) => {
      // After two batches of two the disk is full.
      if (ev.measured >= 4) restore ??= diskFullAfter(0);
      return measure(ps);
    };
    try {
      await assert.rejects(tune(W, ev, { strategy: 'random', trials: 20, seed: 5, records: new RecordStore(path), version: 'test', remeasure: false, startingPoints: 0 }), (e: unknown) => {
        assert.ok(e instanceof RecordsFileError);
        assert.equal(e.exitCode, 1);
        assert.match(e.message, /^cannot write the records file .*r\.jsonl: ENOSPC \(no space left on device\); the 4 records appended before it are kept; the file holds 4 records; tuning stopped at trial 5$/);
        return true;
      });
    } finally {
      restore?.();
    }
    assert.equal(new RecordStore(path).load().records.length, 4);
  });

  it('with the cost model, each strategy measures only what the model picks, records only that, and saves the model', async () => {
    for (const strategy of STRATEGIES) {
      const dir = tmp();
      const db = new RecordStore(join(dir, 'r.jsonl'));
      const ev = new StubEvaluator();
      const r = await tune(W, ev, { strategy, trials: 30, seed: 6, records: db, version: 'test', remeasure: false, earlyStopWindow: 1000 });
      assert.equal(r.trials, 30, strategy);
      assert.equal(r.model, 'on');
      assert.ok(ev.measured <= 30 && ev.measured === r.measured, `${strategy}: ${ev.measured} measured`);
      const recs = new RecordStore(db.path).load().records;
      assert.equal(recs.length, r.measured, `${strategy}: one record per measurement`);
      assert.equal(new Set(recs.map((x) => x.traceHash)).size, recs.length, `${strategy}: no trace measured twice`);
      // About 8 proposals per trial, one measured: most are passed over (flex proposes fewer near its starting points: 170 of 240 with seed 6).
      assert.ok(r.passedOver >= 30 * 5, `${strategy}: passed over ${r.passedOver} of about ${30 * 8} proposals`);
      const saved = CostModel.load(join(dir, 'models', 'gemm-c.json'), 'gemm', 'c');
      assert.ok(saved.status === 'loaded' && saved.model.size === r.measured && saved.model.ranks, `${strategy}: the model is saved beside the records`);
    }
  });

  it('with the cost model off, nothing is passed over and no model is kept', async () => {
    const dir = tmp();
    const ev = new StubEvaluator();
    const r = await tune(W, ev, { strategy: 'sa', trials: 12, seed: 6, records: new RecordStore(join(dir, 'r.jsonl')), version: 'test', remeasure: false, model: 'off' });
    assert.equal(r.model, 'off');
    assert.equal(r.passedOver, 0);
    assert.equal(r.modelRows, 0);
    assert.equal(ev.measured, r.measured);
    assert.equal(r.trials, 12);
    assert.ok(!existsSync(join(dir, 'models')));
  });

  it('a corrupted cost model is reported once in the summary warnings and replaced by a fresh one', async () => {
    const dir = tmp();
    const model = join(dir, 'models', 'gemm-c.json');
    mkdirSync(dirname(model), { recursive: true });
    writeFileSync(model, '{"format": 1, "rows": [');
    const r = await tune(W, new StubEvaluator(), { strategy: 'random', trials: 8, seed: 2, records: new RecordStore(join(dir, 'r.jsonl')), version: 'test', remeasure: false });
    assert.deepEqual(r.warnings, [`cost model ${model} is not JSON (corrupted); starting from a fresh model`]);
    const again = await tune(W, new StubEvaluator(), { strategy: 'random', trials: 8, seed: 3, records: new RecordStore(join(dir, 'r.jsonl')), version: 'test', remeasure: false });
    assert.deepEqual(again.warnings, [], 'the model saved by the first run loads');
  });

  it('stops early when the best stops improving', async () => {
    const r = await tune(W, new StubEvaluator(), { strategy: 'random', trials: 400, seed: 1, records: new RecordStore(join(tmp(), 'r.jsonl')), version: 'test', remeasure: false, earlyStopWindow: 30, earlyStopImprovement: 0.01 });
    assert.equal(r.stoppedBy, 'no-improvement');
    assert.ok(r.trials < 400);
    assert.ok(r.trials >= r.started.length + 30, `the window of 30 counts searched trials, not the ${r.started.length} starting points`);
  });

  it('its best is the records\' best (what records best and emit take), whichever run measured it, after a final round of the fastest few', async () => {
    const db = new RecordStore(join(tmp(), 'r.jsonl'));
    const r1 = await tune(W, new StubEvaluator(), { strategy: 'flex', trials: 20, seed: 3, records: db, version: 'test', earlyStopWindow: 1000 });
    assert.equal(r1.best!.recordId, new RecordStore(db.path).best(W.key, 'cpu:stub')!.id);
    assert.equal(r1.best!.earlier, false);
    assert.equal(r1.best!.remeasured?.status, 'ok');
    assert.equal(r1.best!.record.strategy, FINAL_ROUND, 'the best record is its final-round measurement');
    // A later run on a device twice as slow: its kernels are all slower than the first run's best.
    const slow = new StubEvaluator(2);
    const r2 = await tune(W, slow, { strategy: 'random', trials: 4, seed: 9, startingPoints: 0, records: new RecordStore(db.path), version: 'test' });
    assert.equal(r2.finalRound.length, FINALISTS);
    assert.equal(slow.measured, r2.measured + FINALISTS, 'the final round measured the fastest three again');
    // Each finalist now stands at the median of 1 + 1 (or 2 + 1) measurements, half its first rate or so: all are re-ranked together.
    const best = new RecordStore(db.path).best(W.key, 'cpu:stub')!;
    assert.equal(r2.best!.recordId, best.id);
    assert.equal(r2.best!.remeasured!.gflops, best.outcome.gflops, 'the best record is its measurement in this final round');
    assert.ok(r2.finalRound.some((f) => f.record.traceHash === best.traceHash));
  });

  it('the final round goes on while the standing best is a schedule it has not measured again', async () => {
    // Every kernel runs twice as slow when measured again: each finalist falls to 0.75x its first
    // figure, and the next schedules' single figures stand above them until they are measured too.
    class Fading extends StubEvaluator {
      again = 0;
      override async measure(programs: readonly Program[], _ref?: unknown, opts?: { again?: boolean }) {
        const first = await super.measure(programs);
        if (!opts?.again) return first;
        this.again += programs.length;
        return first.map(({ measurement: m, ...rest }) => {
          // Its own times (a measurement's times are its identity: records holding the same ones measured one kernel).
          const times = m.times!.map((x) => 2 * x);
          return { ...rest, measurement: { ...m, times, stats: timingStats(times), gflops: W.flops / timingStats(times).median / 1e9 } };
        });
      }
    }
    const ev = new Fading();
    const db = new RecordStore(join(tmp(), 'r.jsonl'));
    const r = await tune(W, ev, { strategy: 'random', trials: 30, seed: 4, records: db, version: 'test', earlyStopWindow: 1000, model: 'off' });
    assert.ok(r.finalRound.length > FINALISTS, `the round went past its ${FINALISTS}: ${r.finalRound.length}`);
    assert.equal(r.finalRound.length, 2 * FINALISTS, 'every re-measurement fades here, so the round runs to its cap');
    assert.equal(ev.again, r.finalRound.length, 'each finalist a kernel of its own, measured once');
    const finals = new RecordStore(db.path).load().records.filter((x) => x.strategy === FINAL_ROUND);
    assert.equal(new Set(finals.map((x) => x.codeHash)).size, finals.length, 'a kernel\'s other traces are not finalists again');
    assert.equal(new Set(r.finalRound.map((f) => f.record.id)).size, r.finalRound.length, 'no schedule twice');
  });

  it('a final-round measurement whose runs disagree (the host took a core) is measured again, the steadier kept; a failure is always kept', async () => {
    // The first re-measurement of each kernel is disturbed: runs of 1x and 3x its time.
    class Disturbed extends StubEvaluator {
      again = 0;
      constructor(private readonly second: 'steady' | 'wrong') { super(); }
      override async measure(programs: readonly Program[], _ref?: unknown, opts?: { again?: boolean }) {
        const first = await super.measure(programs);
        if (!opts?.again) return first;
        const nth = this.again++;
        return first.map(({ measurement: m, ...rest }) => {
          const t = m.stats!.median;
          if (nth % 2 === 1 && this.second === 'wrong') return { ...rest, measurement: { status: 'wrong_answer' as const, message: 'planted race' } };
          const times = nth % 2 === 0 ? [t, 3 * t, t, 3 * t, 2 * t] : [t, t, t * 1.01];
          return { ...rest, measurement: { ...m, times, stats: timingStats(times), gflops: W.flops / timingStats(times).median / 1e9 } };
        });
      }
    }
    const steady = new Disturbed('steady'), db = new RecordStore(join(tmp(), 'r.jsonl'));
    const r = await tune(W, steady, { strategy: 'random', trials: 12, seed: 2, records: db, version: 'test', earlyStopWindow: 1000, model: 'off', finalists: 1 });
    assert.equal(steady.again, 2, 'one kernel, measured twice');
    assert.ok(r.finalRound[0]!.now.stats!.spread < DISTURBED_SPREAD, `the steady measurement is kept: spread ${r.finalRound[0]!.now.stats!.spread}`);
    const kept = new RecordStore(db.path).load().records.filter((x) => x.strategy === FINAL_ROUND);
    assert.equal(kept.length, 1);
    assert.equal(kept[0]!.codeHash, r.finalRound[0]!.record.codeHash, 'recorded as the same kernel');
    const wrong = new Disturbed('wrong'), db2 = new RecordStore(join(tmp(), 'r.jsonl'));
    const w = await tune(W, wrong, { strategy: 'random', trials: 12, seed: 2, records: db2, version: 'test', earlyStopWindow: 1000, model: 'off', finalists: 1 });
    assert.equal(w.finalRound[0]!.now.status, 'wrong_answer', 'a wrong answer in the second measurement is what is recorded');
    assert.notEqual(new RecordStore(db2.path).best(W.key, 'cpu:stub')!.codeHash, w.finalRound[0]!.record.codeHash, 'and that kernel is never best again');
  });

  it('schedules that generate the same code stand together: a sibling trace does not keep a lucky figure the final round took back', () => {
    const db = new RecordStore(join(tmp(), 'r.jsonl'));
    const line = (trial: number, split: number, code: string | undefined, gflops: number, strategy = 'flex', times?: number[], status: 'ok' | 'wrong_answer' = 'ok'): TuningRecord => {
      const t = W.flops / gflops / 1e9, timestamp = new Date(1000 * trial).toISOString(), hash = `split${split}`;
      const ts = times ?? [t];
      return {
        format: 1, id: recordId(W.key, 'cpu:stub', hash, String(trial), timestamp), workload: { key: W.key, op: 'gemm', params: { ...W.params }, dtype: 'f32' },
        target: { kind: 'c', fingerprint: { key: 'cpu:stub' } }, trace: { version: 1, steps: [{ prim: 'split', loop: 'i', factors: [split], tail: 'requireDivisible' }] }, traceHash: hash,
        ...(code !== undefined ? { codeHash: code } : {}), outcome: { status, times: ts, median: timingStats(ts).median, spread: 0, gflops }, strategy, seed: 1, trial, timestamp, loopsmith: 'test',
      };
    };
    const lucky = W.flops / 280 / 1e9;
    // Kernel A measured once (280) and answered from memory for a sibling trace (the same times); kernel B at 250.
    db.append(line(0, 2, 'A', 280, 'flex', [lucky]));
    db.append(line(1, 4, 'A', 280, 'flex', [lucky]));
    db.append(line(2, 8, 'B', 250));
    db.append(line(3, 2, 'A', 100, FINAL_ROUND));
    const best = db.best(W.key, 'cpu:stub')!;
    assert.equal(best.codeHash, 'B', 'A stands at the median of its two measurements (190), its sibling with it');
    assert.deepEqual(db.fastestFirst(db.load().records).map((r) => `${r.codeHash}@${r.trial}`), ['B@2', 'A@3', 'A@1', 'A@0']);
    // Records without code hashes (written before records had them): the sibling holds the same
    // measurement (its times), so it measured the same kernel and stands with it too.
    const old = new RecordStore(join(tmp(), 'r.jsonl'));
    for (const r of [line(0, 2, undefined, 280, 'flex', [lucky]), line(1, 4, undefined, 280, 'flex', [lucky]), line(2, 8, undefined, 250), line(3, 2, undefined, 100, FINAL_ROUND)]) old.append(r);
    assert.equal(old.best(W.key, 'cpu:stub')!.traceHash, 'split8');
    // Without a shared measurement, two traces are two kernels: each stands by its own.
    const apart = new RecordStore(join(tmp(), 'r.jsonl'));
    for (const r of [line(0, 2, undefined, 280, 'flex', [lucky]), line(1, 4, undefined, 280, 'flex', [lucky * 1.001]), line(2, 8, undefined, 250), line(3, 2, undefined, 100, FINAL_ROUND)]) apart.append(r);
    assert.equal(apart.best(W.key, 'cpu:stub')!.traceHash, 'split4');
    // A wrong answer of a kernel, under any of its traces, excludes every trace of it.
    db.append(line(4, 16, 'B', 250, 'flex', undefined, 'wrong_answer'));
    assert.equal(db.best(W.key, 'cpu:stub')!.codeHash, 'A');
  });

  it('a trace that measured slower in the final round gives way to one that held up, and one that went wrong is never best', () => {
    const db = new RecordStore(join(tmp(), 'r.jsonl'));
    // Three schedules (the trace, not the stored traceHash, tells them apart).
    const SPLITS: Record<string, number> = { lucky: 2, steady: 4, racy: 8 };
    const line = (trial: number, hash: string, gflops: number, strategy = 'flex', status: 'ok' | 'wrong_answer' = 'ok'): TuningRecord => {
      const t = W.flops / gflops / 1e9, timestamp = new Date(1000 * trial).toISOString();
      return {
        format: 1, id: recordId(W.key, 'cpu:stub', hash, String(trial), timestamp), workload: { key: W.key, op: 'gemm', params: { ...W.params }, dtype: 'f32' },
        target: { kind: 'c', fingerprint: { key: 'cpu:stub' } }, trace: { version: 1, steps: [{ prim: 'split', loop: 'i', factors: [SPLITS[hash]!], tail: 'requireDivisible' }] }, traceHash: hash,
        outcome: { status, times: [t], median: t, spread: 0, gflops }, strategy, seed: 1, trial, timestamp, loopsmith: 'test',
      };
    };
    db.append(line(0, 'lucky', 200));
    db.append(line(1, 'steady', 180));
    db.append(line(2, 'racy', 190));
    assert.equal(db.best(W.key, 'cpu:stub')!.traceHash, 'lucky', 'one measurement each: the fastest');
    db.append(line(3, 'lucky', 150, FINAL_ROUND));
    db.append(line(4, 'steady', 178, FINAL_ROUND));
    db.append(line(5, 'racy', 190, FINAL_ROUND, 'wrong_answer'));
    const best = db.best(W.key, 'cpu:stub')!;
    assert.equal(best.traceHash, 'steady', 'lucky stands at 175 now, steady at 179; racy went wrong once');
    assert.equal(best.trial, 4, 'the newest measurement of the trace');
    assert.deepEqual(db.fastestFirst(db.load().records).map((r) => `${r.traceHash}@${r.trial}`), ['steady@4', 'steady@1', 'lucky@3', 'lucky@0']);
  });

  it('counts what the file held for this device: records of another thread count, an invalid line and this run\'s own records are not from the records', async () => {
    const path = join(tmp(), 'r.jsonl');
    const first = await tune(W, new StubEvaluator(), { strategy: 'random', trials: 6, seed: 1, records: new RecordStore(path), version: 'test', remeasure: false });
    // The same records measured at two threads (another fingerprint key), and a line that is no record.
    const twoThreads = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; target: { fingerprint: object } })
      .map((r) => ({ ...r, id: `${r.id.slice(0, 9)}2th`, target: { kind: 'c', fingerprint: { ...r.target.fingerprint, key: 'cpu:stub-2-threads', threads: 2 } } }));
    appendFileSync(path, `${twoThreads.map((r) => JSON.stringify(r)).join('\n')}\nnot a record\n`);
    const again = await tune(W, new StubEvaluator(), { strategy: 'random', trials: 8, seed: 1, records: new RecordStore(path), version: 'test', remeasure: false });
    assert.equal(again.recordsBefore, first.measured);
    assert.equal(again.resumed, 6);
    assert.ok(again.fromRecords <= first.measured, 'only this device\'s records answer trials');
    // A small space where annealing proposes kernels it measured a moment ago: those are repeats, not records.
    const tiny = workload('gemm', { m: 2, n: 2, k: 2 });
    const fresh = await tune(tiny, new StubEvaluator(1, tiny), { strategy: 'sa', model: 'off', trials: 30, seed: 1, records: new RecordStore(join(tmp(), 'r.jsonl')), version: 'test', remeasure: false, earlyStopWindow: 1000 });
    assert.equal(fresh.recordsBefore, 0);
    assert.equal(fresh.fromRecords, 0, 'a fresh file answers nothing');
    assert.ok(fresh.repeats > 0, 'the landscape makes the search come back');
    assert.equal(fresh.measured + fresh.repeats + (fresh.failures.rejected ?? 0), fresh.trials);
  });

  it('a record faster than its device can be never becomes the search\'s best, nor the result\'s, and is named once', async () => {
    const path = join(tmp(), 'r.jsonl');
    await tune(W, new StubEvaluator(), { strategy: 'random', trials: 8, seed: 4, records: new RecordStore(path), version: 'test', remeasure: false });
    const rec = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { point?: unknown }).find((r) => r.point)!;
    // The same search (resume replays it), an outcome edited to 1e9 GFLOP/s with a median to match.
    const median = W.flops / 1e9 / 1e9;
    appendFileSync(path, JSON.stringify({ ...rec, id: 'hostile00001', outcome: { status: 'ok', times: [median], median, gflops: 1e9 } }) + '\n');
    const r = await tune(W, new StubEvaluator(), { strategy: 'random', trials: 12, seed: 4, records: new RecordStore(path), version: 'test', remeasure: false });
    assert.notEqual(r.best!.recordId, 'hostile00001');
    assert.ok(Math.max(...r.curve) < 1e3, `the search's best so far stays real: ${Math.max(...r.curve)}`);
    const named = r.warnings.filter((w) => w.includes('hostile00001'));
    assert.equal(named.length, 1, r.warnings.join('\n'));
    assert.match(named[0]!, /skipped 1 implausible record, faster than 1\.5x the most its device can do: record hostile00001 \(1\.000e\+9 GFLOP\/s; its device's ceiling is 384\.0\)/);
  });

  it('a run without a trial limit plans over its horizon: flex then searches as it does with that many trials', async () => {
    const hashes = async (opts: { trials: number; horizon?: number }) => {
      const db = new RecordStore(join(tmp(), 'r.jsonl'));
      const stop = { requested: false };
      await tune(W, new StubEvaluator(), { strategy: 'flex', seed: 5, records: db, version: 'test', remeasure: false, earlyStopWindow: 1000, stop, onProgress: (p) => { if (p.trial >= 40) stop.requested = true; }, ...opts });
      return new RecordStore(db.path).load().records.slice(0, 39).map((r) => r.traceHash);
    };
    const planned = await hashes({ trials: 40 });
    assert.deepEqual(await hashes({ trials: Infinity, horizon: 40 }), planned);
    // Without a horizon an unbounded flex never ends its random seeding phase.
    assert.notDeepEqual(await hashes({ trials: Infinity }), planned);
  });
});

describe('tuner: the cost model on the C target', function () {
  this.timeout(600_000);
  const evaluator = () => new TargetEvaluator(new CTarget({ minSeconds: 0.01 }));

  it('knows two programs that generate the same code as one kernel (codeHash), and another schedule as another', () => {
    const w = workload('gemm', { m: 32, n: 32, k: 32 }), base = lowerWorkload(w), ev = evaluator();
    const plain = ev.codeHash(applyTrace(base, trace([]))), again = ev.codeHash(lowerWorkload(w));
    const split = ev.codeHash(applyTrace(base, trace([{ prim: 'split', loop: 'j', factors: [16], tail: 'requireDivisible' }, { prim: 'unroll', loop: 'j.1' }])));
    assert.ok(plain && split);
    assert.equal(plain, again);
    assert.notEqual(plain, split);
  });

  it('measures no more than the budget, records only measured kernels, saves the model, and a tune of another shape starts from it', async () => {
    const dir = tmp();
    const first = workload('gemm', { m: 32, n: 32, k: 32 });
    const db = new RecordStore(join(dir, 'r.jsonl'));
    const r1 = await tune(first, evaluator(), { strategy: 'flex', trials: 10, seed: 1, records: db, version: 'test', remeasure: false });
    assert.equal(r1.trials, 10);
    assert.ok(r1.measured <= 10);
    assert.equal(new RecordStore(db.path).load().records.length, r1.measured);
    assert.ok(r1.passedOver > 0);
    const path = join(dir, 'models', 'gemm-c.json');
    const saved = CostModel.load(path, 'gemm', 'c');
    assert.ok(saved.status === 'loaded' && saved.model.size === r1.measured, 'the model holds every measured kernel');
    // Other records in the same folder: what the second run knows of the first shape comes from the model file.
    const second = workload('gemm', { m: 16, n: 64, k: 32 });
    const r2 = await tune(second, evaluator(), { strategy: 'flex', trials: 6, seed: 1, records: new RecordStore(join(dir, 'other.jsonl')), version: 'test', remeasure: false });
    assert.deepEqual(r2.warnings, []);
    assert.equal(r2.modelRows, r1.measured + r2.measured, 'warm start: the rows of the first shape, then the second');
  });
});

describe('tuner: loopsmith tune on the C target', function () {
  this.timeout(600_000);
  const args = (records: string, trials: number) => [MAIN, 'tune', 'gemm', '--m', '64', '--n', '64', '--k', '64', '--target', 'c', '--trials', String(trials), '--min-time', '0.01', '--records', records];

  it('finds a verified kernel faster than the naive one, and a second identical command resumes', () => {
    const records = join(tmp(), 'r.jsonl');
    const r = spawnSync(process.execPath, [...args(records, 16), '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { best: { gflops: number; remeasured: { status: string } | null }; measured: number; trials: number; earlyAborts: { count: number; factors: number[] }; finalRound: { now: { status: string } }[] };
    assert.ok(j.best.gflops > 0);
    assert.ok(j.finalRound.length >= 1 && j.finalRound.every((f) => f.now.status === 'ok'), 'a final round, every finalist verified again');
    const lines = readFileSync(records, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { strategy: string });
    assert.equal(lines.filter((l) => l.strategy === 'final-round').length, j.finalRound.length, 'each finalist\'s measurement is recorded');
    assert.equal(lines.length, j.measured + j.finalRound.length);
    assert.ok(Number.isInteger(j.earlyAborts.count) && j.earlyAborts.factors.every((f) => f === 3), JSON.stringify(j.earlyAborts));
    const naive = spawnSync(process.execPath, [MAIN, 'run', 'gemm', '--m', '64', '--n', '64', '--k', '64', '--json', '--min-time', '0.05'], { encoding: 'utf8' });
    assert.ok(j.best.gflops > (JSON.parse(naive.stdout) as { gflops: number }).gflops, 'tuned beats naive');
    const again = spawnSync(process.execPath, [...args(records, 16), '--json'], { encoding: 'utf8' });
    const k = JSON.parse(again.stdout) as { measured: number; resumed: number };
    assert.equal(k.measured, 0);
    assert.equal(k.resumed, 16);
  });

  it('survives kill -9: no record is lost, a torn line is skipped with a warning, and the rerun resumes', async () => {
    const records = join(tmp(), 'r.jsonl');
    const child = spawn(process.execPath, args(records, 200), { stdio: 'ignore' });
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      if (existsSync(records) && readFileSync(records, 'utf8').split('\n').length > 6) break;
    }
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    const text = readFileSync(records, 'utf8');
    const whole = text.split('\n').slice(0, text.endsWith('\n') ? -1 : -1).filter(Boolean);
    assert.ok(whole.length >= 5, `records before the kill: ${whole.length}`);
    for (const line of whole.slice(0, text.endsWith('\n') ? undefined : -1)) assert.ok(validateRecord(JSON.parse(line)));
    const again = spawnSync(process.execPath, [...args(records, 12), '--json'], { encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.ok(readFileSync(records, 'utf8').startsWith(text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1)), 'earlier records are untouched');
    const k = JSON.parse(again.stdout) as { resumed: number };
    assert.ok(k.resumed >= Math.min(12, whole.length - 1));
  });

  it('Ctrl-C stops after the candidate in flight, keeps every record and prints the best so far', async () => {
    const records = join(tmp(), 'r.jsonl');
    const child = spawn(process.execPath, args(records, 500), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !(existsSync(records) && readFileSync(records, 'utf8').split('\n').length > 4)) await new Promise((res) => setTimeout(res, 200));
    child.kill('SIGINT');
    const code = await new Promise((res) => child.once('exit', (c) => res(c)));
    assert.equal(code, 130);
    assert.match(out, /stopped by interrupted/);
    assert.match(out, /^best: record \w{12} \(measured by this run: flex, seed 1, trial \d+\), [\d.]+ GFLOP\/s, median .* as recorded; not re-measured \(interrupted\)$/m);
    const lines = readFileSync(records, 'utf8').trim().split('\n');
    assert.ok(lines.every((l) => validateRecord(JSON.parse(l))));
  });

  it('--early-abort off times every candidate in full', () => {
    const r = spawnSync(process.execPath, [...args(join(tmp(), 'r.jsonl'), 6), '--early-abort', 'off', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { earlyAborts: unknown }).earlyAborts, { count: 0, factors: [] });
  });

  it('bad input gets one line and exit 2', () => {
    for (const [extra, pattern] of [
      [['--strategy', 'genetic'], /unknown strategy 'genetic'; strategies: random, sa, q, flex/], [['--trials', '0'], /--trials given more than once \('5', '0'\)/],
      [['--model', 'maybe'], /--model must be on or off, got 'maybe'/], [['--starting-points', '-1'], /--starting-points must be an integer of at least 0/],
      [['--early-abort', '0.5'], /^loopsmith: --early-abort must be a factor of at least 1 or 'off', got '0\.5'$/m], [['--early-abort', 'never'], /--early-abort must be a factor .* got 'never'/],
    ] as const) {
      const r = spawnSync(process.execPath, [...args(join(tmp(), 'r.jsonl'), 5), ...extra], { encoding: 'utf8' });
      assert.equal(r.status, 2);
      assert.match(r.stderr, pattern);
    }
    const zero = spawnSync(process.execPath, args(join(tmp(), 'r.jsonl'), 0), { encoding: 'utf8' });
    assert.equal(zero.status, 2);
    assert.match(zero.stderr, /--trials must be an integer of at least 1, got '0'/);
  });
});
