/**
 * The tuner's side of the farm: an Evaluator whose measurements are jobs on one device's queue.
 * A batch is published at once (the device's workers take its jobs in parallel) and collected as
 * the jobs finish; a job lost with a Redis restart is published again.
 */
import { randomBytes } from 'node:crypto';
import { Job, Queue } from 'bullmq';
import type { Workload } from '../../ir/ops/index.js';
import type { Program } from '../../ir/program.js';
import type { Trace } from '../../scheduler/trace.js';
import type { EvaluateOptions, Evaluator } from '../../tuner/evaluate.js';
import { SpaceTarget, traceHash } from '../../tuner/space.js';
import type { Measurement } from '../measurement.js';
import { type ReferenceSpec, codelessHash } from '../target.js';
import { OutageReporter } from './outage.js';
import { ConnectionOptions, DeviceRecord, MeasureJob, MeasureResult, RESULT_SCHEMA, connectionOf, jobId, queueName, shownUrl } from './protocol.js';
import { check } from '../../ir/schema.js';

const POLL_MS = 100;
/** Finished jobs stay this long, so that a rerun of the same search finds them (and a redelivery cannot measure twice). */
const KEEP_SECONDS = 24 * 3600;

export class FarmEvaluator implements Evaluator {
  readonly kind: string;
  readonly fingerprint: Record<string, unknown> & { key: string };
  readonly spaceTarget: SpaceTarget;
  private readonly queue: Queue<MeasureJob, MeasureResult>;
  private readonly outage: OutageReporter;
  private readonly seen = new Map<string, { measurement: Measurement; codeHash: string }>();
  private rounds = 0;
  /** Re-measurements must be measured now, not answered by an earlier run's finished job of the same id. */
  private readonly run = randomBytes(6).toString('hex');

  /** `workers`: how many workers serve the device now; a batch keeps each of them busy. */
  constructor(conn: ConnectionOptions, device: DeviceRecord, private readonly w: Workload, readonly batchSize: number, say: (line: string) => void) {
    this.kind = device.kind;
    this.fingerprint = { ...device.fingerprint };
    this.spaceTarget = device.spaceTarget;
    this.outage = new OutageReporter(shownUrl(conn.url), say);
    this.queue = new Queue(queueName(device.fingerprint.key), { connection: connectionOf(conn) });
    this.queue.on('error', (e) => this.outage.failed(e));
  }

  compatible(other: Record<string, unknown>): boolean {
    return other.key === this.fingerprint.key;
  }

  async measure(programs: readonly Program[], ref: ReferenceSpec, opts: EvaluateOptions = {}) {
    const traces = opts.traces;
    if (!traces || traces.length !== programs.length) throw new Error('the farm measures traces: the tuner must pass one per program');
    const round = opts.again ? ++this.rounds : 0;
    const ids = traces.map((t) => jobId(ref.key, traceHash(t), this.fingerprint.key, round ? `${this.run}-${round}` : undefined));
    const fresh = new Map<string, Trace>();
    ids.forEach((id, i) => {
      if (opts.again || !this.seen.has(id)) fresh.set(id, traces[i]!);
    });
    const results = await this.collect(fresh, opts.bestSeconds);
    for (const [id, r] of results) this.seen.set(id, r);
    const first = new Set<string>();
    return ids.map((id) => {
      const cached = !fresh.has(id) || first.has(id);
      first.add(id);
      return { ...(results.get(id) ?? this.seen.get(id)!), cached };
    });
  }

  /** Publishes the jobs (an id already in the queue is kept as it is) and waits for each to finish. */
  private async collect(jobs: ReadonlyMap<string, Trace>, bestSeconds?: number): Promise<Map<string, { measurement: Measurement; codeHash: string }>> {
    const done = new Map<string, { measurement: Measurement; codeHash: string }>();
    const publish = (ids: readonly string[]) => this.queue.addBulk(ids.map((id) => ({
      name: 'measure',
      data: {
        workload: { op: this.w.op.name, params: this.w.params, dtype: this.w.dtype }, trace: jobs.get(id)!, fingerprint: this.fingerprint.key,
        ...(bestSeconds !== undefined && Number.isFinite(bestSeconds) ? { bestSeconds } : {}),
      },
      opts: { jobId: id, removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS } },
    })));
    await publish([...jobs.keys()]);
    this.outage.ok();
    while (done.size < jobs.size) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const missing: string[] = [];
      for (const id of jobs.keys()) {
        if (done.has(id)) continue;
        const job = await Job.fromId<MeasureJob, MeasureResult>(this.queue, id);
        if (!job) missing.push(id);
        else if (job.finishedOn !== undefined) done.set(id, this.outcome(job));
      }
      this.outage.ok();
      if (missing.length) await publish(missing);
    }
    return done;
  }

  private outcome(job: Job<MeasureJob, MeasureResult>): { measurement: Measurement; codeHash: string } {
    const raw = job.returnvalue as unknown;
    if (!job.failedReason && raw) {
      const checked = check(RESULT_SCHEMA, raw, 'result');
      if (!checked.ok) return { measurement: { status: 'crash', message: `the worker's result is malformed (${checked.problem}); not counted` }, codeHash: codelessHash(job.id) };
      const r = checked.value;
      if (r.fingerprint !== this.fingerprint.key) return { measurement: { status: 'rejected', message: `result from device ${r.fingerprint} for a job of ${this.fingerprint.key}: not counted` }, codeHash: codelessHash(job.id) };
      return { measurement: r.measurement, codeHash: r.codeHash };
    }
    const reason = job.failedReason ?? 'the job finished without a result';
    // BullMQ's words when a job's workers died under it more often than maxStalledCount allows.
    const status = /stalled/i.test(reason) ? 'crash' : 'rejected';
    const message = status === 'crash' ? `the job took down its worker twice (${reason}); not retried` : reason;
    return { measurement: { status, message }, codeHash: codelessHash(job.id) };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
