import { closeSync, openSync, readSync } from 'node:fs';
import { InputError } from '../ir/errors.js';
import { Trace, parseTrace } from '../scheduler/trace.js';
import { problemOf } from './errors.js';

/** A hand-written or tuned trace is a few KiB; anything this large is the wrong file. */
export const MAX_SCHEDULE_BYTES = 1 << 20;

/**
 * Reads at most `limit` bytes of a file; a larger one (or an endless one such as /dev/zero) is
 * refused after reading one byte more, so nothing unbounded is ever held in memory.
 */
function readBounded(path: string, limit: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(limit + 1);
    let n = 0;
    for (let got = 1; got > 0 && n <= limit; n += got) got = readSync(fd, buf, n, limit + 1 - n, null);
    if (n > limit) throw new InputError(`schedule ${path} is larger than ${limit >> 20} MiB; a schedule is a small JSON trace`);
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

/** Reads a trace file; a missing, oversized or malformed file is bad input, reported in one line. */
export function loadSchedule(path: string): Trace {
  let text: string;
  try {
    text = readBounded(path, MAX_SCHEDULE_BYTES);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read schedule ${path}: ${problemOf(e as NodeJS.ErrnoException)}`);
  }
  try {
    return parseTrace(text);
  } catch (e) {
    if (e instanceof Error) e.message = `${path}: ${e.message}`;
    throw e;
  }
}
