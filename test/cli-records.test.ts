import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordStore, TuningRecord, recordId } from '../tuner/records.js';
import { MeasureStatus } from '../targets/measurement.js';
import { assertBadInput, cli } from './cli.test.js';

/** FLOPs of the fixtures' workload: a record's GFLOP/s must be these over its median. */
const FLOPS = 2 * 8 * 8 * 8;

/** Each fixture id its own schedule (records of one trace are one kernel): a split of the 8×8×8 GEMM that replays. */
const SPLITS: Record<string, [string, number]> = { x: ['i', 2], y: ['j', 2], z: ['k', 2], w: ['i', 4], n: ['j', 4], o: ['k', 4] };
function ownSplit(id: string) {
  const [loop, factor] = SPLITS[id] ?? ['i', 8];
  return { prim: 'split' as const, loop, factors: [factor], tail: 'requireDivisible' as const };
}

function rec(id: string, gflops: number, status: MeasureStatus = 'ok', device = 'cpu:a'): TuningRecord {
  return {
    format: 1, id: recordId(id), workload: { key: 'gemm(k=8,m=8,n=8,transA=0,transB=0):f32', op: 'gemm', params: { m: 8, n: 8, k: 8 }, dtype: 'f32' },
    target: { kind: 'c', fingerprint: { key: device } }, trace: { version: 1, steps: [ownSplit(id)] }, traceHash: id,
    outcome: { status, gflops, median: FLOPS / gflops / 1e9 }, strategy: 'flex', seed: 1, trial: 0, timestamp: new Date(0).toISOString(), loopsmith: 'test',
  };
}

describe('cli: records', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-records-cli-'));
  const mine = join(dir, 'mine.jsonl'), theirs = join(dir, 'theirs.jsonl');
  const a = new RecordStore(mine);
  a.append(rec('x', 5));
  a.append(rec('y', 9));
  a.append(rec('z', 1e6, 'wrong_answer'));
  const b = new RecordStore(theirs);
  b.append(rec('y', 9));
  b.append(rec('w', 12, 'ok', 'cpu:b'));

  it('best shows one kernel per workload and device, never a failed one', () => {
    const j = JSON.parse(cli('records', 'best', '--records', mine, '--json').stdout) as TuningRecord[];
    assert.deepEqual(j.map((r) => r.outcome.gflops), [9]);
  });

  it('merge adds only records it does not have', () => {
    const r = cli('records', 'merge', theirs, '--records', mine);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /merged 1 new records/);
    assert.equal(new RecordStore(mine).load().records.length, 4);
  });

  it('export writes the best records only; prune drops failed ones and keeps a backup', () => {
    const out = join(dir, 'best.jsonl');
    assert.equal(cli('records', 'export', '--records', mine, '--out', out).code, 0);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 2);
    const before = readFileSync(mine);
    const r = cli('records', 'prune', '--records', mine);
    assert.match(r.stdout, /kept 3 of 4 records/);
    assert.equal(new RecordStore(`${mine}.bak`).load().records.length, 4);
    assert.ok(readFileSync(`${mine}.bak`).equals(before), 'the backup is the old file byte for byte');
  });

  it('prune keeps the lines it cannot read (a newer loopsmith\'s records), also when run twice, and prunes only --workload\'s', () => {
    const file = join(dir, 'prune.jsonl');
    const newer = JSON.stringify({ ...rec('n', 7), format: 2 });
    const other = { ...rec('o', 3, 'crash'), workload: { key: 'gemm(k=8,m=8,n=16,transA=0,transB=0):f32', op: 'gemm', params: { m: 8, n: 16, k: 8 }, dtype: 'f32' }, outcome: { status: 'crash' as const } };
    writeFileSync(file, [rec('x', 5), rec('z', 1e6, 'wrong_answer'), other].map((r) => JSON.stringify(r)).concat(newer).join('\n') + '\n');
    const first = cli('records', 'prune', '--records', file, '--workload', 'gemm(k=8,m=8,n=8,transA=0,transB=0):f32');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^kept 2 of 3 records \(dropped 1 failed\); kept 1 line it cannot read as it is; previous file saved as /);
    assert.equal(cli('records', 'prune', '--records', file).code, 0);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines, [JSON.stringify(rec('x', 5)), newer], 'the record of another loopsmith survives two prunes; the other workload\'s crash goes in the second');
  });

  it('a --workload no record has is said, with the workloads the file has (it looked like an empty history)', () => {
    const r = cli('records', 'list', '--records', mine, '--workload', 'gemm(k=8,m=8,n=8)');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `warning: ${mine} has no records of workload gemm(k=8,m=8,n=8); its workloads: gemm(k=8,m=8,n=8,transA=0,transB=0):f32\n`);
  });

  it('an unknown action is one line and exit 2', () => {
    assertBadInput(cli('records', 'shred', '--records', mine), /unknown records action 'shred'; actions: list, best, export, merge, prune/);
  });
});

