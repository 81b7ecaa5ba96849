import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workload } from '../ir/ops/index.js';
import { RecordStore, TuningRecord } from '../tuner/records.js';
import { cli } from './cli.test.js';

const GEMM = ['gemm', '--m', '16', '--n', '16', '--k', '16'];
const FLOPS = workload('gemm', { m: 16, n: 16, k: 16 }).flops;

/** emit, compare and `records best` take the best record that is valid: a faster invalid one gives way to the next. */
describe('cli: invalid records never become best', function () {
  this.timeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-fallback-'));
  const records = join(dir, 'r.jsonl');
  let best: TuningRecord;

  before(() => {
    const r = cli('tune', ...GEMM, '--trials', '6', '--min-time', '0.01', '--records', records);
    assert.equal(r.code, 0, r.stderr);
    best = new RecordStore(records).best(`gemm(k=16,m=16,n=16,transA=0,transB=0):f32`, new RecordStore(records).load().records[0]!.target.fingerprint.key)!;
    // Twice as fast (within what the CPU could do: far faster is implausible, tested apart), consistent
    // with its median, but one step of its trace names a loop the workload does not have.
    const median = best.outcome.median! / 2;
    const noReplay = { ...best, id: 'forgedtrace0', trace: { ...best.trace, steps: [...best.trace.steps, { prim: 'unroll', loop: 'nowhere' }] }, outcome: { status: 'ok', times: [median], median, gflops: FLOPS / median / 1e9 } };
    // Its time unchanged, its rate claimed 100 times higher.
    const inconsistent = { ...best, id: 'forgedrate00', outcome: { ...best.outcome, gflops: best.outcome.gflops! * 100 } };
    appendFileSync(records, `${JSON.stringify(noReplay)}\n${JSON.stringify(inconsistent)}\n`);
  });

  const warned = (stderr: string) => {
    assert.match(stderr, /skipped 1 invalid line: line \d+ is not a tuning record \(outcome\.gflops .* is not the workload's/);
    assert.match(stderr, /skipped 1 record whose trace does not replay onto its workload: record forgedtrace0 \(.*nowhere/);
    assert.equal(stderr.split('\n').filter((l) => l.includes('forgedtrace0')).length, 1, 'reported once');
  };

  it('emit uses the next valid record', () => {
    const r = cli('emit', ...GEMM, '--lang', 'c', '--out', join(dir, 'out'), '--records', records, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.match((JSON.parse(r.stdout) as { origin: string }).origin, new RegExp(`^record ${best.id},`));
    assert.match(readFileSync(join(dir, 'out', 'gemm.c'), 'utf8'), new RegExp(best.traceHash));
    warned(r.stderr);
  });

  it('compare measures the next valid record as best', () => {
    const r = cli('compare', ...GEMM, '--schedules', 'naive', 'best', '--rounds', '3', '--records', records, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { rows: { status: string }[] }).rows.map((x) => x.status), ['ok', 'ok']);
    warned(r.stderr);
  });

  it('compare names an invalid record it is asked for, in one line', () => {
    const r = cli('compare', ...GEMM, '--schedules', 'naive', 'forgedtrace0', '--rounds', '3', '--records', records);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr.trimEnd().split('\n').at(-1)!, /^loopsmith: record forgedtrace0 in .*r\.jsonl is invalid: its trace does not replay onto gemm\(k=16.*nowhere/);
  });

  it('records best leaves it out', () => {
    const r = cli('records', 'best', '--records', records, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as TuningRecord[]).map((x) => x.id), [best.id]);
    warned(r.stderr);
  });
});
