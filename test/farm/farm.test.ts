import assert from 'node:assert/strict';
import { timingStats } from '../../targets/stats.js';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue, Worker } from 'bullmq';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { createTarget } from '../../targets/registry.js';
import { FarmEvaluator } from '../../targets/farm/evaluator.js';
import { DeviceRecord, MeasureResult, connectionOf, jobId, queueName } from '../../targets/farm/protocol.js';
import { trace } from '../../scheduler/trace.js';
import { RedisServer } from '../../bench/redis-server.js';
import { Running, start, startWorker, stop, waitFor } from './processes.js';

type Row = { traceHash: string; outcome: { status: string; message?: string }; target: { fingerprint: { key: string } } };
const rows = (path: string): Row[] => (existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row) : []);
const tmp = () => mkdtempSync(join(tmpdir(), 'loopsmith-farm-'));
// A search whose proposals do not depend on what it measures (random, no cost model, no starting
// points), so a local tune and a farm tune of the same seed try the same candidates.
// No final round: these tests count the search's trials in the records.
const SEARCH = ['--strategy', 'random', '--model', 'off', '--starting-points', '0', '--finalists', '0', '--seed', '3', '--min-time', '0.02'];
const GEMM = ['gemm', '--m', '32', '--n', '32', '--k', '32'];
const noStack = (s: string) => assert.doesNotMatch(s, /^\s+at /m, `no stack trace:\n${s}`);

