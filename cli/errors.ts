import { LoopsmithError, RunError } from '../ir/errors.js';
import { RecordsFileError } from '../tuner/records-file.js';

/**
 * Bad input ends the process with one line on stderr and exit code 2; work that failed on this
 * machine (RunError, or a records file that failed after work was done) with one line and exit
 * code 1; anything else is a bug in loopsmith and keeps its stack trace (exit 1) so it can be reported.
 */
export function reportAndExit(err: unknown): never {
  if (err instanceof LoopsmithError) {
    process.stderr.write(`loopsmith: ${err.message}\n`);
    process.exit(err instanceof RecordsFileError ? err.exitCode : err instanceof RunError ? 1 : 2);
  }
  process.stderr.write(`loopsmith: internal error (please report): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
