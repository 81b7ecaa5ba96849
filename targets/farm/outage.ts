/**
 * One line when Redis goes away and one when it is back, however many clients report the outage
 * and however often they retry: the farm waits through a restart instead of failing.
 */
export class OutageReporter {
  private down = false;

  constructor(private readonly url: string, private readonly say: (line: string) => void) {}

  /** An error from any client (BullMQ re-emits the connection's). */
  failed(e: unknown): void {
    if (this.down) return;
    this.down = true;
    const code = (e as { code?: string }).code;
    this.say(`farm: Redis at ${this.url} is unreachable (${code ?? (e instanceof Error ? e.message.split('\n')[0] : String(e))}); waiting for it to come back`);
  }

  /** A command went through. */
  ok(): void {
    if (!this.down) return;
    this.down = false;
    this.say(`farm: Redis at ${this.url} is back; resuming`);
  }
}
