import { LoopsmithError } from '../ir/errors.js';

/**
 * An illegal use of a schedule primitive: names the primitive and the loops involved, and says
 * what would be legal. A search drops the candidate; the CLI prints the one line.
 */
export class ScheduleError extends LoopsmithError {
  constructor(
    readonly primitive: string,
    readonly loops: readonly string[],
    readonly problem: string,
    readonly legal: string,
  ) {
    super(`${primitive}: ${problem}; ${legal}`);
  }
}

/** A trace file that is not a trace: bad JSON, wrong version, unknown primitive, bad field. */
export class TraceFormatError extends LoopsmithError {}
