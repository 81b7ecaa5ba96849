import { readFileSync } from 'node:fs';

/**
 * A model file saved beside the records, read back: absent (nothing saved yet), JSON, or the one
 * problem that makes it unusable (the caller names the file in a warning and starts afresh).
 */
export type SavedJson = { readonly status: 'absent' } | { readonly status: 'json'; readonly raw: unknown } | { readonly status: 'bad'; readonly problem: string };

export function readSavedJson(path: string): SavedJson {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
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
