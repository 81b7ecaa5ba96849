/**
 * `loopsmith worker`: serves one device to the farm. It registers the device with a heartbeat,
 * takes the measurement jobs of its fingerprint's queue, renders each kernel from the job's
 * workload and trace (validated first), and verifies and times it exactly as a local tune does.
 * Compiling may overlap (--concurrency); timing never does. SIGTERM ends it after the jobs in flight
 * (shutdown.ts); every wait for Redis is bounded unless asked for (connect.ts, --wait).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { RunError } from '../../ir/errors.js';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { traceFromJson } from '../../scheduler/trace.js';
import { LoopsmithError } from '../../ir/errors.js';
import { parseWith } from '../../ir/schema.js';
import { checkBuffersFit } from '../workload-fits.js';
import { Pipeline } from '../pipeline.js';
import { openTarget } from '../registry.js';
import { type Fingerprint, type MeasureSettings, type Target, codelessHash } from '../target.js';
import { OutageReporter } from './outage.js';
import { connectOnce } from './connect.js';
import { ConnectionOptions, DEVICES_KEY, DeviceRecord, HEARTBEAT_MS, JOB_SCHEMA, MeasureJob, MeasureResult, STALE_MS, connectionOf, queueName, shownUrl } from './protocol.js';
import { firstSignal, leaveWhileAnswered } from './shutdown.js';

export interface WorkerOptions extends ConnectionOptions {
  readonly target: string;
  /** The target's options (threads, cflags, ...), as on the command line. */
  readonly targetOptions: Readonly<Record<string, unknown>>;
  /** Timing settings (the tuner's --min-time and --early-abort are the worker's here). */
  readonly settings: Partial<MeasureSettings>;
  readonly concurrency: number;
  /** A job whose worker stops renewing its lock for this long is handed to another worker. */
  readonly lockMs: number;
  /** Wait for an unreachable Redis at the start (--wait) instead of giving up after connectTimeoutMs. */
  readonly wait: boolean;
  /** Stopping, give up delivering results and deregistering once Redis has not answered for this long. */
  readonly stopTimeoutMs: number;
  /** Tests only (LOOPSMITH_TEST_MODE=1): pose as another device, so one machine can play two. */
  readonly testFingerprint?: string;
  readonly say: (line: string) => void;
}

/**
 * Runs until SIGTERM or SIGINT; resolves after the worker has left the farm, or has given up
 * leaving it because Redis stopped answering (nothing is lost then: see shutdown.ts).
 */
export async function runWorker(o: WorkerOptions): Promise<void> {
  const target = await openTarget(o.target, { options: o.targetOptions, settings: o.settings });
  try {
    // A wrong URL is an error, not a wait; --wait is for a Redis that is on its way up.
    if (!o.wait) (await connectOnce(o)).disconnect();
    await serve(target, o);
  } finally {
    await target.close();
  }
}

