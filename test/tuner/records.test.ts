import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RECORDS_PATH, IMPLAUSIBLE_MARGIN, RecordStore, RecordsFileError, TuningRecord, loopsmithVersion, recordId, validateRecord } from '../../tuner/records.js';
import { deviceLabel, measuredThreads } from '../../tuner/devices.js';
import { MEASURE_STATUSES, MeasureStatus } from '../../targets/measurement.js';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { measurementOf, outcomeOf, parseRecord } from '../../tuner/record.js';
import { timingStats } from '../../targets/stats.js';
import { CTarget } from '../../targets/c/target.js';
import { ScheduleSpace, traceHash } from '../../tuner/space.js';
import type { Step } from '../../scheduler/trace.js';
import { diskFullAfter } from '../full-disk.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'loopsmith-records-'));
const WORKLOAD = 'gemm(k=8,m=8,n=8,transA=0,transB=0):f32';
/** FLOPs of WORKLOAD: a record's GFLOP/s must be these over its median. */
const FLOPS = 2 * 8 * 8 * 8;

/** A schedule of its own for each trial up to 9 (records of one schedule stand together: RecordStore.fastestFirst). */
function scheduleOf(trial: number): Step[] {
  const split = (loop: string, f: number): Step => ({ prim: 'split', loop, factors: [f], tail: 'requireDivisible' });
  const each: Step[][] = [[], [split('i', 2)], [split('i', 4)], [split('j', 2)], [split('j', 4)], [split('k', 2)], [split('k', 4)],
    [split('i', 2), split('j', 2)], [split('i', 2), split('k', 2)], [split('j', 2), split('k', 2)]];
  return each[trial % each.length]!;
}

function rec(trial: number, over: Partial<TuningRecord> = {}, gflops = 10 + trial, status: MeasureStatus = 'ok'): TuningRecord {
  const timestamp = new Date(trial * 1000).toISOString();
  return {
    format: 1, id: recordId(WORKLOAD, 'cpu:a', `h${trial}`, String(trial), timestamp),
    workload: { key: WORKLOAD, op: 'gemm', params: { m: 8, n: 8, k: 8 }, dtype: 'f32' },
    target: { kind: 'c', fingerprint: { key: 'cpu:a', isa: 'avx512', compiler: 'gcc' } },
    trace: { version: 1, steps: scheduleOf(trial) }, traceHash: `h${trial}`,
    outcome: { status, median: FLOPS / gflops / 1e9, gflops }, strategy: 'flex', seed: 1, trial, timestamp, loopsmith: 'test',
    ...over,
  };
}

const POINT = { factors: { i: [2, 4], j: [6, 2], k: [1] }, order: ['i.0', 'j.0', 'k.0', 'i.1', 'k.1', 'i.2', 'j.1', 'j.2'], unroll: 1, vectorize: 0, parallel: 1, cacheWrite: 1, cacheRead: { A: 0, B: 0 } };
/** A record line as loopsmith 0.1.0 wrote it, before records were parsed on load. */
const OLD_LINE = '{"format":1,"id":"0123456789ab","workload":{"key":"gemm(k=6,m=8,n=12,transA=0,transB=0):f32","op":"gemm","params":{"m":8,"n":12,"k":6,"transA":0,"transB":0},"dtype":"f32"},"target":{"kind":"c","fingerprint":{"key":"cpu:old","isa":"avx2","compiler":"gcc 12"}},"trace":{"version":1,"workload":"gemm(k=6,m=8,n=12,transA=0,transB=0):f32","steps":[{"prim":"split","loop":"i","factors":[2,4],"tail":"requireDivisible"},{"prim":"split","loop":"j","factors":[6,2],"tail":"requireDivisible"},{"prim":"split","loop":"k","factors":[1],"tail":"requireDivisible"},{"prim":"reorder","loops":["i.0","j.0","k.0","i.1","k.1","i.2","j.1","j.2"]},{"prim":"cacheWrite","buffer":"C","scope":"local","at":"k.1"},{"prim":"unroll","loop":"j.2"}]},"traceHash":"66b597f8b5260808","point":{"factors":{"i":[2,4],"j":[6,2],"k":[1]},"order":["i.0","j.0","k.0","i.1","k.1","i.2","j.1","j.2"],"unroll":1,"vectorize":0,"parallel":1,"cacheWrite":1,"cacheRead":{"A":0,"B":0}},"outcome":{"status":"ok","times":[0.001,0.0011,0.0009],"median":0.001,"spread":0.1,"gflops":0.001152},"strategy":"flex","seed":1,"trial":0,"timestamp":"2024-01-01T00:00:00.000Z","loopsmith":"0.1.0"}';