describe('cli: compare', function () {
  this.timeout(120_000);
  it('measures schedules in the same run and tests the difference against the first', () => {
    const fixture = new URL('../../scheduler/fixtures/gemm-cpu-64.json', import.meta.url).pathname;
    const r = cli('compare', 'gemm', '--m', '64', '--n', '64', '--k', '64', '--schedules', 'naive', fixture, '--rounds', '4', '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { rows: { schedule: string; status: string; speedup: number; pValue?: number }[] };
    assert.equal(j.rows.length, 2);
    assert.ok(j.rows.every((x) => x.status === 'ok'));
    assert.equal(j.rows[0]!.speedup, 1);
    assert.ok(j.rows[1]!.pValue! >= 0 && j.rows[1]!.pValue! <= 1);
  });
  it('with too few rounds for p < 0.05 a clear difference is not called "within noise"', () => {
    // naive vs the expert schedule: 3x apart, but 3 rounds each give p = 0.1 at best.
    const fixture = new URL('../../scheduler/fixtures/gemm-cpu-64.json', import.meta.url).pathname;
    const r = cli('compare', 'gemm', '--m', '64', '--n', '64', '--k', '64', '--schedules', 'naive', fixture, '--rounds', '3', '--json');
    assert.equal(r.code, 0, r.stderr);
    const row = (JSON.parse(r.stdout) as { rows: { versus: string; significant?: boolean }[] }).rows[1]!;
    assert.match(row.versus, /^too few rounds to tell \(p=0\.100; p < 0\.05 needs more rounds\)$/);
    assert.equal(row.significant, undefined);
  });
  it('when the first schedule fails, the first that ran is the baseline, and the table says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopsmith-compare-'));
    // 2048 invocations per workgroup: over every WebGPU device's limit (lavapipe's is 1024), so the device refuses it.
    const over = join(dir, 'over.json');
    writeFileSync(over, JSON.stringify({ version: 1, steps: [{ prim: 'split', loop: 'i', factors: [2048], tail: 'requireDivisible' }, { prim: 'bind', loop: 'i.1', axis: 'thread.x' }] }));
    const shape = ['gemm', '--m', '2048', '--n', '4', '--k', '4', '--target', 'webgpu', '--schedules', over, 'default', 'default', '--rounds', '3'];
    const j = JSON.parse(cli('compare', ...shape, '--json').stdout) as { baseline: string; rows: { status: string; baseline?: boolean; versus: string; speedup?: number }[] };
    assert.equal(j.baseline, 'default');
    assert.deepEqual(j.rows.map((r) => r.status), ['rejected', 'ok', 'ok']);
    assert.deepEqual(j.rows.slice(0, 2).map((r) => r.versus), ['failed', 'baseline']);
    // Three rounds against three: no data reaches p < 0.05, so no verdict either way.
    assert.match(j.rows[2]!.versus, /^too few rounds to tell \(p=\d\.\d{3}; p < 0\.05 needs more rounds\)$/);
    assert.equal(j.rows[1]!.speedup, 1);
    const text = cli('compare', ...shape);
    assert.equal(text.code, 1, 'a schedule failed');
    assert.match(text.stdout, /note: the first schedule, .*over\.json, failed; speedups are over default/);
    assert.doesNotMatch(text.stdout.split('\n').filter((l) => l.startsWith('default')).slice(1).join('\n'), /baseline/, 'only one row is the baseline');
  });
  it('an unknown schedule is one line and exit 2', () => {
    assertBadInput(cli('compare', 'gemm', '--m', '8', '--n', '8', '--k', '8', '--schedules', 'naive', 'nonsense', '--records', join(mkdtempSync(join(tmpdir(), 'x-')), 'r.jsonl')), /schedule 'nonsense' is not a file, a record id/);
  });
});
