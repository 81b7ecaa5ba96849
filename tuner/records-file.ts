import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LoopsmithError } from '../ir/errors.js';

/**
 * The records file cannot be read or written: one line naming the path and the problem. Exit 2,
 * or 1 when work was done before it (a tune that measured candidates it could not record).
 */
export class RecordsFileError extends LoopsmithError {
  constructor(message: string, readonly exitCode: 1 | 2 = 2) {
    super(message);
  }
}

/** An I/O error in a few words: the code and the system's description ("ENOSPC (no space left on device)"). */
export function ioProblem(e: unknown): string {
  const { code, message } = e as NodeJS.ErrnoException;
  const first = String(message).split('\n')[0]!;
  // Node writes "CODE: description, syscall 'path'"; the path is named by the caller.
  const described = code ? /^\w+: (.*?), \w+/.exec(first)?.[1] : undefined;
  return code ? (described ? `${code} (${described})` : code) : first;
}

/**
 * The text of the records file. A missing file holds no records, and so does a device or FIFO:
 * `--records /dev/null` keeps nothing, and reading /dev/full or /dev/zero would never end.
 */
export function readRecordsText(path: string): string {
  try {
    return isDevice(path) ? '' : readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new RecordsFileError(`cannot read the records file ${path}: ${ioProblem(e)}`);
  }
}

/** Is `path` a device (such as /dev/null) rather than a file that keeps what is written to it? */
export function isDevice(path: string): boolean {
  try {
    const st = statSync(path);
    return !st.isFile() && !st.isDirectory();
  } catch {
    return false;
  }
}

/**
 * Appends one line durably: a single write, then fsync (a device has nothing to sync). A torn
 * line from a killed run has no '\n': it is ended first, so the new line starts on its own.
 */
export function appendLine(path: string, line: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    // The parent is a regular file: opening below names that as ENOTDIR, which says what is wrong.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const fd = openSync(path, 'a+');
  try {
    const st = fstatSync(fd);
    let prefix = '';
    if (st.isFile() && st.size > 0) {
      const last = Buffer.alloc(1);
      if (readSync(fd, last, 0, 1, st.size - 1) === 1 && last[0] !== 0x0a) prefix = '\n';
    }
    writeSync(fd, prefix + line);
    if (st.isFile()) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
