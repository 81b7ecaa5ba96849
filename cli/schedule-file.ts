import { readFileSync } from 'node:fs';
import { InputError } from '../ir/errors.js';
import { Trace, parseTrace } from '../scheduler/trace.js';

/** Reads a trace file; a missing or malformed file is bad input, reported in one line. */
export function loadSchedule(path: string): Trace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read schedule ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parseTrace(text);
  } catch (e) {
    if (e instanceof Error) e.message = `${path}: ${e.message}`;
    throw e;
  }
}
