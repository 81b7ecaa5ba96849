/** What the farm holds: its live devices (from the workers' heartbeats) and its queues. */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { RunError } from '../../ir/errors.js';
import { ConnectionOptions, DEVICES_KEY, DeviceRecord, STALE_MS, connectionOf, queueName, shownUrl } from './protocol.js';

export interface FarmDevice {
  readonly fingerprint: string;
  readonly kind: string;
  readonly description: string;
  readonly summary: readonly string[];
  /** One worker's record (all of a fingerprint's workers serve the same device). */
  readonly record: DeviceRecord;
  readonly workers: readonly { readonly worker: string; readonly host: string; readonly pid: number; readonly concurrency: number; readonly seenMsAgo: number }[];
}

async function withRedis<T>(conn: ConnectionOptions, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(conn.url, { ...connectionOf(conn), maxRetriesPerRequest: 3, retryStrategy: () => null, lazyConnect: true });
  // One-shot commands report an unreachable server once, as an error, instead of waiting for it.
  r.on('error', () => undefined);
  try {
    try {
      await r.connect();
    } catch (e) {
      throw new RunError(`cannot reach the farm's Redis at ${shownUrl(conn.url)}: ${(e as Error).message.split('\n')[0]}; is redis-server running there?`);
    }
    return await f(r);
  } finally {
    r.disconnect();
  }
}

/** The devices whose workers sent a heartbeat within STALE_MS; a dead worker's entry is dropped. */
export async function farmDevices(conn: ConnectionOptions): Promise<FarmDevice[]> {
  return withRedis(conn, async (r) => {
    const all = await r.hgetall(DEVICES_KEY);
    const now = Date.now();
    const byFp = new Map<string, DeviceRecord[]>();
    for (const [id, json] of Object.entries(all)) {
      let d: DeviceRecord;
      try {
        d = JSON.parse(json) as DeviceRecord;
      } catch {
        continue;
      }
      if (now - d.seen > STALE_MS) {
        await r.hdel(DEVICES_KEY, id);
        continue;
      }
      byFp.set(d.fingerprint.key, [...(byFp.get(d.fingerprint.key) ?? []), d]);
    }
    return [...byFp.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([fp, ds]) => ({
      fingerprint: fp, kind: ds[0]!.kind, description: ds[0]!.description, summary: ds[0]!.summary, record: ds[0]!,
      workers: ds.map((d) => ({ worker: d.worker, host: d.host, pid: d.pid, concurrency: d.concurrency, seenMsAgo: now - d.seen })),
    }));
  });
}

export interface QueueStatus {
  readonly fingerprint: string;
  readonly queue: string;
  readonly workers: number;
  readonly waiting: number;
  readonly active: number;
  readonly completed: number;
  readonly failed: number;
  /** Jobs finished over the last minute, per second. */
  readonly perSecond: number;
}

/** Per device queue: jobs waiting, in flight, done and failed, and the recent throughput. */
export async function farmStatus(conn: ConnectionOptions): Promise<QueueStatus[]> {
  const devices = await farmDevices(conn);
  // Queues of devices whose workers are gone still hold their waiting jobs: list them too.
  const names = await withRedis(conn, async (r) => {
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', 'bull:measure-*:meta', 'COUNT', 200);
      cursor = next;
      for (const k of keys) found.add(k.slice('bull:'.length, -':meta'.length));
    } while (cursor !== '0');
    return found;
  });
  const fps = new Map<string, string>(devices.map((d) => [queueName(d.fingerprint), d.fingerprint]));
  for (const n of names) if (!fps.has(n)) fps.set(n, n.slice('measure-'.length));
  const out: QueueStatus[] = [];
  for (const [name, fp] of [...fps.entries()].sort()) {
    const q = new Queue(name, { connection: { ...connectionOf(conn), maxRetriesPerRequest: 3 } });
    try {
      const c = await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'prioritized', 'delayed');
      const since = Date.now() - 60_000;
      const recent = [...(await q.getCompleted(0, 999)), ...(await q.getFailed(0, 999))].filter((j) => (j.finishedOn ?? 0) >= since).length;
      out.push({
        fingerprint: fp, queue: name, workers: devices.find((d) => d.fingerprint === fp)?.workers.length ?? 0,
        waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0), active: c.active ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0, perSecond: recent / 60,
      });
    } finally {
      await q.close();
    }
  }
  return out;
}