describe('farm: tuning through Redis (BullMQ) with worker processes', function () {
  this.timeout(240_000);
  let redis: RedisServer;
  const workers: Running[] = [];
  const worker = async (extra: string[] = [], env: Record<string, string> = {}) => {
    const w = await startWorker(redis.url, extra.includes('--min-time') ? extra : ['--min-time', '0.02', ...extra], env);
    workers.push(w);
    return w;
  };

  before(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map(stop));
  });
  after(async () => {
    await redis?.down();
  });

  it('tune --farm measures the same candidates with the same outcomes as a local tune of the same seed, and records them locally', async () => {
    await worker();
    await worker();
    const dir = tmp();
    const local = start(['tune', ...GEMM, ...SEARCH, '--trials', '8', '--threads', '1', '--records', join(dir, 'local.jsonl'), '--json']);
    assert.equal(await local.exited, 0, local.stderr());
    const farm = start(['tune', ...GEMM, ...SEARCH, '--trials', '8', '--records', join(dir, 'farm.jsonl'), '--farm', redis.url, '--json']);
    assert.equal(await farm.exited, 0, farm.stderr());
    const byHash = (rs: Row[]) => new Map(rs.map((r) => [r.traceHash, r.outcome.status]));
    const [l, f] = [rows(join(dir, 'local.jsonl')), rows(join(dir, 'farm.jsonl'))];
    assert.equal(f.length, 8);
    assert.deepEqual([...byHash(f)].sort(), [...byHash(l)].sort());
    assert.deepEqual(new Set(f.map((r) => r.target.fingerprint.key)), new Set(l.map((r) => r.target.fingerprint.key)), 'the workers measure this machine\'s device');
    const out = JSON.parse(farm.stdout()) as { best: { trace: unknown } | null }[];
    assert.equal(out.length, 1);
    assert.ok(out[0]!.best, 'a verified best');
    // The devices and the queue as a user sees them.
    const devices = start(['devices', '--farm', redis.url, '--json']);
    assert.equal(await devices.exited, 0, devices.stderr());
    const ds = JSON.parse(devices.stdout()) as { fingerprint: string; workers: unknown[] }[];
    assert.deepEqual(ds.map((d) => d.workers.length), [2]);
    const status = start(['farm', 'status', '--farm', redis.url, '--json']);
    assert.equal(await status.exited, 0, status.stderr());
    const st = JSON.parse(status.stdout()) as { fingerprint: string; completed: number; failed: number; workers: number }[];
    assert.equal(st.length, 1);
    assert.equal(st[0]!.workers, 2);
    assert.ok(st[0]!.completed >= 8, `at least the 8 trials done: ${JSON.stringify(st)}`);
    // SIGTERM: the worker leaves the farm and exits 0.
    const w = workers.pop()!;
    w.proc.kill('SIGTERM');
    assert.equal(await w.exited, 0, w.stderr());
    assert.match(w.stderr(), /SIGTERM, finishing the jobs in flight\n(.|\n)*left the farm/);
  });

  it('a worker refuses a job whose workload or trace does not validate, and a job meant for another device', async () => {
    const w = await worker();
    const fp = /fingerprint (\S+),/.exec(w.stderr())![1]!;
    const q = new Queue(queueName(fp), { connection: connectionOf({ url: redis.url }) });
    try {
      const bad = [
        { id: 'bad-op', data: { workload: { op: 'gemmm', params: { m: 4, n: 4, k: 4 }, dtype: 'f32' }, trace: { version: 1, steps: [] }, fingerprint: fp }, want: /refused: unknown op/ },
        { id: 'bad-trace', data: { workload: { op: 'gemm', params: { m: 4, n: 4, k: 4 }, dtype: 'f32' }, trace: { version: 1, steps: [{ prim: 'split', loop: 'zz', factors: [2], tail: 'guard' }] }, fingerprint: fp }, want: /refused: .*zz/ },
        { id: 'other-device', data: { workload: { op: 'gemm', params: { m: 4, n: 4, k: 4 }, dtype: 'f32' }, trace: { version: 1, steps: [] }, fingerprint: 'cpu:someone-else' }, want: /refused: the job is for device cpu:someone-else/ },
        { id: 'null-workload', data: { workload: null, trace: { version: 1, steps: [] }, fingerprint: fp }, want: /^refused: job\.workload: must be an object, got null$/ },
        { id: 'not-an-object', data: 'gemm', want: /^refused: job: must be an object, got "gemm"$/ },
        { id: 'unknown-field', data: { workload: { op: 'gemm', params: { m: 4, n: 4, k: 4 }, dtype: 'f32' }, trace: { version: 1, steps: [] }, fingerprint: fp, bestSecond: 1 }, want: /unknown field `bestSecond`; did you mean `bestSeconds`\?/ },
        { id: 'list-trace', data: { workload: { op: 'gemm', params: { m: 4, n: 4, k: 4 }, dtype: 'f32' }, trace: [], fingerprint: fp }, want: /refused: a schedule is an object/ },
        { id: 'unsafe-int', data: { workload: { op: 'gemm', params: { m: 4, n: 4, k: 2 ** 53 + 2 }, dtype: 'f32' }, trace: { version: 1, steps: [] }, fingerprint: fp }, want: /job\.workload\.params\.k: must be a safe integer/ },
        { id: 'too-big', data: { workload: { op: 'gemm', params: { m: 65536, n: 65536, k: 65536 }, dtype: 'f32' }, trace: { version: 1, steps: [] }, fingerprint: fp }, want: /refused: .*32-bit integers/ },
      ];
      for (const b of bad) await q.add('measure', b.data as never, { jobId: b.id });
      for (const b of bad) {
        const job = await waitFor(`job ${b.id} to fail`, async () => {
          const j = await Job.fromId(q, b.id);
          return j?.finishedOn ? j : undefined;
        });
        assert.match(job.failedReason ?? '', b.want);
        assert.equal(job.attemptsMade <= 1, true, 'not retried');
      }
    } finally {
      await q.close();
    }
  });

  it('a malformed result is not counted: the candidate is a crash that says why', async () => {
    const spaceTarget = createTarget('c').spaceTarget;
    const device: DeviceRecord = {
      worker: 'test', kind: 'c', fingerprint: { key: 'cpu:garbled-test' }, description: 'test', summary: [], spaceTarget, host: 'h', pid: 1, concurrency: 1, startedAt: 0, seen: Date.now(),
    };
    const rogue = new Worker<unknown, unknown>(queueName('cpu:garbled-test'), async () => ({ fingerprint: 'cpu:garbled-test', worker: 'rogue', measurement: { status: 'ok', gflops: 'fast' }, codeHash: 'x' }), { connection: connectionOf({ url: redis.url }) });
    const w = workload('gemm', { m: 4, n: 4, k: 4 });
    const ev = new FarmEvaluator({ url: redis.url }, device, w, 1, () => undefined);
    try {
      const [r] = await ev.measure([lowerWorkload(w)], { key: w.key, unscheduled: lowerWorkload(w), flops: w.flops }, { traces: [trace([], w.key)] });
      assert.equal(r!.measurement.status, 'crash');
      assert.match(r!.measurement.message ?? '', /the worker's result is malformed \(result\.measurement\.gflops: must be a number, got "fast"\); not counted/);
    } finally {
      await ev.close();
      await rogue.close();
    }
  });

  it('a result from another device than the job\'s is not counted: the candidate is rejected', async () => {
    // A rogue consumer on a device's queue (in this process) answers with another fingerprint.
    const spaceTarget = createTarget('c').spaceTarget;
    const device: DeviceRecord = {
      worker: 'test', kind: 'c', fingerprint: { key: 'cpu:rogue-test' }, description: 'test', summary: [], spaceTarget, host: 'h', pid: 1, concurrency: 1, startedAt: 0, seen: Date.now(),
    };
    const rogue = new Worker<unknown, MeasureResult>(queueName('cpu:rogue-test'), async () => ({ fingerprint: 'cpu:someone-else', worker: 'rogue', measurement: { status: 'ok', gflops: 1e6, times: [1e-9], stats: timingStats([1e-9]) }, codeHash: 'x' }), { connection: connectionOf({ url: redis.url }) });
    const w = workload('gemm', { m: 4, n: 4, k: 4 });
    const ev = new FarmEvaluator({ url: redis.url }, device, w, 1, () => undefined);
    try {
      const [r] = await ev.measure([lowerWorkload(w)], { key: w.key, unscheduled: lowerWorkload(w), flops: w.flops }, { traces: [trace([], w.key)] });
      assert.equal(r!.measurement.status, 'rejected');
      assert.match(r!.measurement.message ?? '', /result from device cpu:someone-else for a job of cpu:rogue-test: not counted/);
    } finally {
      await ev.close();
      await rogue.close();
    }
  });

  it('a worker killed with SIGKILL mid-job loses nothing: its job goes to the other worker, and every trial is recorded once', async () => {
    // Long enough timing that a job is in flight when we look.
    const a = await worker(['--min-time', '0.6']);
    await worker(['--min-time', '0.6']);
    const fp = /fingerprint (\S+),/.exec(a.stderr())![1]!;
    const dir = tmp();
    // Its own shape: the earlier tests' finished jobs (kept for reruns) must not answer its candidates.
    const tune = start(['tune', 'gemm', '--m', '24', '--n', '24', '--k', '24', ...SEARCH, '--trials', '6', '--records', join(dir, 'r.jsonl'), '--farm', redis.url]);
    const q = new Queue(queueName(fp), { connection: connectionOf({ url: redis.url }) });
    let killed: string | undefined;
    try {
      killed = await waitFor('a job in flight on the first worker', async () => {
        const active = await q.getActive();
        return active.find((j) => j.processedBy === a.id)?.id;
      });
      a.proc.kill('SIGKILL');
      assert.equal(await tune.exited, 0, tune.stderr());
      const job = await Job.fromId(q, killed!);
      assert.ok(job?.returnvalue, 'the killed worker\'s job finished on the other worker');
      assert.notEqual((job!.returnvalue as { worker: string }).worker, a.id);
    } finally {
      await q.close();
    }
    const rs = rows(join(dir, 'r.jsonl'));
    assert.equal(rs.length, 6, 'six trials recorded');
    assert.equal(new Set(rs.map((r) => r.traceHash)).size, 6, 'each once');
    assert.ok(rs.every((r) => r.outcome.status === 'ok'), JSON.stringify(rs.map((r) => r.outcome.status)));
  });

  it('a job that takes down two workers is recorded as a crash and not retried again', async () => {
    const poison = 'gemm(k=8,m=8,n=8,transA=0,transB=0):f32';
    for (let i = 0; i < 3; i++) await worker([], { LOOPSMITH_TEST_DIE_ON: poison });
    const dir = tmp();
    const tune = start(['tune', 'gemm', '--m', '8', '--n', '8', '--k', '8', ...SEARCH, '--trials', '1', '--records', join(dir, 'r.jsonl'), '--farm', redis.url]);
    assert.equal(await tune.exited, 1, `no verified kernel: exit 1\n${tune.stderr()}`);
    const [r] = rows(join(dir, 'r.jsonl'));
    assert.equal(r?.outcome.status, 'crash');
    assert.match(r!.outcome.message ?? '', /took down its worker twice/);
    noStack(tune.stderr());
  });

  it('two fingerprints get separate searches and separate records; --device picks one', async () => {
    await worker();
    await worker(['--test-fingerprint', 'cpu:second-device']);
    const dir = tmp();
    const both = start(['tune', ...GEMM, ...SEARCH, '--trials', '4', '--records', join(dir, 'r.jsonl'), '--farm', redis.url, '--device', 'all', '--json']);
    assert.equal(await both.exited, 0, both.stderr());
    const rs = rows(join(dir, 'r.jsonl'));
    const fps = [...new Set(rs.map((r) => r.target.fingerprint.key))].sort();
    assert.equal(fps.length, 2);
    assert.ok(fps.includes('cpu:second-device'));
    for (const fp of fps) assert.equal(rs.filter((r) => r.target.fingerprint.key === fp).length, 4, fp);
    const one = start(['tune', ...GEMM, ...SEARCH, '--trials', '2', '--records', join(dir, 'one.jsonl'), '--farm', redis.url, '--device', 'cpu:second-device']);
    assert.equal(await one.exited, 0, one.stderr());
    assert.deepEqual([...new Set(rows(join(dir, 'one.jsonl')).map((r) => r.target.fingerprint.key))], ['cpu:second-device']);
    const unknown = start(['tune', ...GEMM, '--trials', '2', '--records', join(dir, 'x.jsonl'), '--farm', redis.url, '--device', 'cpu:nope']);
    assert.equal(await unknown.exited, 2);
    assert.match(unknown.stderr(), /--device cpu:nope: no live worker has that fingerprint; the farm's devices: .*cpu:second-device/);
    noStack(unknown.stderr());
  });

  it('Redis restarted mid-run: the tuner and the workers wait with one line each and resume; nothing is lost', async () => {
    const w = await worker(['--min-time', '0.3']);
    const dir = tmp();
    const tune = start(['tune', 'gemm', '--m', '16', '--n', '16', '--k', '16', ...SEARCH, '--trials', '6', '--records', join(dir, 'r.jsonl'), '--farm', redis.url]);
    await waitFor('a first record', () => rows(join(dir, 'r.jsonl')).length >= 1 || undefined);
    await redis.down();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.up();
    assert.equal(await tune.exited, 0, tune.stderr());
    const rs = rows(join(dir, 'r.jsonl'));
    assert.equal(new Set(rs.map((r) => r.traceHash)).size, 6);
    assert.equal(rs.length, 6);
    for (const s of [tune.stderr(), w.stderr()]) {
      assert.ok((s.match(/is unreachable/g) ?? []).length <= 1, s);
      noStack(s);
    }
    assert.match(w.stderr(), /Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable .*waiting for it to come back\n(.|\n)*is back; resuming/);
  });
});

