import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** What a page run reported: the line it shows, and the fields it posts. */
export type PageResult = { ok: boolean; line: string } & Record<string, unknown>;

/**
 * Serves a folder with its `serve.mjs --once`, opens the page in headless Chromium with WebGPU
 * enabled, and returns what the page posted. Chromium runs in its own process group, killed after.
 */
export async function runPage(serveScript: string, cwd: string, profile: string, timeoutMs = 120_000): Promise<PageResult> {
  const server = spawn(process.execPath, [serveScript, '--port', '0', '--once'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  server.stderr.on('data', (d: Buffer) => (err += String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    server.stdout.on('data', (d: Buffer) => {
      out += String(d);
      const m = /serving (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    server.on('exit', (code) => reject(new Error(`serve.mjs exited ${code}: ${err}`)));
  });
  const browser = spawn('chromium', [
    '--headless=new', '--no-sandbox', '--no-first-run', '--no-default-browser-check', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--enable-unsafe-webgpu', '--enable-features=Vulkan', `--user-data-dir=${join(profile)}`, url,
  ], { stdio: 'ignore', detached: true });
  try {
    const ended = new Promise<void>((resolve) => server.on('exit', () => resolve()));
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
    if ((await Promise.race([ended, timer])) === 'timeout') throw new Error(`the page posted no result within ${timeoutMs / 1000} s`);
    const line = out.split('\n').find((l) => l.startsWith('result '));
    if (!line) throw new Error(`no result from the page: ${out}${err}`);
    return JSON.parse(line.slice('result '.length)) as PageResult;
  } finally {
    try {
      process.kill(-browser.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    server.kill();
  }
}
