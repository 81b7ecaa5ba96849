import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { structuralHash } from '../../ir/hash.js';
import { workload } from '../../ir/ops/index.js';
import { Program } from '../../ir/program.js';
import { Measurement } from '../../targets/measurement.js';
import { timingStats } from '../../targets/stats.js';
import { EvaluateOptions, Evaluator } from '../../tuner/evaluate.js';
import { parseRecord } from '../../tuner/record.js';
import { RecordStore } from '../../tuner/records.js';
import { tune } from '../../tuner/tune.js';

const W = workload('gemm', { m: 64, n: 64, k: 64 });
const FACTOR = 3;

/** Each program's cost from its hash (1 to 10 ms). */
const byHash = (h: string) => 1e-3 * (1 + (parseInt(h.slice(0, 6), 16) % 10));

/**
 * Like the pipeline, a cost beyond FACTOR x the best so far (given, then lowered within the batch)
 * comes back as one sample with the early-abort marker.
 */
class AbortingEvaluator implements Evaluator {
  readonly kind = 'c' as const;
  readonly fingerprint = { key: 'cpu:stub-abort', isa: 'avx512', compiler: 'gcc' };
  readonly spaceTarget = { kind: 'c', style: 'cpu' as const, lanes: 8, threads: 1, maxInvocations: 1, maxWorkgroupDim: [1, 1, 1] as const, maxWorkgroupBytes: 0 };
  readonly calls: { opts: EvaluateOptions; hashes: string[] }[] = [];
  readonly aborted = new Set<string>();
  private n = 0;
  constructor(private readonly cost: (hash: string, nth: number) => number = byHash) {}
  compatible(): boolean { return true; }
  async measure(programs: readonly Program[], _ref: unknown, opts: EvaluateOptions = {}) {
    const hashes = programs.map((p) => structuralHash(p));
    this.calls.push({ opts, hashes });
    let best = opts.bestSeconds;
    return hashes.map((h) => {
      const t = this.cost(h, this.n++);
      const one = (times: number[]) => ({ times, stats: timingStats(times), gflops: W.flops / timingStats(times).median / 1e9 });
      const stop = best !== undefined && t > FACTOR * best;
      if (stop) this.aborted.add(h);
      else if (best !== undefined) best = Math.min(best, t);
      const m: Measurement = stop ? { status: 'ok', ...one([t]), earlyAbort: { factor: FACTOR, bestSeconds: best! } } : { status: 'ok', ...one([t, t, t]) };
      return { measurement: m, codeHash: h, cached: false };
    });
  }
  async close(): Promise<void> {}
}

describe('tuner: early abort through the tuning loop', function () {
  this.timeout(120_000);

  it('the search gives the evaluator the best so far, records and counts the early aborts, and re-measures the fastest full measurements in full (the final round)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'loopsmith-abort-')), 'r.jsonl');
    const ev = new AbortingEvaluator();
    const r = await tune(W, ev, { strategy: 'random', trials: 40, seed: 5, records: new RecordStore(path), version: 'test', remeasure: true, earlyStopWindow: 1000 });
    const search = ev.calls.filter((c) => !c.opts.again), again = ev.calls.filter((c) => c.opts.again);
    assert.equal(search[0]!.opts.bestSeconds, Infinity, 'no best before the first kernel');
    const bests = search.map((c) => c.opts.bestSeconds!);
    assert.ok(bests.every((b, i) => Number.isFinite(b) || i === 0) && bests.every((b, i) => i === 0 || b <= bests[i - 1]!), `best so far never rises: ${bests.join(', ')}`);
    const outcomes = readFileSync(path, 'utf8').trim().split('\n').map((l) => parseRecord(JSON.parse(l))).map((x) => (typeof x === 'string' ? assert.fail(x) : x.outcome));
    const stopped = outcomes.filter((o) => o.earlyAbort);
    assert.ok(stopped.length > 0, 'the landscape has hopeless kernels');
    assert.ok(stopped.every((o) => o.times!.length === 1 && o.earlyAbort!.factor === FACTOR));
    assert.deepEqual(r.earlyAborts, { count: stopped.length, factors: [FACTOR] });
    assert.equal(r.failures.ok, undefined, 'an early abort is no failure');
    assert.equal(again.length, 3, 'the three fastest, measured again');
    assert.equal(r.finalRound.length, 3);
    assert.ok(r.finalRound.every((f) => !f.record.outcome.earlyAbort), 'finalists are full measurements');
    for (const c of again) {
      assert.equal(c.opts.bestSeconds, undefined, 're-measured without a best: in full');
    }
    assert.ok(r.best && !r.best.measurement.earlyAbort);
  });

  it('the final re-measure passes over kernels stopped early while a fully measured one exists', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'loopsmith-abort-')), 'r.jsonl');
    // The first kernel is fast; every later one is 5x slower and stopped early.
    const ev = new AbortingEvaluator((_, nth) => (nth === 0 ? 1e-3 : 5e-3));
    const r = await tune(W, ev, { strategy: 'random', trials: 8, seed: 2, records: new RecordStore(path), version: 'test', remeasure: true, earlyStopWindow: 1000 });
    assert.equal(r.earlyAborts.count, 7);
    const again = ev.calls.filter((c) => c.opts.again);
    assert.equal(again.length, 1, 'only the one full measurement, not the fastest aborted ones after it');
    assert.ok(!ev.aborted.has(again[0]!.hashes[0]!));
  });
});
