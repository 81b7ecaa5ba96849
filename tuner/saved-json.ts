import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { InputError } from '../ir/errors.js';
import { InputKind, readInputFile } from './input-file.js';
import { dirname } from 'node:path';

/**
 * A model file saved beside the records, read back: absent (nothing saved yet), JSON, or the one
 * problem that makes it unusable (the caller names the file in a warning and starts afresh).
 */
export type SavedJson = { readonly status: 'absent' } | { readonly status: 'json'; readonly raw: unknown } | { readonly status: 'bad'; readonly problem: string };

/** A model beside the records: a regular file (never a FIFO or device, which could block or never end) of at most this. */
const SAVED_MODEL: InputKind = { what: 'saved model', maxBytes: 64 << 20, legal: 'a saved model is a JSON file loopsmith wrote' };

export function readSavedJson(path: string): SavedJson {
  let text: string;
  try {
    text = readInputFile(path, SAVED_MODEL);
  } catch (e) {
    if (e instanceof InputError) return { status: 'bad', problem: `cannot be used (${e.message})` };
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { status: 'absent' };
    return { status: 'bad', problem: `cannot be read (${code ?? (e as Error).message.split('\n')[0]})` };
  }
  try {
    return { status: 'json', raw: JSON.parse(text) as unknown };
  } catch {
    return { status: 'bad', problem: 'is not JSON (corrupted)' };
  }
}

/** Written to a temporary file and renamed, so a reader (or a run killed mid-save) sees the old file or the new one, never a torn one. */
export function writeSavedJson(path: string, json: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(json));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
