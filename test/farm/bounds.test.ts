/**
 * Nothing waits for Redis forever: a farm that is not there ends each command with one line within
 * --connect-timeout, and a stopping worker whose Redis went away exits within --stop-timeout.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Server, createServer } from 'node:net';
import { Job, Queue } from 'bullmq';
import { DEVICES_KEY, connectionOf, queueName } from '../../targets/farm/protocol.js';
import { RedisServer, freePort } from '../../bench/redis-server.js';
import { Running, start, startWorker, waitFor } from './processes.js';

const noStack = (s: string) => assert.doesNotMatch(s, /^\s+at /m, `no stack trace:\n${s}`);
const lines = (s: string) => s.trim().split('\n').filter(Boolean);

/** The exit code, or a failure if the process is still running after `ms`. */
async function exitWithin(r: Running, ms: number, what: string): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((res) => (timer = setTimeout(() => res('late'), ms)));
  const code = await Promise.race([r.exited, late]);
  clearTimeout(timer);
  if (code === 'late') {
    r.proc.kill('SIGKILL');
    assert.fail(`${what}: still running after ${ms / 1000} s\n${r.stderr()}`);
  }
  return code;
}

/** A port that accepts connections and never answers: a stopped Redis, or not Redis at all. */
async function silentPort(): Promise<{ url: string; server: Server }> {
  const server = createServer(() => undefined);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

describe('farm: every wait for Redis is bounded', function () {
  this.timeout(120_000);
  const running: Running[] = [];
  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = start(args, env);
    running.push(r);
    return r;
  };
  afterEach(async () => {
    await Promise.all(running.splice(0).map(async (r) => {
      if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
      await r.exited;
    }));
  });

  it('a worker given a closed port exits 1 with one line naming the URL, no stack trace', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const w = run(['worker', '--redis', url, '--target', 'c', '--threads', '1']);
    assert.equal(await exitWithin(w, 30_000, 'worker'), 1);
    assert.deepEqual(lines(w.stderr()), [`loopsmith: cannot reach the farm's Redis at ${url}: connection refused (ECONNREFUSED); is redis-server running there, and are the host and port right?`]);
  });

  it('a port where another protocol answers (HTTP) is named as such, not as an ioredis bug to report', async () => {
    const server = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const url = `redis://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const r = run(['farm', 'status', '--farm', url, '--connect-timeout', '2']);
      assert.equal(await exitWithin(r, 30_000, 'farm status'), 1);
      assert.deepEqual(lines(r.stderr()), [`loopsmith: cannot reach the farm's Redis at ${url}: the server there does not speak Redis (its reply began with "H": an HTTP server, or another service on that port); is redis-server running there, and are the host and port right?`]);
    } finally {
      server.close();
    }
  });

  it('a port that never answers: worker, farm status, devices and tune --farm each give up after --connect-timeout with one line', async () => {
    const { url, server } = await silentPort();
    try {
      const commands = [
        ['worker', '--redis', url, '--target', 'c', '--threads', '1'],
        ['farm', 'status', '--farm', url],
        ['devices', '--farm', url],
        ['tune', 'gemm', '--m', '8', '--n', '8', '--k', '8', '--trials', '1', '--farm', url],
      ];
      const rs = commands.map((c) => run([...c, '--connect-timeout', '1']));
      for (const [i, r] of rs.entries()) {
        assert.equal(await exitWithin(r, 30_000, commands[i]!.join(' ')), 1, r.stderr());
        assert.deepEqual(lines(r.stderr()), [`loopsmith: cannot reach the farm's Redis at ${url}: no answer within 1 s (--connect-timeout); is redis-server running there, and are the host and port right?`], commands[i]!.join(' '));
      }
    } finally {
      server.close();
    }
  });

  it('--connect-timeout and --stop-timeout take a positive number of seconds a timer can hold', async () => {
    // Past 2^31 - 1 ms a timer fires at once (Node warned on every renewal, thousands of lines a second).
    for (const [flag, bad] of [['--connect-timeout', '0'], ['--stop-timeout', 'soon'], ['--stop-timeout', '1e99']] as const) {
      const w = run(['worker', '--redis', 'redis://127.0.0.1:1', '--target', 'c', flag, bad]);
      assert.equal(await exitWithin(w, 30_000, 'worker'), 2);
      assert.deepEqual(lines(w.stderr()), [`loopsmith: ${flag} must be a positive number of seconds, at most 2147483 (24.8 days, the longest timer), got '${bad}'`]);
    }
  });

  it('with --wait a worker waits for an unreachable Redis past the bound (one line), and SIGTERM ends it', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const w = run(['worker', '--redis', url, '--target', 'c', '--threads', '1', '--wait', '--connect-timeout', '0.5']);
    await waitFor('the outage line', () => /is unreachable/.test(w.stderr()) || undefined, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(w.proc.exitCode, null, `still waiting after the bound:\n${w.stderr()}`);
    w.proc.kill('SIGTERM');
    assert.equal(await exitWithin(w, 10_000, 'worker after SIGTERM'), 0);
    const out = lines(w.stderr());
    assert.equal(out.length, 2, w.stderr());
    assert.match(out[0]!, new RegExp(`^farm: Redis at ${url} is unreachable \\(ECONNREFUSED\\); waiting for it to come back$`));
    assert.match(out[1]!, new RegExp(`^worker \\S+: SIGTERM before it reached Redis at ${url}; exiting$`));
  });

  describe('stopping a worker', () => {
    let redis: RedisServer;
    beforeEach(async () => {
      redis = await RedisServer.start();
    });
    afterEach(async () => {
      await redis.down();
    });

    it('whose Redis was killed: SIGTERM ends it within --stop-timeout, with one line that it could not deregister, exit 0', async () => {
      const w = await startWorker(redis.url, ['--stop-timeout', '1']);
      running.push(w);
      await redis.down();
      await waitFor('the outage line', () => /is unreachable/.test(w.stderr()) || undefined, 10_000);
      const signalled = Date.now();
      w.proc.kill('SIGTERM');
      assert.equal(await exitWithin(w, 15_000, 'worker after SIGTERM'), 0);
      const seconds = (Date.now() - signalled) / 1000;
      assert.ok(seconds < 6, `exited ${seconds.toFixed(1)} s after SIGTERM (--stop-timeout 1)`);
      const last = lines(w.stderr()).slice(-2);
      assert.match(last[0]!, /: SIGTERM, finishing the jobs in flight$/);
      assert.match(last[1]!, new RegExp(`^worker ${w.id}: could not deregister: Redis at ${redis.url} did not answer for 1 s \\(--stop-timeout\\); exiting anyway\\. Nothing is lost`));
      noStack(w.stderr());
    });

    it('whose Redis answers: SIGTERM finishes the job in flight however long it takes past --stop-timeout, delivers it and deregisters', async () => {
      // The kernel's first call in each of its processes takes 4 s more (the C harness's test hook): the job lasts over 2 s whatever the machine.
      const w = await startWorker(redis.url, ['--stop-timeout', '2'], { LOOPSMITH_TEST_SLOW_START: '1:4000' });
      running.push(w);
      const fp = /fingerprint (\S+),/.exec(w.stderr())![1]!;
      const q = new Queue(queueName(fp), { connection: connectionOf({ url: redis.url }) });
      try {
        const data = { workload: { op: 'gemm', params: { m: 16, n: 16, k: 16 }, dtype: 'f32' }, trace: { version: 1, steps: [] }, fingerprint: fp };
        await q.add('measure', data as never, { jobId: 'slow' });
        await waitFor('the job in flight', async () => (await q.getActive()).some((j) => j.id === 'slow') || undefined, 30_000);
        const signalled = Date.now();
        w.proc.kill('SIGTERM');
        assert.equal(await exitWithin(w, 60_000, 'worker after SIGTERM'), 0);
        const seconds = (Date.now() - signalled) / 1000;
        assert.ok(seconds > 2, `the drain outlasted --stop-timeout (${seconds.toFixed(1)} s): else this test shows nothing`);
        assert.match(w.stderr(), /SIGTERM, finishing the jobs in flight\n(.|\n)*left the farm\n$/);
        const job = await Job.fromId(q, 'slow');
        assert.equal((job?.returnvalue as { worker?: string } | undefined)?.worker, w.id, 'the job was delivered by the stopping worker');
        assert.equal(spawnSync('redis-cli', ['-p', String(redis.port), 'hlen', DEVICES_KEY], { encoding: 'utf8' }).stdout.trim(), '0', 'deregistered');
      } finally {
        await q.close();
      }
    });
  });
});
