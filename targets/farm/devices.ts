/** What the farm holds: its live devices (from the workers' heartbeats) and its queues. */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { withFarmRedis } from './connect.js';
import { ConnectionOptions, DEVICES_KEY, DEVICE_RECORD_SCHEMA, DeviceRecord, STALE_MS, queueName } from './protocol.js';
import { check } from '../../ir/schema.js';

export interface FarmDevice {
  readonly fingerprint: string;
  readonly kind: string;
  readonly description: string;
  readonly summary: readonly string[];
  /** One worker's record (all of a fingerprint's workers serve the same device). */
  readonly record: DeviceRecord;
  readonly workers: readonly { readonly worker: string; readonly host: string; readonly pid: number; readonly concurrency: number; readonly seenMsAgo: number }[];
}

/** The devices whose workers sent a heartbeat within STALE_MS; a dead worker's entry is dropped. */
export function farmDevices(conn: ConnectionOptions): Promise<FarmDevice[]> {
  return withFarmRedis(conn, liveDevices);
}

async function liveDevices(r: Redis): Promise<FarmDevice[]> {
  const all = await r.hgetall(DEVICES_KEY);
  const now = Date.now();
  const byFp = new Map<string, DeviceRecord[]>();
  for (const [id, json] of Object.entries(all)) {
    let raw: unknown;
    try {
      raw = JSON.parse(json);
    } catch {
      continue;
    }
    // A registration that does not check out (another program's, or garbled) is no device.
    const checked = check(DEVICE_RECORD_SCHEMA, raw);
    if (!checked.ok) continue;
    const d = checked.value;
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
export function farmStatus(conn: ConnectionOptions): Promise<QueueStatus[]> {
  // One bounded client for everything (the queues share it), so no query can wait for Redis forever.
  return withFarmRedis(conn, async (r) => {
    const devices = await liveDevices(r);
    const fps = new Map<string, string>(devices.map((d) => [queueName(d.fingerprint), d.fingerprint]));
    // Queues of devices whose workers are gone still hold their waiting jobs: list them too.
    for (const n of await queueNames(r)) if (!fps.has(n)) fps.set(n, n.slice('measure-'.length));
    const out: QueueStatus[] = [];
    for (const [name, fp] of [...fps.entries()].sort()) {
      const q = new Queue(name, { connection: r });
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
  });
}

async function queueNames(r: Redis): Promise<Set<string>> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', 'bull:measure-*:meta', 'COUNT', 200);
    cursor = next;
    for (const k of keys) found.add(k.slice('bull:'.length, -':meta'.length));
  } while (cursor !== '0');
  return found;
}
