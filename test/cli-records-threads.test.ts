import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordStore, TuningRecord } from '../tuner/records.js';
import { cli } from './cli.test.js';

const GEMM = ['gemm', '--m', '16', '--n', '16', '--k', '16'];
const KEY = 'gemm(k=16,m=16,n=16,transA=0,transB=0):f32';

/**
 * A record says what it was measured under: the thread count is part of the device. The tune
 * summary, `records best` and `emit` name one best record per device and thread count, and a
 * tune's resume line counts this device's valid records only.
 */
describe('cli: records per device and thread count, one best', function () {
  this.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-threads-'));
  const records = join(dir, 'r.jsonl');
  const tune = (trials: number, ...more: string[]) => cli('tune', ...GEMM, '--strategy', 'random', '--trials', String(trials), '--min-time', '0.01', '--records', records, ...more);
  const bestOf = (key: string) => {
    const r = cli('records', 'best', '--records', records, '--json');
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as TuningRecord[]).filter((x) => x.workload.key === KEY && x.target.fingerprint.key === key).map((x) => x.id);
  };
  const emitted = (...more: string[]) => {
    const r = cli('emit', ...GEMM, '--lang', 'c', '--out', join(dir, 'out'), '--records', records, '--json', ...more);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { record: string | null }).record;
  };
  let oneThread = '', twoThreads = '';

  it('a 1-thread tune does not resume from 2-thread records or an invalid line; its best is the one records best and emit name', () => {
    const two = tune(4, '--threads', '2', '--json');
    assert.equal(two.code, 0, two.stderr);
    twoThreads = (JSON.parse(two.stdout) as { fingerprint: { key: string } }).fingerprint.key;
    appendFileSync(records, 'not a record\n');
    const one = tune(4, '--json');
    assert.equal(one.code, 0, one.stderr);
    assert.doesNotMatch(one.stderr, /resuming/, 'no record of this device yet');
    const j = JSON.parse(one.stdout) as { recordsBefore: number; fingerprint: { key: string; threads: number }; best: { recordId: string } };
    oneThread = j.fingerprint.key;
    assert.equal(j.fingerprint.threads, 1);
    assert.notEqual(oneThread, twoThreads, 'one CPU at two thread counts is two devices');
    assert.equal(j.recordsBefore, 0);
    assert.deepEqual(bestOf(oneThread), [j.best.recordId]);
    assert.equal(emitted(), j.best.recordId);
    assert.deepEqual(bestOf(twoThreads).length, 1);
    assert.equal(emitted('--threads', '2'), bestOf(twoThreads)[0], 'emit --threads 2 takes the 2-thread record');
  });

  it('records an older loopsmith wrote (no threads in the fingerprint) are this CPU\'s at one thread: the resume line counts them, and the summary names the best', () => {
    // As loopsmith wrote them before the thread count was part of the fingerprint: same key, no field.
    const lines = readFileSync(records, 'utf8').split('\n').map((l) => {
      if (!l.startsWith('{')) return l;
      const r = JSON.parse(l) as { target: { fingerprint: Record<string, unknown> } };
      if (r.target.fingerprint.threads === 1) delete r.target.fingerprint.threads;
      return JSON.stringify(r);
    });
    writeFileSync(records, lines.join('\n'));
    const mine = new RecordStore(records).forWorkload(KEY, oneThread).length;
    assert.ok(mine >= 4 && new RecordStore(records).load().records.length > mine, 'the file holds other records too');
    const r = tune(6);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^resuming: ${mine} records of ${KEY.replace(/[()]/g, '\\$&')} on this device \\(.*, 1 thread\\) in .*r\\.jsonl$`, 'm'));
    assert.match(r.stderr, /skipped 1 invalid line/);
    const summary = /^best: record (\w{12}) /m.exec(r.stdout);
    assert.ok(summary, r.stdout);
    assert.deepEqual(bestOf(oneThread), [summary[1]!]);
    assert.equal(emitted(), summary[1]);
    const list = cli('records', 'list', '--records', records);
    assert.match(list.stdout, /^id +workload +device +threads +strategy/);
    assert.match(list.stdout, new RegExp(`${twoThreads} +2 +random`));
  });
});
