/**
 * Errors that describe bad input. The CLI prints `message` as one line and exits with 2;
 * anything else is a bug and keeps its stack trace.
 */
export class LoopsmithError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A shape, parameter or operator that does not exist or does not fit. */
export class InputError extends LoopsmithError {}

/**
 * Work that failed on this machine although the input was fine (a kernel that gives a wrong
 * answer, a reference that did not finish): one line too, but exit code 1.
 */
export class RunError extends LoopsmithError {}

/** An IR node built in violation of an invariant: always a bug in whoever built it. */
export class IRInvariantError extends Error {
  constructor(message: string) {
    super(`IR invariant violated: ${message}`);
    this.name = 'IRInvariantError';
  }
}
