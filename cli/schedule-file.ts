import { LoopsmithError, InputError } from '../ir/errors.js';
import { Trace, parseTrace } from '../scheduler/trace.js';
import { InputKind, readInputFile } from '../tuner/input-file.js';
import { problemOf } from './errors.js';

/** A hand-written or tuned trace is a few KiB; anything this large is the wrong file. */
export const MAX_SCHEDULE_BYTES = 1 << 20;

export const SCHEDULE_FILE: InputKind = { what: 'schedule', maxBytes: MAX_SCHEDULE_BYTES, legal: 'a schedule is a small JSON trace in a regular file of at most 1 MiB' };

/** Reads a trace file; a missing, oversized, non-regular or malformed file is bad input, reported in one line. */
export function loadSchedule(path: string): Trace {
  let text: string;
  try {
    text = readInputFile(path, SCHEDULE_FILE);
  } catch (e) {
    if (e instanceof LoopsmithError) throw e;
    throw new InputError(`cannot read schedule ${path}: ${problemOf(e as NodeJS.ErrnoException)}`);
  }
  try {
    return parseTrace(text);
  } catch (e) {
    if (e instanceof Error) e.message = `${path}: ${e.message}`;
    throw e;
  }
}
