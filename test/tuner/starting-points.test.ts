import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { structuralHash } from '../../ir/hash.js';
import { Workload, lowerWorkload, workload } from '../../ir/ops/index.js';
import { Program } from '../../ir/program.js';
import { renderC } from '../../codegen/c/render.js';
import { lowerForCodegen } from '../../codegen/lower.js';
import { assertSameResults } from '../scheduler/helpers.js';
import { applyTrace } from '../../scheduler/apply.js';
import { expertCpuGemm } from '../../scheduler/expert.js';
import { vectorUnitFor } from '../../scheduler/vector-unit.js';
import { Measurement } from '../../targets/measurement.js';
import { timingStats } from '../../targets/stats.js';
import { Evaluator } from '../../tuner/evaluate.js';
import { parseRecord } from '../../tuner/record.js';
import { RecordStore } from '../../tuner/records.js';
import { ScheduleSpace, traceHash } from '../../tuner/space.js';
import { projectPoint, shapeDistance, startingPoints } from '../../tuner/starting-points.js';
import { tune } from '../../tuner/tune.js';

const CPU = { kind: 'c', style: 'cpu' as const, lanes: 8, threads: 1, maxInvocations: 1, maxWorkgroupDim: [1, 1, 1] as const, maxWorkgroupBytes: 0 };

/** Costs from a hash of the program (1 to 10 ms): a landscape without a device. */
class StubEvaluator implements Evaluator {
  readonly kind = 'c' as const;
  readonly spaceTarget = CPU;
  readonly measured: string[] = [];
  constructor(readonly fingerprint: { key: string } = { key: 'cpu:stub-start' }) {}
  compatible(): boolean {
    return true;
  }
  async measure(programs: readonly Program[], ref: { flops: number }) {
    return programs.map((p) => {
      const h = structuralHash(p);
      this.measured.push(h);
      const t = 1e-3 * (1 + (parseInt(h.slice(0, 6), 16) % 10));
      const m: Measurement = { status: 'ok', times: [t, t, t], stats: timingStats([t, t, t]), gflops: ref.flops / t / 1e9 };
      return { measurement: m, codeHash: h, cached: false };
    });
  }
  async close(): Promise<void> {}
}

const records = () => new RecordStore(join(mkdtempSync(join(tmpdir(), 'loopsmith-start-')), 'r.jsonl'));
const lines = (db: RecordStore) => readFileSync(db.path, 'utf8').trim().split('\n').map((l) => parseRecord(JSON.parse(l))).map((r) => (typeof r === 'string' ? assert.fail(r) : r));
const opts = (db: RecordStore, extra: object = {}) => ({ strategy: 'random' as const, trials: 12, seed: 3, records: db, version: 'test', remeasure: false, earlyStopWindow: 1000, ...extra });

