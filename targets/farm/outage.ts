/**
 * One line when Redis goes away and one when it is back, however many clients report the outage
 * and however often they retry: the farm waits through a restart instead of failing. Errors that
 * are not about the connection (BullMQ's "Missing lock for job ..." when a job finished after its
 * lock expired during the outage: another worker measures it again) get a line of their own.
 */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

/** An error about reaching Redis (refused, reset, timed out, closed), not about a command. */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return /connection is closed|connect E|socket|stream isn't writeable/i.test(e instanceof Error ? e.message : String(e));
}

export class OutageReporter {
  private down = false;

  constructor(private readonly url: string, private readonly say: (line: string) => void) {}

  /** An error from any client (BullMQ re-emits the connection's). */
  failed(e: unknown): void {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    if (!isConnectionError(e)) {
      this.say(`farm: ${message}`);
      return;
    }
    if (this.down) return;
    this.down = true;
    const code = (e as { code?: string }).code;
    this.say(`farm: Redis at ${this.url} is unreachable (${code ?? message}); waiting for it to come back`);
  }

  /** A command went through. */
  ok(): void {
    if (!this.down) return;
    this.down = false;
    this.say(`farm: Redis at ${this.url} is back; resuming`);
  }
}
