import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordsDb, TuningRecord, recordId, validateRecord } from '../../tuner/records.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'loopsmith-records-'));

function rec(trial: number, over: Partial<TuningRecord> = {}, gflops = 10 + trial, status = 'ok'): TuningRecord {
  return {
    format: 1, id: recordId('w', 'cpu:a', String(trial)),
    workload: { key: 'gemm(k=8,m=8,n=8,transA=0,transB=0):f32', op: 'gemm', params: { m: 8, n: 8, k: 8 }, dtype: 'f32' },
    target: { kind: 'c', fingerprint: { key: 'cpu:a', isa: 'avx512', compiler: 'gcc' } },
    trace: { version: 1, steps: [] }, traceHash: `h${trial}`,
    outcome: { status, median: 1 / gflops, gflops }, strategy: 'flex', seed: 1, trial, timestamp: new Date(0).toISOString(), loopsmith: 'test',
    ...over,
  };
}

describe('tuner: records database', () => {
  it('appends and loads records, creating the directory', () => {
    const path = join(tmp(), 'deep', 'dir', 'r.jsonl');
    const db = new RecordsDb(path);
    assert.deepEqual(db.load().records, []);
    db.append(rec(0));
    db.append(rec(1));
    const again = new RecordsDb(path).load();
    assert.equal(again.records.length, 2);
    assert.deepEqual(again.warnings, []);
    assert.ok(again.records.every(validateRecord));
  });

  it('never picks a failed or wrong kernel as best, however fast it claims to be', () => {
    const db = new RecordsDb(join(tmp(), 'r.jsonl'));
    db.append(rec(0, {}, 5));
    db.append(rec(1, {}, 1e9, 'wrong_answer'));
    db.append(rec(2, {}, 7));
    assert.equal(db.best(rec(0).workload.key, 'cpu:a')!.trial, 2);
  });

  it('skips a torn last line with a warning, and the next append loses nothing', () => {
    const path = join(tmp(), 'r.jsonl');
    const db = new RecordsDb(path);
    db.append(rec(0));
    db.append(rec(1));
    const whole = JSON.stringify(rec(2));
    appendFileSync(path, whole.slice(0, whole.length / 2));
    const loaded = new RecordsDb(path).load();
    assert.equal(loaded.records.length, 2);
    assert.match(loaded.warnings[0]!, /last line is torn/);
    const db2 = new RecordsDb(path);
    db2.append(rec(3));
    const after = new RecordsDb(path).load();
    assert.deepEqual(after.records.map((r) => r.trial), [0, 1, 3]);
    assert.equal(after.warnings.length, 1, 'the torn line stays skipped');
  });

  it('skips a malformed line in the middle, naming it', () => {
    const path = join(tmp(), 'r.jsonl');
    writeFileSync(path, `${JSON.stringify(rec(0))}\n{"format": 1, "nonsense": true}\nnot json\n${JSON.stringify(rec(3))}\n`);
    const loaded = new RecordsDb(path).load();
    assert.deepEqual(loaded.records.map((r) => r.trial), [0, 3]);
    assert.match(loaded.warnings.join(' '), /line 2 is not a tuning record/);
    assert.match(loaded.warnings.join(' '), /line 3 is not JSON/);
  });

  it('falls back to a compatible device when this one has no records, and says so', () => {
    const db = new RecordsDb(join(tmp(), 'r.jsonl'));
    db.append(rec(0, { target: { kind: 'c', fingerprint: { key: 'cpu:other', isa: 'avx512', compiler: 'gcc' } } }));
    const key = rec(0).workload.key;
    const hit = db.bestWithFallback(key, { kind: 'c', key: 'cpu:mine' }, (f) => f.isa === 'avx512');
    assert.equal(hit!.match, 'compatible');
    assert.equal(db.bestWithFallback(key, { kind: 'c', key: 'cpu:mine' }, (f) => f.isa === 'neon'), undefined);
    db.append(rec(1, { target: { kind: 'c', fingerprint: { key: 'cpu:mine', isa: 'avx512', compiler: 'gcc' } } }));
    assert.equal(db.bestWithFallback(key, { kind: 'c', key: 'cpu:mine' }, () => true)!.match, 'exact');
  });

  it('a missing file is an empty database', () => {
    const path = join(tmp(), 'none.jsonl');
    assert.deepEqual(new RecordsDb(path).load().records, []);
    assert.ok(!existsSync(path));
  });
});
