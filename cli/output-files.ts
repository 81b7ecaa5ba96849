/**
 * Writing generated files: every path is checked before any work starts, files appear whole or not
 * at all, and a path that cannot be written is one line naming it and why (bad input, exit 2).
 */
import { Stats, constants, accessSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../ir/errors.js';

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
};

function cannotWrite(path: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return new InputError(`cannot write ${path}: ${REASONS[code] ?? (e as Error).message.split('\n')[0]}`);
}

function statOrMissing(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw cannotWrite(path, e);
  }
}

/**
 * The directories to create for `dir`, outermost first; refuses a path through a file and an
 * existing ancestor that cannot be written. `forPath` is what the message names.
 */
function missingDirectories(dir: string, forPath = dir): string[] {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    const st = statOrMissing(d);
    if (st && !st.isDirectory()) throw new InputError(`cannot write ${forPath}: ${d} is a file, not a directory`);
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

/** Refuses, before any work, a directory that `writeFiles` could not fill. */
export function checkOutputDirectory(dir: string, names: readonly string[] = []): void {
  missingDirectories(dir);
  for (const n of names) if (statOrMissing(join(dir, n))?.isDirectory()) throw new InputError(`cannot write ${join(dir, n)}: it is a directory, not a file`);
}

export function checkOutputFile(path: string): void {
  if (statOrMissing(path)?.isDirectory()) throw new InputError(`cannot write ${path}: it is a directory, not a file`);
  missingDirectories(dirname(path), path);
}

/**
 * Writes every file into `dir` (created as needed) or none: each goes to a temporary name first,
 * and only when all are written are they renamed into place.
 */
export function writeFiles(dir: string, files: Readonly<Record<string, string>>): string[] {
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
  const staged: { temp: string; path: string }[] = [];
  try {
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir, name), temp = join(dir, `.${name}.${process.pid}.tmp`);
      staged.push({ temp, path });
      try {
        writeFileSync(temp, text);
      } catch (e) {
        throw cannotWrite(path, e);
      }
    }
    for (const { temp, path } of staged) {
      try {
        renameSync(temp, path);
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

export function writeFile(path: string, text: string): void {
  writeFiles(dirname(path), { [basename(path)]: text });
}