/** Lines of the file: whole ones, and the torn tail if the file does not end with '\n'. */
function lines(path: string): { whole: string[]; torn: string | undefined } {
  const parts = readFileSync(path, 'utf8').split('\n');
  const tail = parts.pop()!;
  return { whole: parts, torn: tail === '' ? undefined : tail };
}

describe('tuner: records database', () => {
  it('has a stable 12-hex id, a default path and the package version', () => {
    assert.match(recordId('a', 'b'), /^[0-9a-f]{12}$/);
    assert.equal(recordId('a', 'b'), recordId('a', 'b'));
    assert.notEqual(recordId('a', 'b'), recordId('ab'));
    assert.equal(DEFAULT_RECORDS_PATH, '.loopsmith/records.jsonl');
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(loopsmithVersion(), pkg.version);
  });

  it('validates the structure of a record', () => {
    assert.ok(validateRecord(rec(0)));
    assert.ok(validateRecord(JSON.parse(JSON.stringify(rec(0)))));
    const broken: unknown[] = [
      null, [], 'x', { ...rec(0), format: 2 }, { ...rec(0), id: 7 },
      { ...rec(0), workload: { key: 'k', op: 'gemm', dtype: 'f32' } },
      { ...rec(0), target: { kind: '', fingerprint: { key: 'x' } } },
      { ...rec(0), target: { kind: 'c', fingerprint: {} } },
      { ...rec(0), outcome: { gflops: 3 } }, { ...rec(0), outcome: { status: 'ok', gflops: '3' } },
      { ...rec(0), trial: 1.5 }, { ...rec(0), loopsmith: undefined },
    ];
    for (const b of broken) assert.equal(validateRecord(b), false, JSON.stringify(b));
  });

  it('appends and loads records, creating the parent directories', () => {
    const path = join(tmp(), 'deep', 'dir', 'r.jsonl');
    const db = new RecordStore(path);
    assert.equal(db.path, path);
    db.append(rec(0));
    db.append(rec(1));
    assert.deepEqual(db.load().records.map((r) => r.trial), [0, 1], 'append before load does not double-count');
    const again = new RecordStore(path).load();
    assert.deepEqual(again.records, [rec(0), rec(1)]);
    assert.deepEqual(again.warnings, []);
    assert.deepEqual(lines(path).whole.map((l) => JSON.parse(l)), [rec(0), rec(1)]);
    assert.equal(lines(path).torn, undefined);
  });

  it('caches the loaded records and adds appends to the cache', () => {
    const path = join(tmp(), 'r.jsonl');
    const db = new RecordStore(path);
    db.append(rec(0));
    assert.equal(db.load().records.length, 1);
    appendFileSync(path, JSON.stringify(rec(5)) + '\n'); // another writer: not seen by this instance's cache
    db.append(rec(1));
    assert.deepEqual(db.forWorkload(WORKLOAD, 'cpu:a').map((r) => r.trial), [0, 1]);
    assert.deepEqual(new RecordStore(path).load().records.map((r) => r.trial), [0, 5, 1]);
  });

  it('never picks a failed or wrong kernel as best, however fast it claims to be', () => {
    const db = new RecordStore(join(tmp(), 'r.jsonl'));
    assert.equal(db.best(WORKLOAD, 'cpu:a'), undefined);
    db.append(rec(0, {}, 5));
    db.append(rec(1, {}, 1e9, 'wrong_answer'));
    db.append(rec(2, {}, 7));
    db.append(rec(3, {}, 1e12, 'compile_error'));
    db.append(rec(4, {}, 6));
    db.append(rec(5, { target: { kind: 'c', fingerprint: { key: 'cpu:b' } } }, 100));
    assert.equal(db.best(WORKLOAD, 'cpu:a')!.trial, 2);
    assert.equal(db.best(WORKLOAD, 'cpu:b')!.trial, 5);
    assert.equal(db.best('other', 'cpu:a'), undefined);
    assert.deepEqual(db.forWorkload(WORKLOAD, 'cpu:a').map((r) => r.trial), [0, 1, 2, 3, 4]);
  });

  it('only wrong answers: no best at all', () => {
    const db = new RecordStore(join(tmp(), 'r.jsonl'));
    db.append(rec(0, {}, 1e9, 'wrong_answer'));
    db.append(rec(1, {}, 1e9, 'run_timeout'));
    assert.equal(db.best(WORKLOAD, 'cpu:a'), undefined);
    assert.equal(db.bestWithFallback(WORKLOAD, { kind: 'c', key: 'cpu:a' }, () => true), undefined);
  });

  it('skips a torn last line (cut half-way) with a warning, and the next append loses nothing', () => {
    const path = join(tmp(), 'r.jsonl');
    const db = new RecordStore(path);
    db.append(rec(0));
    db.append(rec(1));
    const whole = JSON.stringify(rec(2));
    appendFileSync(path, whole.slice(0, Math.floor(whole.length / 2)));
    const loaded = new RecordStore(path).load();
    assert.deepEqual(loaded.records.map((r) => r.trial), [0, 1]);
    assert.equal(loaded.warnings.length, 1);
    assert.match(loaded.warnings[0]!, /last line is torn \(line 3/);
    const db2 = new RecordStore(path);
    db2.append(rec(3));
    const { whole: ls, torn } = lines(path);
    assert.equal(torn, undefined);
    assert.equal(ls.length, 4);
    assert.ok(validateRecord(JSON.parse(ls[3]!)), 'the new record starts on its own line');
    const after = new RecordStore(path).load();
    assert.deepEqual(after.records.map((r) => r.trial), [0, 1, 3]);
    assert.equal(after.warnings.length, 1, 'the torn line stays skipped');
    assert.match(after.warnings[0]!, /line 3 is not JSON/);
  });

  it('skips a complete record with no line end as torn; once ended by the next append it counts', () => {
    const path = join(tmp(), 'r.jsonl');
    const db = new RecordStore(path);
    db.append(rec(0));
    appendFileSync(path, JSON.stringify(rec(1)));
    const loaded = new RecordStore(path).load();
    assert.deepEqual(loaded.records.map((r) => r.trial), [0]);
    assert.match(loaded.warnings.join(' '), /last line is torn/);
    new RecordStore(path).append(rec(2));
    const after = new RecordStore(path).load();
    assert.deepEqual(after.records.map((r) => r.trial), [0, 1, 2]);
    assert.deepEqual(after.warnings, []);
  });

  it('skips invalid lines in the middle with one warning that counts them and names the first few', () => {
    const path = join(tmp(), 'r.jsonl');
    const bad = [
      '{"format": 1, "nonsense": true}', 'not json', JSON.stringify({ ...rec(2), outcome: { status: 'fast', median: 1 } }),
      JSON.stringify({ ...rec(3), trace: { version: 1, steps: [{ prim: 'spin', loop: 'i' }] } }),
      JSON.stringify({ ...rec(4), point: { factors: { i: ['x'] } } }),
    ];
    writeFileSync(path, `${JSON.stringify(rec(0))}\n${bad.join('\n')}\n\n${JSON.stringify(rec(9))}\n`);
    const loaded = new RecordStore(path).load();
    assert.deepEqual(loaded.records.map((r) => r.trial), [0, 9]);
    assert.equal(loaded.invalid, 5);
    assert.equal(loaded.warnings.length, 1, loaded.warnings.join('\n'));
    const [w] = loaded.warnings;
    assert.match(w!, /skipped 5 invalid lines: line 2 is not a tuning record \(.*\); line 3 is not JSON; line 4 is not a tuning record \(outcome\.status: must be one of ok, .*, got "fast"\); and 2 more$/);
    assert.ok(!w!.includes('\n'));
  });

  it('checks what a record holds: a known status, a trace that parses for its workload, a typed point, a time for ok', () => {
    const problems: [unknown, RegExp][] = [
      [{ ...rec(0), outcome: { status: 'timeout' } }, /^outcome\.status: must be one of ok, rejected, .*, got "timeout"$/],
      [{ ...rec(0), trace: { version: 7, steps: [] } }, /^trace: schedule version: 7 is not supported/],
      [{ ...rec(0), trace: { version: 1, workload: 'gemv(k=1,m=1):f32', steps: [] } }, /its trace is for gemv/],
      [{ ...rec(0), point: { ...POINT, vectorize: 2 } }, /point\.vectorize/],
      [{ ...rec(0), outcome: { status: 'ok', gflops: 5 } }, /an ok outcome needs a positive median/],
      [{ ...rec(0), outcome: { status: 'ok', median: 1, times: [1, -1] } }, /outcome\.times/],
      // A median edited by hand (halved, its times left as they were) would rank the record by a time it never ran in.
      [{ ...rec(0), outcome: { status: 'ok', median: 0.5, times: [1, 1.5, 1] } }, /^outcome\.median: 0\.5 is not the median of its 3 times \(1\)$/],
      [{ ...rec(0), outcom: rec(0).outcome }, /unknown field `outcom`; did you mean `outcome`\?/],
      [{ ...rec(0), seed: 2 ** 53 + 2 }, /^seed: must be a safe integer/],
      [{ ...rec(0), workload: { ...rec(0).workload, params: { ...rec(0).workload.params, m: 2.5 } } }, /^workload\.params\.m: must be an integer, got 2\.5/],
      [[], /^must be an object, got \[\]/],
    ];
    for (const [raw, pattern] of problems) assert.match(String(parseRecord(raw)), pattern);
    for (const status of MEASURE_STATUSES) assert.equal(typeof parseRecord({ ...rec(0), outcome: { status, median: 1 } }), 'object', status);
    const r = parseRecord({ ...rec(0), point: POINT });
    assert.ok(typeof r === 'object' && r.point?.order[0] === 'i.0' && r.trace.steps.length === 0);
  });

  it('a C record whose fingerprint key is not its fields\' (threads 2 under the 1-thread key) is not a record', () => {
    const one = JSON.parse(JSON.stringify(new CTarget({}, { threads: 1 }).fingerprint)) as Record<string, unknown> & { key: string };
    const two = JSON.parse(JSON.stringify(new CTarget({}, { threads: 2 }).fingerprint)) as Record<string, unknown> & { key: string };
    assert.equal(typeof parseRecord(rec(0, { target: { kind: 'c', fingerprint: one } })), 'object');
    assert.equal(typeof parseRecord(rec(0, { target: { kind: 'c', fingerprint: two } })), 'object');
    assert.match(String(parseRecord(rec(0, { target: { kind: 'c', fingerprint: { ...two, key: one.key } } }))), new RegExp(`^target\\.fingerprint\\.key ${one.key} is not the key of its fields \\(${two.key}: 2 threads`));
    assert.match(String(parseRecord(rec(0, { target: { kind: 'c', fingerprint: { ...one, model: 'Other CPU' } } }))), /is not the key of its fields/);
  });

  it('a format-1 record written before records were parsed loads typed, and its point gives the same trace hash', () => {
    const path = join(tmp(), 'r.jsonl');
    writeFileSync(path, OLD_LINE + '\n');
    const [r] = new RecordStore(path).load().records;
    assert.ok(r && r.point, 'loaded with its point');
    assert.equal(r.trace.steps[0]!.prim, 'split');
    assert.equal(measurementOf(r.outcome).stats!.median, 0.001);
    const w = workload('gemm', { m: 8, n: 12, k: 6 });
    const space = new ScheduleSpace(lowerWorkload(w), { kind: 'c', style: 'cpu', lanes: 16, threads: 2, maxInvocations: 1, maxWorkgroupDim: [1, 1, 1], maxWorkgroupBytes: 0 });
    assert.ok(space.contains(r.point));
    assert.equal(traceHash(space.toTrace(r.point, w.key)), r.traceHash);
    assert.deepEqual(space.toTrace(r.point, w.key), r.trace);
  });

  it('an early-aborted outcome (one time and its marker) round-trips; records without the marker still parse', () => {
    const t = 4e-6;
    const m = { status: 'ok' as const, times: [t], stats: timingStats([t]), gflops: FLOPS / t / 1e9, earlyAbort: { factor: 3, bestSeconds: 1e-6 } };
    const stopped = { ...rec(0), outcome: outcomeOf(m) };
    const parsed = parseRecord(JSON.parse(JSON.stringify(stopped)));
    assert.ok(typeof parsed === 'object', String(parsed));
    assert.deepEqual(parsed.outcome, { status: 'ok', times: [t], median: t, spread: 0, gflops: FLOPS / t / 1e9, earlyAbort: { factor: 3, bestSeconds: 1e-6 } });
    assert.deepEqual(measurementOf(parsed.outcome).earlyAbort, m.earlyAbort);
    const old = parseRecord(JSON.parse(OLD_LINE));
    assert.ok(typeof old === 'object' && old.outcome.earlyAbort === undefined);
    const marked = (over: object) => parseRecord({ ...stopped, outcome: { ...stopped.outcome, ...over } });
    assert.match(String(marked({ earlyAbort: { factor: 3 } })), /^outcome\.earlyAbort\.bestSeconds: is required \(a number\)$/);
    assert.match(String(marked({ earlyAbort: { factor: 0, bestSeconds: 1 } })), /^outcome\.earlyAbort\.factor: must be more than 0, got 0$/);
    assert.match(String(marked({ times: [t, t] })), /^outcome\.earlyAbort: is only for an ok outcome with one time$/);
    assert.match(String(parseRecord({ ...stopped, outcome: { status: 'crash', earlyAbort: m.earlyAbort } })), /only for an ok outcome/);
  });

  it('GFLOP/s must be the workload\'s FLOPs over the median, and the workload must be the one its op and params give', () => {
    const off = (factor: number) => ({ ...rec(0), outcome: { status: 'ok', median: FLOPS / 10 / 1e9, gflops: 10 * factor } });
    assert.equal(typeof parseRecord(off(1.005)), 'object', 'rounding is not a problem');
    assert.match(String(parseRecord(off(1.05))), /^outcome\.gflops 10\.5 is not the workload's 1024 FLOPs over the median 1\.024e-7 s \(10\.00\)$/);
    assert.match(String(parseRecord(off(0.9))), /is not the workload's 1024 FLOPs/);
    assert.match(String(parseRecord({ ...rec(0), outcome: { status: 'wrong_answer', gflops: 1e9 } })), /outcome\.gflops without a median/);
    assert.match(String(parseRecord({ ...rec(0), workload: { key: WORKLOAD, op: 'gemm', params: { m: 8, n: 8, k: 9 }, dtype: 'f32' } })), /workload key gemm\(k=8,.* is not that of its op and params \(gemm\(k=9,/);
    assert.match(String(parseRecord({ ...rec(0), workload: { key: WORKLOAD, op: 'warp', params: {}, dtype: 'f32' } })), /^workload: unknown op 'warp'/);
    const path = join(tmp(), 'r.jsonl');
    const db = new RecordStore(path);
    db.append(rec(0, {}, 5));
    db.append(rec(1, {}, 7));
    // Claims 1000 GFLOP/s from the median of a 7 GFLOP/s kernel: an edit that would make it best.
    appendFileSync(path, JSON.stringify({ ...rec(2, {}, 7), outcome: { ...rec(2, {}, 7).outcome, gflops: 1000 } }) + '\n');
    const loaded = new RecordStore(path);
    assert.equal(loaded.load().invalid, 1);
    assert.match(loaded.load().warnings.join('\n'), /skipped 1 invalid line: line 3 is not a tuning record \(outcome\.gflops 1000 is not/);
    assert.equal(loaded.best(WORKLOAD, 'cpu:a')!.trial, 1);
  });

  it('best passes over faster records whose trace does not replay onto their workload, named in one counted warning', () => {
    const db = new RecordStore(join(tmp(), 'r.jsonl'));
    const noSuchLoop = { version: 1 as const, steps: [{ prim: 'split' as const, loop: 'zz', factors: [2], tail: 'guard' as const }] };
    const notDivisible = { version: 1 as const, steps: [{ prim: 'split' as const, loop: 'i', factors: [3], tail: 'requireDivisible' as const }] };
    const tiled = { version: 1 as const, steps: [{ prim: 'split' as const, loop: 'i', factors: [4], tail: 'requireDivisible' as const }] };
    db.append(rec(0, {}, 5));
    db.append(rec(1, { trace: tiled }, 7));
    db.append(rec(2, { trace: noSuchLoop }, 100));
    db.append(rec(3, { trace: notDivisible }, 90));
    db.append(rec(4, { trace: noSuchLoop, target: { kind: 'c', fingerprint: { key: 'cpu:b', isa: 'avx512' } } }, 100));
    assert.equal(db.load().records.length, 5, 'loading does not replay: that waits until a record is used');
    assert.deepEqual(db.passedOverWarnings(), []);
    assert.equal(db.best(WORKLOAD, 'cpu:a')!.trial, 1);
    assert.equal(db.best(WORKLOAD, 'cpu:a')!.trial, 1);
    const [w, ...more] = db.passedOverWarnings();
    assert.deepEqual(more, []);
    assert.match(w!, /: skipped 2 records whose traces do not replay onto their workload: record \w{12} \(.*zz.*\); record \w{12} \(.*\)$/);
    assert.equal(db.bestWithFallback(WORKLOAD, { kind: 'c', key: 'cpu:b' }, () => true)!.record.trial, 1, 'the next valid record, of a compatible device');
    assert.equal(db.best(WORKLOAD, 'cpu:b'), undefined);
    assert.deepEqual(db.bestPerWorkload(db.load().records).map((r) => r.trial), [1]);
    assert.match(db.passedOverWarnings()[0]!, /skipped 3 records/);
    assert.equal(db.replayProblem(rec(2, { trace: noSuchLoop })) !== undefined, true);
    assert.equal(db.usable(rec(1, { trace: tiled })), true);
  });

  it('/dev/null holds no records and takes appends; any other device is refused in one line, read or written', () => {
    const nul = new RecordStore('/dev/null');
    assert.deepEqual(nul.load(), { records: [], warnings: [], invalid: 0 });
    nul.append(rec(0));
    assert.equal(nul.persistent, false);
    const full = new RecordStore('/dev/full');
    const refused = (verb: string) => (e: unknown) => e instanceof RecordsFileError && e.exitCode === 2
      && e.message === `cannot ${verb} the records file /dev/full: it is a character device, not a regular file; a records file is a regular file of at most 256 MiB, or /dev/null to keep nothing`;
    assert.throws(() => full.load(), refused('read'), 'reading /dev/full would never end');
    assert.throws(() => full.append(rec(0)), refused('write'));
    assert.equal(new RecordStore(join(tmp(), 'r.jsonl')).persistent, true);
  });

  it('a records path under a regular file fails to read and to write with ENOTDIR, naming the path', () => {
    const file = join(tmp(), 'plain');
    writeFileSync(file, 'x');
    const db = new RecordStore(join(file, 'r.jsonl'));
    assert.throws(() => db.load(), /^RecordsFileError: cannot read the records file .*plain\/r\.jsonl: ENOTDIR \(not a directory\)$/);
    assert.throws(() => db.append(rec(0)), /^RecordsFileError: cannot write the records file .*plain\/r\.jsonl: ENOTDIR/);
  });

  it('an append that fails after others says how many were kept and what the file holds, and they are', () => {
    const dir = tmp();
    const real = join(dir, 'real.jsonl'), link = join(dir, 'r.jsonl');
    symlinkSync(real, link);
    const db = new RecordStore(link);
    db.append(rec(0));
    db.append(rec(1));
    const restore = diskFullAfter(0); // the disk fills up
    try {
      assert.throws(() => db.append(rec(2)), /ENOSPC \(no space left on device\); the 2 records appended before it are kept; the file holds 2 records$/);
    } finally {
      restore();
    }
    assert.deepEqual(new RecordStore(real).load().records, [rec(0), rec(1)]);
  });

  it('falls back to a compatible device when this one has no records, and says so', () => {
    const db = new RecordStore(join(tmp(), 'r.jsonl'));
    const mine = { kind: 'c', key: 'cpu:mine' };
    db.append(rec(0, { target: { kind: 'c', fingerprint: { key: 'cpu:other', isa: 'avx512', compiler: 'gcc' } } }, 5));
    db.append(rec(1, { target: { kind: 'c', fingerprint: { key: 'cpu:third', isa: 'avx512', compiler: 'gcc' } } }, 9));
    db.append(rec(2, { target: { kind: 'c', fingerprint: { key: 'cpu:arm', isa: 'neon', compiler: 'gcc' } } }, 50));
    db.append(rec(3, { target: { kind: 'webgpu', fingerprint: { key: 'gpu:x', isa: 'avx512' } } }, 500));
    db.append(rec(4, { target: { kind: 'c', fingerprint: { key: 'cpu:fast', isa: 'avx512', compiler: 'gcc' } } }, 1e9, 'wrong_answer'));
    const hit = db.bestWithFallback(WORKLOAD, mine, (f) => f.isa === 'avx512');
    assert.equal(hit!.match, 'compatible');
    assert.equal(hit!.record.trial, 1, 'best compatible ok record of the same kind');
    assert.equal(db.bestWithFallback(WORKLOAD, mine, (f) => f.isa === 'riscv'), undefined);
    assert.equal(db.bestWithFallback('other-workload', mine, () => true), undefined);
    db.append(rec(5, { target: { kind: 'c', fingerprint: { key: 'cpu:mine', isa: 'avx512', compiler: 'gcc' } } }, 1));
    const exact = db.bestWithFallback(WORKLOAD, mine, () => true)!;
    assert.equal(exact.match, 'exact');
    assert.equal(exact.record.trial, 5, 'an exact match wins even when slower');
  });

  it('a missing file is an empty database and is not created by reading', () => {
    const path = join(tmp(), 'none', 'none.jsonl');
    const db = new RecordStore(path);
    assert.deepEqual(db.load(), { records: [], warnings: [], invalid: 0 });
    assert.equal(db.best(WORKLOAD, 'cpu:a'), undefined);
    assert.ok(!existsSync(path));
  });

  it('a file that exists but cannot be read is bad input, in one line', () => {
    const path = join(tmp(), 'adir.jsonl');
    mkdirSync(path);
    assert.throws(() => new RecordStore(path).load(), (e: unknown) => {
      assert.ok(e instanceof RecordsFileError && e.exitCode === 2);
      assert.match(e.message, /cannot read the records file .*adir\.jsonl: it is a directory, not a regular file/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  });

  it('survives SIGKILL mid-append, repeatedly: only the last line may be torn, no trial is lost', async function () {
    this.timeout(120_000);
    const path = join(tmp(), 'killed', 'r.jsonl');
    const moduleUrl = new URL('../../tuner/records.js', import.meta.url).href;
    const template = JSON.stringify(rec(0));
    const script = `
      import { RecordStore, recordId } from ${JSON.stringify(moduleUrl)};
      const db = new RecordStore(process.env.RECORDS_PATH);
      let trial = db.load().records.length;
      const base = JSON.parse(${JSON.stringify(template)});
      let first = true;
      for (;;) {
        const timestamp = new Date().toISOString();
        db.append({ ...base, trial, traceHash: 'h' + trial, timestamp, id: recordId(base.workload.key, 'cpu:a', 'h' + trial, String(trial), timestamp) });
        trial++;
        if (first) { first = false; process.stdout.write('ready\\n'); }
      }`;
    let expected = 0;
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, RECORDS_PATH: path }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
      await new Promise<void>((res, rej) => {
        child.stdout!.once('data', () => res());
        void exited.then(({ code }) => rej(new Error(`child exited early (${code}): ${err}`)));
      });
      await new Promise((res) => setTimeout(res, 300));
      child.kill('SIGKILL');
      const { signal } = await exited;
      assert.equal(signal, 'SIGKILL', err);

      // Every whole line is a valid record; only the tail may be torn.
      const { whole } = lines(path);
      for (const [i, l] of whole.entries()) {
        if (l === '') continue; // never written by append; tolerated by load
        assert.ok(validateRecord(JSON.parse(l)), `round ${round}: line ${i + 1} is a record`);
      }
      const loaded = new RecordStore(path).load();
      assert.ok(loaded.warnings.every((w) => /torn|line \d+ is not JSON/.test(w)), loaded.warnings.join('; '));
      assert.ok(loaded.records.length > expected, `round ${round} wrote records (${loaded.records.length} > ${expected})`);
      assert.deepEqual(loaded.records.map((r) => r.trial), loaded.records.map((_, i) => i), 'trials are consecutive from 0');

      // A new append after the kill works and is read back whole.
      const db = new RecordStore(path);
      const next = db.load().records.length;
      db.append(rec(next));
      const after = new RecordStore(path).load();
      assert.equal(after.records.length, next + 1);
      assert.deepEqual(after.records.at(-1), rec(next));
      assert.equal(lines(path).torn, undefined, 'the file ends with a whole line again');
      expected = next + 1;
    }
  });
});

describe('tuner: records mean one thing (device, threads, a plausible rate)', () => {
  const cpu = (key: string, threads?: number) => ({ kind: 'c', fingerprint: { key, isa: 'avx2', compiler: 'gcc', ...(threads !== undefined ? { threads } : {}) } });

  it('best is per thread count; a record without threads is a 1-thread record; another count stands in only as a compatible device', () => {
    const db = new RecordStore(join(tmp(), 'r.jsonl'));
    db.append(rec(0, { target: cpu('cpu:one') }, 20)); // written before threads were in the fingerprint
    db.append(rec(1, { target: cpu('cpu:one', 1) }, 30));
    db.append(rec(2, { target: cpu('cpu:two', 2) }, 50));
    assert.equal(db.best(WORKLOAD, 'cpu:one')!.trial, 1, 'the 2-thread record is faster, and not this device\'s');
    assert.equal(db.best(WORKLOAD, 'cpu:two')!.trial, 2);
    assert.deepEqual(db.bestPerWorkload(db.load().records).map((r) => r.trial), [1, 2], 'one best per device and thread count');
    assert.deepEqual(db.forWorkload(WORKLOAD, 'cpu:one').map((r) => r.trial), [0, 1], 'resume and dedupe see this thread count only');
    const four = db.bestWithFallback(WORKLOAD, { kind: 'c', key: 'cpu:four' }, (f) => f.isa === 'avx2')!;
    assert.deepEqual([four.match, four.record.trial], ['compatible', 2]);
    assert.equal(measuredThreads('c', rec(0, { target: cpu('cpu:one') }).target.fingerprint), 1);
    assert.equal(measuredThreads('webgpu', { key: 'webgpu:x' }), undefined);
    assert.equal(deviceLabel('c', { key: 'cpu:two', model: 'EPYC', isa: 'avx2', threads: 2 }), 'EPYC (avx2), 2 threads');
  });

  it('a record faster than its device can be is never best, and is named in one counted warning', () => {
    const db = new RecordStore(join(tmp(), 'r.jsonl'));
    // avx2 at one thread: at most 8 lanes x 2 x 2 pipes x 6 GHz = 192 GFLOP/s, implausible above 288.
    db.append(rec(0, { target: cpu('cpu:one') }, 250));
    db.append(rec(1, { target: cpu('cpu:one') }, 1e9)); // an edited outcome, consistent with its tiny median
    db.append(rec(2, { target: cpu('cpu:one') }, 300));
    db.append(rec(3, { target: cpu('cpu:two', 2) }, 500)); // two threads: a ceiling of 384, 576 with the margin
    db.append(rec(4, { target: { kind: 'webgpu', fingerprint: { key: 'webgpu:x' } } }, 1e9)); // no ceiling is known for a GPU
    assert.equal(db.best(WORKLOAD, 'cpu:one')!.trial, 0);
    assert.equal(db.best(WORKLOAD, 'cpu:two')!.trial, 3);
    assert.equal(db.best(WORKLOAD, 'webgpu:x')!.trial, 4);
    assert.deepEqual(db.bestPerWorkload(db.load().records).map((r) => r.trial), [0, 3, 4]);
    const [w, ...more] = db.passedOverWarnings();
    assert.deepEqual(more, []);
    assert.match(w!, /: skipped 2 implausible records, faster than 1\.5x the most its device can do: record \w{12} \(1\.000e\+9 GFLOP\/s; its device's ceiling is 192\.0\); record \w{12} \(300\.0 GFLOP\/s; its device's ceiling is 192\.0\)$/);
    assert.equal(IMPLAUSIBLE_MARGIN, 1.5);
  });

  it('one order of best: full measurements before those stopped early, then the rate, then the earlier record', () => {
    const db = new RecordStore(join(tmp(), 'r.jsonl'));
    const early = rec(0, {}, 40);
    db.append({ ...early, outcome: { ...early.outcome, times: [early.outcome.median!], earlyAbort: { factor: 3, bestSeconds: 1e-9 } } });
    db.append(rec(1, {}, 20));
    db.append(rec(2, {}, 30));
    db.append(rec(3, {}, 30));
    assert.deepEqual(db.fastestFirst(db.load().records).map((r) => r.trial), [2, 3, 1, 0]);
    assert.equal(db.best(WORKLOAD, 'cpu:a')!.trial, 2);
  });
});
