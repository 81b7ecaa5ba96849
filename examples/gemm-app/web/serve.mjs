// A static server for web/ that prints the page's result. Usage: node web/serve.mjs [--port N] [--once]
// (--once: exit after the first result, 0 when the kernel was right). No dependencies.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--port');
const port = at >= 0 ? Number(args[at + 1]) : 8080;
const once = args.includes('--once');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json' };

const server = createServer(async (req, res) => {
  if (req.method === 'POST' && req.url === '/result') {
    let body = '';
    for await (const chunk of req) body += chunk;
    res.end();
    process.stdout.write(`result ${body}\n`);
    if (once) {
      server.close();
      process.exitCode = JSON.parse(body).ok ? 0 : 1;
      server.closeAllConnections();
    }
    return;
  }
  const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
  if (!path.startsWith(root)) return void res.writeHead(403).end();
  try {
    const file = path.endsWith('/') ? join(path, 'index.html') : path;
    const text = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(text);
  } catch {
    res.writeHead(404).end();
  }
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`serving http://127.0.0.1:${server.address().port}/ (web/)\n`));