describe('farm: protocol', () => {
  it('job ids are stable per workload, trace and device, and differ for a re-measurement', () => {
    assert.equal(jobId('w', 't', 'cpu:1'), jobId('w', 't', 'cpu:1'));
    assert.notEqual(jobId('w', 't', 'cpu:1'), jobId('w', 't', 'cpu:2'));
    assert.notEqual(jobId('w', 't', 'cpu:1'), jobId('w', 't', 'cpu:1', 'run1-1'));
    assert.doesNotMatch(jobId('w', 't', 'cpu:1') + queueName('cpu:1'), /:/, 'BullMQ refuses ":" in ids and names');
  });

  it('workers of one CPU at different thread counts serve different queues: a 1-thread job never reaches a 2-thread worker', () => {
    const fp = (threads: number) => createTarget('c', { options: { threads } }).fingerprint.key;
    assert.notEqual(queueName(fp(1)), queueName(fp(2)));
    assert.equal(queueName(fp(2)), queueName(fp(2)));
    assert.notEqual(jobId('w', 't', fp(1)), jobId('w', 't', fp(2)));
  });

  it('a URL that is not redis:// or rediss:// is one clear error', () => {
    assert.throws(() => connectionOf({ url: 'http://x:1' }), /must start with redis:\/\/ or rediss:\/\/ \(TLS\), not http:\/\//);
    assert.throws(() => connectionOf({ url: 'nonsense' }), /is not a URL; give redis:\/\/host:port/);
    assert.deepEqual(Object.keys(connectionOf({ url: 'rediss://:pw@h:1' })).includes('tls'), true);
  });
});
