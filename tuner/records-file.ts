import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, statSync, writeSync, Stats } from 'node:fs';
import { dirname } from 'node:path';
import { LoopsmithError } from '../ir/errors.js';
import { InputKind, byteSize, entryKind, readInputFile } from './input-file.js';

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
 * The most a records file may hold. The file is read into one string, and V8's strings end at
 * 512 MiB; a records line is 1-2 KiB, so this is still over a hundred thousand records.
 */
export const MAX_RECORDS_BYTES = 256 << 20;

export const RECORDS_FILE: InputKind = {
  what: 'the records file', maxBytes: MAX_RECORDS_BYTES,
  legal: `a records file is a regular file of at most ${byteSize(MAX_RECORDS_BYTES)}, or /dev/null to keep nothing`,
};

let nullDevice: Stats | undefined;
/** Is `st` /dev/null (also when reached through a link): the one device that holds records, none. */
function isNullDevice(st: Stats): boolean {
  try {
    nullDevice ??= statSync('/dev/null');
  } catch {
    return false;
  }
  return st.isCharacterDevice() && st.rdev === nullDevice.rdev;
}

/** Is `path` /dev/null, which keeps nothing written to it? */
export function isNullDevicePath(path: string): boolean {
  try {
    return isNullDevice(statSync(path));
  } catch {
    return false;
  }
}

/**
 * The text of the records file. A missing file holds no records, and so does /dev/null
 * (`--records /dev/null` keeps nothing); anything else that is not a regular file is refused.
 */
export function readRecordsText(path: string): string {
  if (isNullDevicePath(path)) return '';
  try {
    return readInputFile(path, RECORDS_FILE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new RecordsFileError(e instanceof LoopsmithError ? e.message : `cannot read the records file ${path}: ${ioProblem(e)}`);
  }
}

/** The system call appends write through: a test replaces it to act out a full disk (short writes, ENOSPC). */
export const appendIo = { write: (fd: number, buf: Buffer, offset: number, length: number): number => writeSync(fd, buf, offset, length) };

/** A write that stopped with no error and nothing written: the disk took no more. */
function stalled(done: number, length: number): Error {
  return new Error(`the write stopped after ${done} of ${length} bytes`);
}

/**
 * Appends one line durably: the whole line written, then fsync (/dev/null has nothing to sync). A
 * torn line from a killed run has no '\n': it is ended first, so the new line starts on its own.
 * When the write or the fsync fails (a full disk, a quota, a file too large), the file is cut back
 * to its size before the append, so it never keeps part of a line, and the error is thrown.
 */
export function appendLine(path: string, line: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    // The parent is a regular file: opening below names that as ENOTDIR, which says what is wrong.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // O_NONBLOCK: a FIFO put in the file's place is refused below instead of blocking a write.
  const fd = openSync(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK | constants.O_NOCTTY, 0o666);
  try {
    const st = fstatSync(fd);
    if (isNullDevice(st)) return;
    // The caller names the path: this says what is wrong with it.
    if (!st.isFile()) throw new Error(`it is ${entryKind(st)}, not a regular file; ${RECORDS_FILE.legal}`);
    let prefix = '';
    if (st.size > 0) {
      const last = Buffer.alloc(1);
      if (readSync(fd, last, 0, 1, st.size - 1) === 1 && last[0] !== 0x0a) prefix = '\n';
    }
    const buf = Buffer.from(prefix + line);
    try {
      // A full disk first writes what fits (a short write), then fails: keep writing until one or the other.
      for (let done = 0; done < buf.length;) {
        const n = appendIo.write(fd, buf, done, buf.length - done);
        if (n <= 0) throw stalled(done, buf.length);
        done += n;
      }
      fsyncSync(fd);
    } catch (e) {
      try {
        ftruncateSync(fd, st.size);
        fsyncSync(fd);
      } catch {
        // Cannot cut it back: the torn line is skipped on reading and ended by the next append.
      }
      throw e;
    }
  } finally {
    closeSync(fd);
  }
}
