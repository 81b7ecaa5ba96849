/** Which loopsmith a bench result came from: the package version and, in a git checkout, the commit. */
import { readFileSync } from 'node:fs';
import { exec } from '../targets/exec.js';

export async function version(): Promise<{ version: string; commit?: string }> {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const git = await exec('git', ['describe', '--always', '--dirty'], { timeoutMs: 10_000 });
  return { version: pkg.version, ...(git.code === 0 ? { commit: git.stdout.trim() } : {}) };
}