async function serve(target: Target, o: WorkerOptions): Promise<void> {
  const fingerprint: Fingerprint = o.testFingerprint ? { ...target.fingerprint, key: o.testFingerprint, testOverride: true } : target.fingerprint;
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const url = shownUrl(o.url);
  const stop = firstSignal();
  const outage = new OutageReporter(url, o.say);
  const connection = connectionOf(o);
  const registry = new Redis(o.url, connection);
  registry.on('error', (e) => outage.failed(e));
  const startedAt = Date.now();
  const record = (): DeviceRecord => ({
    worker: id, kind: target.name, fingerprint, description: target.description, summary: target.summary, spaceTarget: target.spaceTarget,
    host: hostname(), pid: process.pid, concurrency: o.concurrency, startedAt, seen: Date.now(),
  });
  const beat = async () => {
    await registry.hset(DEVICES_KEY, id, JSON.stringify(record()));
    outage.ok();
  };
  let heartbeat: NodeJS.Timeout | undefined;
  let worker: Worker<MeasureJob, MeasureResult> | undefined;
  let stopping = false;
  const join = async () => {
    await beat();
    // A signal while the first heartbeat waited for Redis: take no job now.
    if (stopping) return;
    heartbeat = setInterval(() => void beat().catch((e) => outage.failed(e)), HEARTBEAT_MS);
    worker = new Worker<MeasureJob, MeasureResult>(queueName(fingerprint.key), measurer(target, fingerprint.key, id), {
      connection, name: id, concurrency: o.concurrency, lockDuration: o.lockMs, stalledInterval: Math.max(500, Math.floor(o.lockMs / 2)),
      // Redelivered once after its worker died; a second death marks it failed (the tuner records a crash).
      maxStalledCount: 1,
    });
    worker.on('error', (e) => outage.failed(e));
    await worker.waitUntilReady();
    o.say(`worker ${id}: ${target.description}, fingerprint ${fingerprint.key}, queue ${queueName(fingerprint.key)} on ${url}; concurrency ${o.concurrency}`);
  };
  const joined = join().catch((e: Error) => {
    throw new RunError(`cannot join the farm at ${url}: ${e.message.split('\n')[0]}`);
  });
  const sig = await Promise.race([stop, joined.then(() => stop)]);
  stopping = true;
  clearInterval(heartbeat);
  if (!worker) {
    // Never registered (a registration still queued for Redis dies with us): nothing to leave.
    o.say(`worker ${id}: ${sig} before it reached Redis at ${url}; exiting`);
    registry.disconnect();
    return;
  }
  o.say(`worker ${id}: ${sig}, finishing the jobs in flight`);
  const w = worker;
  const left = await leaveWhileAnswered(registry, o.stopTimeoutMs, async () => {
    await w.close();
    await registry.hdel(DEVICES_KEY, id);
  }).catch((e: Error) => e);
  registry.disconnect();
  if (left === true) o.say(`worker ${id}: left the farm`);
  else if (left instanceof Error) o.say(`worker ${id}: could not leave the farm cleanly (${left.message.split('\n')[0]}); exiting`);
  else o.say(`worker ${id}: could not deregister: Redis at ${url} did not answer for ${o.stopTimeoutMs / 1000} s (--stop-timeout); exiting anyway. Nothing is lost: jobs in flight go to another worker after --lock-ms, and the device list drops this one within ${STALE_MS / 1000} s`);
}

/** The job processor: validate, render, compile (in parallel with other jobs), then verify and time alone. */
function measurer(target: Target, fingerprintKey: string, worker: string): (job: Job<MeasureJob, MeasureResult>) => Promise<MeasureResult> {
  const pipeline = new Pipeline(target);
  let timing: Promise<unknown> = Promise.resolve();
  const alone = <T>(f: () => Promise<T>): Promise<T> => {
    const next = timing.then(f, f);
    timing = next.catch(() => undefined);
    return next;
  };
  return async (job) => {
    // The job is checked as the CLI checks what it is given: the schema, the operator, the shape
    // limits (32-bit indices, this machine's memory) and the trace, before anything is compiled.
    const d = parseWith(JOB_SCHEMA, job.data, 'job', (m) => {
      throw new UnrecoverableError(`refused: ${m}`);
    });
    if (d.fingerprint !== fingerprintKey) throw new UnrecoverableError(`refused: the job is for device ${d.fingerprint}, this worker is ${fingerprintKey}`);
    let w, base, program;
    try {
      w = workload(d.workload.op, d.workload.params, d.workload.dtype);
      checkBuffersFit(w);
      base = lowerWorkload(w);
      program = applyTrace(base, traceFromJson(d.trace), { workload: w.key });
    } catch (e) {
      if (!(e instanceof LoopsmithError)) throw e;
      throw new UnrecoverableError(`refused: ${e.message.split('\n')[0]}`);
    }
    testHook(w.key);
    const ref = { key: w.key, unscheduled: base, flops: w.flops };
    const rendered = pipeline.render(program);
    if (!rendered.ok) return { fingerprint: fingerprintKey, worker, measurement: rendered.measurement, codeHash: codelessHash(job.id) };
    const built = await pipeline.build([rendered.candidate]);
    try {
      const measurement = await alone(() => pipeline.measure(rendered.candidate, built[0]!, ref, d.bestSeconds !== undefined ? { bestSeconds: d.bestSeconds } : {}));
      return { fingerprint: fingerprintKey, worker, measurement, codeHash: rendered.candidate.codeHash };
    } finally {
      await pipeline.release(built);
    }
  };
}

/** Tests only: a worker that dies on a workload, as one whose kernel takes the machine down would. */
function testHook(workloadKey: string): void {
  if (process.env.LOOPSMITH_TEST_MODE === '1' && process.env.LOOPSMITH_TEST_DIE_ON === workloadKey) process.kill(process.pid, 'SIGKILL');
}
