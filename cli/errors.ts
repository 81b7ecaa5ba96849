import { LoopsmithError, RunError } from '../ir/errors.js';
import { RecordsFileError } from '../tuner/records-file.js';

/** What the file system said, in words (the code stays in the message for searching). */
const PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'it already exists',
  EPIPE: 'the reader closed the pipe',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
};

const VERBS: Record<string, string> = { open: 'open', read: 'read', write: 'write', mkdir: 'create the directory', rename: 'rename', unlink: 'remove', copyfile: 'copy', scandir: 'list', stat: 'inspect', fsync: 'write' };

/** A Node file-system error: ordinary trouble with the machine, not a bug in loopsmith. */
export function isErrnoError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).code! in PROBLEMS;
}

/** `no space left on the device (ENOSPC)`, or the system's own words for a code not listed. */
export function problemOf(e: NodeJS.ErrnoException): string {
  const words = e.code ? PROBLEMS[e.code] : undefined;
  return words ? `${words} (${e.code})` : e.message;
}

/** `cannot write /dev/full: no space left on the device (ENOSPC)`; `what` names a path-less stream. */
export function describeErrno(e: NodeJS.ErrnoException & { dest?: string }, what?: string): string {
  const verb = VERBS[e.syscall ?? ''] ?? e.syscall ?? 'use';
  const target = e.path ?? what;
  return `cannot ${verb}${target ? ` ${target}` : ''}${e.dest ? ` to ${e.dest}` : ''}: ${problemOf(e)}`;
}

/**
 * Bad input and ordinary I/O failures (a full disk, a read-only file system, a path that is a file)
 * end the process with one line on stderr and exit code 2; work that failed on this machine
 * (RunError, or a records file that failed after work was done) with one line and exit code 1;
 * anything else is a bug in loopsmith and keeps its stack trace (exit 1) so it can be reported.
 */
export function reportAndExit(err: unknown, what?: string): never {
  if (err instanceof LoopsmithError || isErrnoError(err)) {
    process.stderr.write(`loopsmith: ${err instanceof LoopsmithError ? err.message : describeErrno(err, what)}\n`);
    process.exit(err instanceof RecordsFileError ? err.exitCode : err instanceof RunError ? 1 : 2);
  }
  process.stderr.write(`loopsmith: internal error (please report): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
