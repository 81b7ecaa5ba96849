/**
 * What the tuner and the measurement workers say to each other through Redis (BullMQ queues):
 * one queue per device fingerprint, one job per candidate, keyed so that a redelivered or
 * republished job is measured at most once, and a registry of the workers' devices.
 */
import { createHash } from 'node:crypto';
import { InputKind, readInputFile } from '../../tuner/input-file.js';
import type { Params } from '../../ir/ops/index.js';
import type { Trace } from '../../scheduler/trace.js';
import type { SpaceTarget } from '../../tuner/space.js';
import type { Measurement } from '../measurement.js';
import type { Fingerprint } from '../target.js';
import { InputError } from '../../ir/errors.js';
import { fields, finite, nonEmpty, nonNegativeInt, positiveInt, safeInt, z } from '../../ir/schema.js';
import { MEASUREMENT_SCHEMA } from '../measurement.js';

/** Redis hash of the registered workers: field = worker id, value = its DeviceRecord as JSON. */
export const DEVICES_KEY = 'loopsmith:devices';
/** A worker whose heartbeat is older than this is gone (killed, or its machine is). */
export const STALE_MS = 10_000;
export const HEARTBEAT_MS = 2_000;

/** BullMQ names may not hold ':'; fingerprint keys are `cpu-<hex>` / `webgpu-<hex>`. */
export function queueName(fingerprintKey: string): string {
  return `measure-${fingerprintKey.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/**
 * A job carries a workload (operator and parameters) and a trace, never code: the worker renders
 * the kernel itself, so nothing from the queue is compiled as it came.
 */
export interface MeasureJob {
  readonly workload: { readonly op: string; readonly params: Params; readonly dtype: string };
  readonly trace: Trace;
  readonly fingerprint: string;
  /** The tuner's best so far (early abort and relative limits), as in a local tune. */
  readonly bestSeconds?: number;
}

export interface MeasureResult {
  /** The fingerprint key of the worker that measured it; the tuner rejects a result from another device. */
  readonly fingerprint: string;
  readonly worker: string;
  readonly measurement: Measurement;
  readonly codeHash: string;
}

/**
 * What a worker takes from the queue, checked before anything is lowered or compiled: anyone who
 * can write to the Redis can put a job there. The trace is checked by the trace schema after this.
 */
export const JOB_SCHEMA = fields({
  workload: fields({ op: nonEmpty, params: z.record(z.string(), safeInt), dtype: nonEmpty }),
  trace: z.unknown(),
  fingerprint: nonEmpty,
  bestSeconds: z.number().positive().optional(),
});

/** What the tuner takes from a finished job: a garbled result is that candidate's failure. */
export const RESULT_SCHEMA: z.ZodType<MeasureResult> = fields({
  fingerprint: nonEmpty,
  worker: nonEmpty,
  measurement: MEASUREMENT_SCHEMA,
  codeHash: nonEmpty,
});

const SPACE_TARGET: z.ZodType<SpaceTarget> = fields({
  kind: nonEmpty,
  style: z.enum(['cpu', 'gpu']),
  lanes: positiveInt,
  vectorRegisters: positiveInt.optional(),
  threads: positiveInt,
  maxInvocations: positiveInt,
  maxWorkgroupDim: z.tuple([nonNegativeInt, nonNegativeInt, nonNegativeInt]),
  maxWorkgroupBytes: nonNegativeInt,
}) as z.ZodType<SpaceTarget>;

/** A worker's registration in the devices hash; its space target shapes the tuner's search for the device. */
export const DEVICE_RECORD_SCHEMA: z.ZodType<DeviceRecord> = fields({
  worker: nonEmpty,
  kind: nonEmpty,
  fingerprint: z.looseObject({ key: nonEmpty }),
  description: z.string(),
  summary: z.array(z.string()),
  spaceTarget: SPACE_TARGET,
  host: z.string(),
  pid: positiveInt,
  concurrency: positiveInt,
  startedAt: finite,
  seen: finite,
}) as z.ZodType<DeviceRecord>;

export interface DeviceRecord {
  readonly worker: string;
  readonly kind: string;
  readonly fingerprint: Fingerprint;
  readonly description: string;
  readonly summary: readonly string[];
  readonly spaceTarget: SpaceTarget;
  readonly host: string;
  readonly pid: number;
  readonly concurrency: number;
  readonly startedAt: number;
  /** Last heartbeat, ms since the epoch. */
  readonly seen: number;
}

/**
 * Same workload, trace and device: the same job id, so BullMQ keeps one job however often it is
 * published. A re-measurement names its own `again` (unique to the tuning run and round).
 */
export function jobId(workloadKey: string, traceHashValue: string, fingerprintKey: string, again?: string): string {
  const h = createHash('sha256').update(`${workloadKey}\n${traceHashValue}\n${fingerprintKey}`).digest('hex').slice(0, 32);
  return again ? `${h}-again-${again}` : h;
}

export interface ConnectionOptions {
  readonly url: string;
  /** PEM file of the CA that signed the server's certificate (rediss:// URLs). */
  readonly caFile?: string;
  /** How long a command waits for Redis to answer at its start (--connect-timeout); connect.ts has the default. */
  readonly connectTimeoutMs?: number;
}

/** A CA bundle is a few KiB of PEM; a system's whole trust store is about 200 KiB. */
const CA_FILE: InputKind = { what: 'the Redis CA file', maxBytes: 1 << 20, legal: '--redis-ca is a PEM file of at most 1 MiB' };

/**
 * BullMQ connection options: `redis://[:password@]host:port[/db]` or `rediss://` for TLS. Commands
 * wait through an outage (no retry limit): workers and tuners resume when Redis is back. The first
 * contact is bounded instead (connect.ts), so that a wrong URL is an error, not a wait.
 */
export function connectionOf(o: ConnectionOptions): Record<string, unknown> {
  let u: URL;
  try {
    u = new URL(o.url);
  } catch {
    throw new InputError(`--farm/--redis '${o.url}' is not a URL; give redis://host:port (or rediss://host:port for TLS, redis://:password@host:port with a password)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new InputError(`--farm/--redis '${o.url}' must start with redis:// or rediss:// (TLS), not ${u.protocol}//`);
  // Read as every input file is: a FIFO or /dev/zero is refused before it is opened, never read without end.
  const tls = u.protocol === 'rediss:' ? { tls: o.caFile ? { ca: readInputFile(o.caFile, CA_FILE) } : {} } : {};
  return { url: o.url, maxRetriesPerRequest: null, enableOfflineQueue: true, retryStrategy: (n: number) => Math.min(250 * n, 2000), ...tls };
}

/** The URL without its password, for messages. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