describe('tuner: starting points', function () {
  this.timeout(120_000);

  it('the expert schedule is measured first, as the first trial, and counts against the budget', async () => {
    const w = workload('gemm', { m: 64, n: 64, k: 64 });
    const db = records();
    const r = await tune(w, new StubEvaluator(), opts(db));
    assert.equal(r.started[0]!.label, 'expert CPU GEMM');
    const first = lines(db)[0]!;
    assert.equal(first.trial, 0);
    assert.equal(traceHash(first.trace), traceHash(expertCpuGemm(64, 64, 64, w.key, vectorUnitFor(CPU.lanes))));
    assert.equal(r.trials, 12);
  });

  it('--starting-points 0 measures none of them', async () => {
    const w = workload('gemm', { m: 64, n: 64, k: 64 });
    const db = records();
    const r = await tune(w, new StubEvaluator(), opts(db, { startingPoints: 0 }));
    assert.deepEqual(r.started, []);
    assert.ok(lines(db).every((x) => traceHash(x.trace) !== traceHash(expertCpuGemm(64, 64, 64, w.key, vectorUnitFor(CPU.lanes)))));
  });

  it('a tune of a new shape starts from the best records of the nearest shape, carried onto it, and the strategy continues from them', async () => {
    const db = records();
    const ev = new StubEvaluator();
    await tune(workload('gemm', { m: 64, n: 64, k: 64 }), ev, opts(db, { trials: 20 }));
    const far = workload('gemm', { m: 512, n: 8, k: 8 });
    await tune(far, ev, opts(db, { trials: 6, startingPoints: 0 }));
    const w: Workload = workload('gemm', { m: 96, n: 64, k: 48 });
    const r = await tune(w, ev, opts(db));
    const carried = r.started.filter((s) => s.label.startsWith('best of '));
    assert.ok(carried.length >= 2, r.started.map((s) => s.label).join('; '));
    assert.match(carried[0]!.label, /^best of gemm\(k=64,m=64,n=64,.*\):f32 on this device$/, `the nearest shape comes first: ${carried.map((s) => s.label).join('; ')}`);
    const space = new ScheduleSpace(lowerWorkload(w), CPU);
    const mine = lines(db).filter((x) => x.workload.key === w.key);
    const fromOthers = mine.slice(0, r.started.length).filter((x) => x.point);
    assert.ok(fromOthers.length >= 2 && fromOthers.every((x) => space.contains(x.point!)), 'carried points are points of the new space, recorded with them');
  });

  it('a 1-thread record carried to 2 threads gets the parallel loop the space adds on more threads; a record of this device stays as it is', async () => {
    const db = records();
    const w = workload('gemm', { m: 64, n: 64, k: 64 });
    await tune(w, new StubEvaluator({ key: 'cpu:one-thread' }), opts(db, { trials: 10, startingPoints: 0 }));
    const base = lowerWorkload(w);
    const two = new ScheduleSpace(base, { ...CPU, threads: 2 });
    const parallel = (t: { steps: readonly { prim: string }[] }) => t.steps.some((x) => x.prim === 'parallel');
    assert.ok(lines(db).every((r) => !parallel(r.trace)), 'no parallel loop on one thread');
    const carried = startingPoints({ workload: w, base, space: two, records: db, kind: 'c', fingerprintKey: 'cpu:two-threads' }).filter((s) => s.label.startsWith('best of '));
    assert.ok(carried.length > 0);
    assert.ok(carried.every((s) => s.point?.parallel === 1 && parallel(s.trace)), carried.map((s) => s.label).join('; '));
    const own = startingPoints({ workload: w, base, space: two, records: db, kind: 'c', fingerprintKey: 'cpu:one-thread' }).filter((s) => s.label.startsWith('best of '));
    assert.ok(own.every((s) => !parallel(s.trace)), 'this device\'s records are carried as they are');
  });

  it('a point of another shape is carried onto the nearest divisors, and kept only where the space has it', () => {
    const from = new ScheduleSpace(lowerWorkload(workload('gemm', { m: 64, n: 64, k: 64 })), CPU);
    const to = new ScheduleSpace(lowerWorkload(workload('gemm', { m: 96, n: 60, k: 48 })), CPU);
    let r = 1;
    const rand = () => ((r = (r * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 50; i++) {
      const p = from.sample(rand);
      const q = projectPoint(to, p);
      if (!q) continue;
      assert.ok(to.contains(q));
      assert.deepEqual(q.order, p.order);
      for (const a of to.axes) assert.equal(a.extent % q.factors[a.name]!.reduce((x, y) => x * y, 1), 0);
    }
    assert.equal(shapeDistance({ m: 64, n: 64 }, { m: 64, n: 64 }), 0);
    assert.ok(shapeDistance({ m: 64, n: 64 }, { m: 128, n: 64 }) < shapeDistance({ m: 64, n: 64 }, { m: 512, n: 64 }));
  });

  it('on a GPU space the default schedule comes first, then both expert GEMMs', () => {
    const w = workload('gemm', { m: 64, n: 64, k: 64 });
    const gpu = { kind: 'webgpu', style: 'gpu' as const, lanes: 1, threads: 1, maxInvocations: 256, maxWorkgroupDim: [256, 256, 64] as const, maxWorkgroupBytes: 16384 };
    const base = lowerWorkload(w);
    const sps = startingPoints({ workload: w, base, space: new ScheduleSpace(base, gpu), records: records(), kind: 'webgpu', fingerprintKey: 'gpu:x', defaultTrace: { version: 1, steps: [{ prim: 'bind', loop: 'i', axis: 'workgroup.x' }] } as never });
    assert.deepEqual(sps.map((s) => s.label), ['default schedule', 'expert GPU GEMM (register tiles)', 'expert GPU GEMM (workgroup tiles)']);
  });

  it('the channel-vectorized conv2d expert comes with its point, so the search continues from it; a padded-run expert, which the space cannot express, without', () => {
    const avx2 = { ...CPU, vectorRegisters: 16, threads: 2 };
    const start = (params: Record<string, number>) => {
      const w = workload('conv2d', params);
      const base = lowerWorkload(w);
      const space = new ScheduleSpace(base, avx2);
      const [sp] = startingPoints({ workload: w, base, space, records: records(), kind: 'c', fingerprintKey: 'cpu:x' });
      return { w, base, space, sp: sp! };
    };
    const { w, base, space, sp } = start({ n: 1, c: 8, h: 7, w: 28, k: 32, kh: 3, kw: 3, pad: 1 });
    assert.equal(sp.label, 'expert CPU conv2d');
    assert.ok(sp.point && space.contains(sp.point), 'the expert has a point of the space');
    assert.deepEqual(sp.point.factors.k, [1, 8]);
    assert.deepEqual(sp.point.factors.ow, [1, 7]);
    // The point's trace is the expert's schedule: the same register tile and updates, the same result.
    const fromPoint = applyTrace(base, space.toTrace(sp.point, w.key)), fromExpert = applyTrace(base, sp.trace);
    assertSameResults(base, fromPoint);
    const kernel = (p: Program) => {
      const c = renderC(lowerForCodegen(p)).source;
      return { tile: c.match(/register tile Y\.local: (\S+)/)?.[1], updates: c.match(/\+ ls_splat\d+\(X_packed\[[^\]]+\]\) \* ls_load\d+\(&W_packed\[/g)?.length, packs: c.match(/\/\* [XW]\.packed: \S+/g) };
    };
    assert.deepEqual(kernel(fromPoint), kernel(fromExpert));
    assert.equal(kernel(fromPoint).tile, '1x1x7x8');
    assert.equal(start({ n: 1, c: 8, h: 5, w: 13, k: 16, kh: 3, kw: 3, pad: 1 }).sp.point, undefined, '13 columns as padded runs of 7');
  });

  it('a resumed run does not measure its starting points again', async () => {
    const w = workload('gemm', { m: 64, n: 64, k: 64 });
    const db = records();
    await tune(w, new StubEvaluator(), opts(db, { trials: 6 }));
    const ev = new StubEvaluator();
    const r = await tune(w, ev, opts(db, { trials: 10 }));
    assert.equal(r.resumed, 6);
    assert.deepEqual(r.started, []);
    assert.equal(ev.measured.length, 4);
  });
});
