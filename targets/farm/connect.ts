/**
 * The first contact with the farm's Redis, bounded. Every command that starts by talking to the farm
 * (worker, tune --farm, devices --farm, farm status) gives up after --connect-timeout with one line
 * naming the URL and the problem, instead of waiting for a server that is not there: a refused
 * port, a host that drops packets, and a port that accepts connections but never answers (not
 * Redis, or a stopped one) all end the same way.
 */
import { Redis } from 'ioredis';
import { LoopsmithError, RunError } from '../../ir/errors.js';
import { isConnectionError } from './outage.js';
import { ConnectionOptions, connectionOf, shownUrl } from './protocol.js';

/** --connect-timeout's default: as long as ioredis's own connect timeout. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** What the network said, in words (the code stays in the message for searching). */
const PROBLEMS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be looked up',
};

/** Redis's refusals at the handshake, by the first word of its reply. */
const REFUSALS: Record<string, string> = {
  NOAUTH: 'it wants a password (NOAUTH): redis://:password@host:port',
  WRONGPASS: 'it refused the password (WRONGPASS)',
};

function problemOf(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && PROBLEMS[code]) return `${PROBLEMS[code]} (${code})`;
  const message = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
  // ioredis's words for a reply that is not Redis's protocol ("Unknown RESP type 72 "H". Please report this."): not a bug to report, another server.
  const foreign = /^Unknown RESP type \d+ (".*?")/.exec(message);
  if (foreign) return `the server there does not speak Redis (its reply began with ${foreign[1]}: an HTTP server, or another service on that port)`;
  return message.replace(/\.$/, '');
}

/** Why the first contact failed, and what to check. */
function unreachable(e: unknown): string {
  const refusal = REFUSALS[(e instanceof Error ? e.message : String(e)).split(' ')[0]!];
  return refusal ?? `${problemOf(e)}; is redis-server running there, and are the host and port right?`;
}

function connectTimeoutMs(conn: ConnectionOptions): number {
  return conn.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
}

/**
 * ioredis options for a client that fails instead of waiting: it does not reconnect, and each
 * command has the connect timeout too (a server that stops answering mid-way).
 */
function oneShotOptions(conn: ConnectionOptions): Record<string, unknown> {
  const ms = connectTimeoutMs(conn);
  return { ...connectionOf(conn), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: ms, commandTimeout: ms };
}

/** A connected client that answered PING within --connect-timeout, or a RunError naming the URL and the problem. */
export async function connectOnce(conn: ConnectionOptions): Promise<Redis> {
  const ms = connectTimeoutMs(conn);
  const r = new Redis(conn.url, oneShotOptions(conn));
  // ioredis reports the cause (ECONNREFUSED, WRONGPASS ...) as an event and rejects with "Connection is closed".
  let cause: unknown;
  r.on('error', (e) => (cause ??= e));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s (--connect-timeout)`)), ms);
  });
  try {
    await Promise.race([r.connect().then(() => r.ping()), late]);
    return r;
  } catch (e) {
    r.disconnect();
    throw new RunError(`cannot reach the farm's Redis at ${shownUrl(conn.url)}: ${unreachable(cause ?? e)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Failures of the conversation with Redis, as opposed to bugs in what we do with its answers. */
function isRedisFailure(e: unknown): boolean {
  return isConnectionError(e) || (e instanceof Error && (e.name === 'ReplyError' || /Command timed out/.test(e.message)));
}

/** Runs one-shot queries on a client from connectOnce; a server that stops answering is one line too. */
export async function withFarmRedis<T>(conn: ConnectionOptions, f: (r: Redis) => Promise<T>): Promise<T> {
  const r = await connectOnce(conn);
  try {
    return await f(r);
  } catch (e) {
    if (e instanceof LoopsmithError || !isRedisFailure(e)) throw e;
    throw new RunError(`the farm's Redis at ${shownUrl(conn.url)} stopped answering: ${problemOf(e)}`);
  } finally {
    r.disconnect();
  }
}
