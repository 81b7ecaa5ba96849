/**
 * Writing output files (emit, build, report, records export and prune): every path is checked
 * before any work starts, files appear whole or not at all, and a path that cannot be written is
 * one line naming it and why (bad input, exit 2).
 *
 * A file is written to a temporary name beside its destination and renamed onto it, and only onto
 * a new path or a regular file: a directory, FIFO, device or socket is never replaced. A symbolic
 * link is written through (the link stays, its target gets the new bytes) only when it points to a
 * regular file under the folder being written in; a link to anything else, to a missing file, or
 * out of that folder is refused, so a planted link cannot send the bytes elsewhere.
 */
import { Stats, constants, accessSync, lstatSync, mkdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../ir/errors.js';
import { entryKind } from '../tuner/input-file.js';

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory, not a file',
  EEXIST: 'something else already exists there',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'its symbolic links go round in a loop',
};

/** The end of every refusal of an existing path: what may be written. */
const LEGAL = 'loopsmith writes new files and replaces regular files only';
const LINK_RULE = 'loopsmith writes through a link only to a regular file under the folder it writes in';

/** Bytes of one output file: text, or a copy of a file byte for byte (a backup). */
export type FileContent = string | Uint8Array;

function cannotWrite(path: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return new InputError(`cannot write ${path}: ${REASONS[code] ?? (e as Error).message.split('\n')[0]}`);
}

function statOrMissing(path: string, stat: (p: string) => Stats = statSync): Stats | undefined {
  try {
    return stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw cannotWrite(path, e);
  }
}

/** Is `path` outside `dir`? Lexical: call it with real paths (realPathAhead) to see through links. */
export function isOutside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

/**
 * The real path `path` will have once created: the part that exists with its symbolic links
 * resolved, the rest as written. A link anywhere on the way shows where writing really goes.
 */
export function realPathAhead(path: string): string {
  const rest: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      return join(realpathSync(p), ...rest);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(p) === p) return resolve(path);
      rest.unshift(basename(p));
    }
  }
}

/**
 * Where writing `path` puts its bytes: `path` itself when it is new or a regular file; the
 * target of a symbolic link when that is a regular file under `folder`. Anything else is refused.
 */
function destinationOf(path: string, folder: string): string {
  const st = statOrMissing(path, lstatSync);
  if (!st || st.isFile()) return path;
  if (!st.isSymbolicLink()) throw new InputError(`cannot write ${path}: it is ${entryKind(st)}, not a regular file; ${LEGAL}`);
  const target = statOrMissing(path);
  if (!target) throw new InputError(`cannot write ${path}: it is a symbolic link to ${readlinkSync(path)}, which does not exist; ${LINK_RULE}`);
  const real = realpathSync(path);
  if (!target.isFile()) throw new InputError(`cannot write ${path}: it is a symbolic link to ${real}, ${entryKind(target)}; ${LINK_RULE}`);
  const within = realPathAhead(folder);
  if (isOutside(real, within)) throw new InputError(`cannot write ${path}: it is a symbolic link to ${real}, outside ${within}; ${LINK_RULE}`);
  return real;
}

/**
 * The directories to create for `dir`, outermost first; refuses a path through something that is
 * not a directory and an existing ancestor that cannot be written. `forPath` is what the message names.
 */
function missingDirectories(dir: string, forPath = dir): string[] {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    const st = statOrMissing(d);
    if (st && !st.isDirectory()) throw new InputError(`cannot write ${forPath}: ${d} is ${st.isFile() ? 'a file' : entryKind(st)}, not a directory`);
    if (st) {
      try {
        accessSync(d, constants.W_OK);
      } catch (e) {
        throw cannotWrite(forPath, e);
      }
      return missing.reverse();
    }
    missing.push(d);
    if (dirname(d) === d) return missing.reverse();
  }
}

/**
 * Do two paths name one file? The same path spelled differently, or (both existing) one inode: a
 * symbolic or hard link to it.
 */
export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const sa = statSync(a), sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/**
 * Refuses an output that is one of the command's own input files (`report --out` onto the records
 * it reads, a build writing over its manifest): replaced, the input would be lost.
 */
export function refuseOverwritingInputs(out: string, inputs: readonly { readonly path: string; readonly what: string }[]): void {
  const input = inputs.find((i) => sameFile(out, i.path));
  if (input) throw new InputError(`cannot write ${out}: it is ${input.what} ${input.path}, which this command reads; write to another file`);
}

/** Refuses, before any work, a directory that `writeFiles` could not fill. */
export function checkOutputDirectory(dir: string, names: readonly string[] = []): void {
  missingDirectories(dir);
  for (const n of names) destinationOf(join(dir, n), dir);
}

/** Refuses, before any work, a file that `writeFile` could not write. */
export function checkOutputFile(path: string): void {
  destinationOf(path, dirname(path));
  missingDirectories(dirname(path), path);
}

/** Creates the temporary file, never through something already at its name (O_EXCL). */
function writeTemp(temp: string, content: FileContent): void {
  try {
    writeFileSync(temp, content, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // Left by a killed run with our process id: ours to replace.
    rmSync(temp, { force: true });
    writeFileSync(temp, content, { flag: 'wx' });
  }
}

/**
 * Writes every file into `dir` (created as needed) or none: each goes to a temporary name first,
 * and only when all are written are they renamed into place.
 */
export function writeFiles(dir: string, files: Readonly<Record<string, FileContent>>): string[] {
  checkOutputDirectory(dir, Object.keys(files));
  // One level at a time: Node's recursive mkdir never returns under /proc.
  for (const d of missingDirectories(dir)) {
    try {
      mkdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new InputError(`cannot write ${dir}: the file system does not allow creating ${d}`);
      if (code !== 'EEXIST') throw cannotWrite(dir, e);
    }
  }
  const staged: { temp: string; path: string; dest: string }[] = [];
  try {
    for (const [name, content] of Object.entries(files)) {
      const path = join(dir, name), dest = destinationOf(path, dir);
      // Beside the destination, so the rename stays on one file system and is atomic.
      const temp = join(dirname(dest), `.${basename(dest)}.${process.pid}.tmp`);
      staged.push({ temp, path, dest });
      try {
        writeTemp(temp, content);
      } catch (e) {
        throw cannotWrite(path, e);
      }
    }
    for (const { temp, path, dest } of staged) {
      // Checked again just before: what sits at the path may have changed while the files were written.
      if (destinationOf(path, dir) !== dest) throw new InputError(`cannot write ${path}: it was replaced while loopsmith was writing it`);
      try {
        renameSync(temp, dest);
      } catch (e) {
        throw cannotWrite(path, e);
      }
    }
  } catch (e) {
    for (const { temp } of staged) rmSync(temp, { force: true });
    throw e;
  }
  return staged.map((s) => s.path);
}

/** Writes one file whole or not at all (see writeFiles); a symbolic link counts under the file's folder. */
export function writeFile(path: string, content: FileContent): void {
  writeFiles(dirname(path), { [basename(path)]: content });
}
