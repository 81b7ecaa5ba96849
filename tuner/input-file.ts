/**
 * Reading the files loopsmith takes as input (schedules, kernels manifests, records files): only a
 * regular file under its kind's size cap is read. Anything else is refused in one line before a
 * byte is read: opening a FIFO for reading blocks until a writer comes, a device such as /dev/zero
 * never ends, and a directory or socket holds no text. It lives in tuner/ because the records file
 * is read here; the CLI reads schedules and manifests through it too.
 */
import { Stats, closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { InputError } from '../ir/errors.js';

export interface InputKind {
  /** The file as messages name it: `cannot read ${what} ${path}`. */
  readonly what: string;
  /** Larger files are refused: they are the wrong file, and reading them whole would fill memory. */
  readonly maxBytes: number;
  /** What a legal file of this kind is, ending the message of a refusal. */
  readonly legal: string;
}

/** `1 MiB`, `256 MiB`, `1 GiB`: caps are whole powers of two. */
export function byteSize(n: number): string {
  return n >= 1 << 30 ? `${n / (1 << 30)} GiB` : n >= 1 << 20 ? `${n / (1 << 20)} MiB` : n >= 1 << 10 ? `${n / (1 << 10)} KiB` : `${n} bytes`;
}

/** What a file system entry is, in words ('a FIFO (named pipe)'). */
export function entryKind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function refuseUnlessRegular(path: string, st: Stats, kind: InputKind): void {
  if (!st.isFile()) throw new InputError(`cannot read ${kind.what} ${path}: it is ${entryKind(st)}, not a regular file; ${kind.legal}`);
}

function tooLarge(path: string, kind: InputKind): InputError {
  return new InputError(`${kind.what} ${path} is larger than ${byteSize(kind.maxBytes)}; ${kind.legal}`);
}

/**
 * The bytes of a regular file of at most `kind.maxBytes`. Refusals (not a regular file, too large)
 * are InputErrors with the whole message; a file-system error (ENOENT, EACCES, ...) is thrown as
 * it is, for the caller to word (a missing records file, for one, holds no records).
 */
export function readInputBytes(path: string, kind: InputKind): Buffer {
  // stat before open: a FIFO or a device is refused without being opened at all.
  refuseUnlessRegular(path, statSync(path), kind);
  // Should the path be swapped for a FIFO after the stat, O_NONBLOCK keeps the open from waiting
  // for a writer and fstat then refuses it; O_NOCTTY keeps a terminal from becoming ours.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    refuseUnlessRegular(path, st, kind);
    if (st.size > kind.maxBytes) throw tooLarge(path, kind);
    // Read to the end, but never past one byte over the cap: a file that grows while it is read, or
    // one in /proc that reports size 0, stays bounded. Sized by the stat, one read usually does.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(Math.max(st.size + 1 - total, 1 << 16), kind.maxBytes + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > kind.maxBytes) throw tooLarge(path, kind);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** The text of a regular file of at most `kind.maxBytes` (see readInputBytes). */
export function readInputFile(path: string, kind: InputKind): string {
  return readInputBytes(path, kind).toString('utf8');
}
