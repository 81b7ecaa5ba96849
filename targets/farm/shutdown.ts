/**
 * How a worker stops: at the first SIGTERM or SIGINT it finishes its jobs in flight and leaves the
 * farm, however long the jobs take while Redis answers (their compile and run limits bound them);
 * but it stops waiting once Redis has not answered for --stop-timeout, since a result it cannot
 * deliver is worth nothing here: BullMQ hands the job to another worker when its lock expires.
 */
import type { Redis } from 'ioredis';

export type StopSignal = 'SIGTERM' | 'SIGINT';

/** How often a stopping worker asks Redis whether it is there, and how long it waits for the answer. */
const PING_EVERY_MS = 500;
const PING_WAIT_MS = 1000;

/**
 * Resolves at the first SIGTERM or SIGINT. Both handlers go then, so a second signal has its
 * default effect and ends the process at once: the way out of a stop that takes too long.
 */
export function firstSignal(): Promise<StopSignal> {
  return new Promise((resolve) => {
    const on = (sig: StopSignal) => () => {
      process.off('SIGTERM', term);
      process.off('SIGINT', int);
      resolve(sig);
    };
    const term = on('SIGTERM'), int = on('SIGINT');
    process.once('SIGTERM', term);
    process.once('SIGINT', int);
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Whether Redis answers a PING within `ms` (a client with an offline queue would wait for ever). */
async function answers(r: Redis, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((res) => (timer = setTimeout(() => res(false), ms)));
  try {
    return await Promise.race([r.ping().then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `leave` (finish the jobs, deregister) and resolves true when it is done, or false once
 * Redis has not answered for `silentMs` on end, counted from now: then `leave` is abandoned.
 * Silence is known at a PING's deadline, so the give-up comes after max(silentMs, PING_WAIT_MS),
 * within another PING_WAIT_MS.
 */
export async function leaveWhileAnswered(r: Redis, silentMs: number, leave: () => Promise<void>): Promise<boolean> {
  let done = false;
  const left = leave().then(() => true).finally(() => (done = true));
  const watch = async (): Promise<false> => {
    let lastAnswer = Date.now();
    while (!done) {
      const asked = Date.now();
      // Each PING gets its full wait, so that a slow answer on a loaded machine is not taken for silence.
      if (await answers(r, PING_WAIT_MS)) lastAnswer = Date.now();
      else if (Date.now() - lastAnswer >= silentMs) return false;
      await sleep(Math.max(0, PING_EVERY_MS - (Date.now() - asked)));
    }
    return false;
  };
  return Promise.race([left, watch()]);
}
