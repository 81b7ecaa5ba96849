import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_RECORDS_BYTES } from '../tuner/records-file.js';
import { assertBadInput, cli, cliWithin } from './cli.test.js';

const SHOW = ['show', 'gemm', '--m', '4', '--n', '4', '--k', '4'];
/** Long enough for a loaded machine to start node, far shorter than a hang. */
const QUICK_MS = 15_000;

/** Every input is read through tuner/input-file.ts: what is not a regular file is refused unopened. */
describe('cli: inputs must be regular files under a size cap', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-inputs-'));
  const fifo = join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  const adir = join(dir, 'adir');
  mkdirSync(adir);

  // Opening a FIFO for reading waits for a writer: a CLI that opened it would be killed at QUICK_MS.
  const inputs: [string, (path: string) => string[], RegExp][] = [
    ['--schedule', (p) => [...SHOW, '--schedule', p], /^loopsmith: cannot read schedule PATH: it is KIND, not a regular file; a schedule is a small JSON trace in a regular file of at most 1 MiB$/],
    ['a kernels manifest', (p) => ['build', p], /^loopsmith: cannot read kernels manifest PATH: it is KIND, not a regular file; a kernels manifest is a JSON file of at most 1 MiB$/],
    ['--records', (p) => ['records', 'list', '--records', p], /^loopsmith: cannot read the records file PATH: it is KIND, not a regular file; a records file is a regular file of at most 256 MiB, or \/dev\/null to keep nothing$/],
  ];
  const like = (pattern: RegExp, path: string, kind: string) => new RegExp(pattern.source.replace('PATH', path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).replace('KIND', kind.replace(/[()]/g, '\\$&')));

  for (const [what, args, pattern] of inputs) {
    it(`${what}: a FIFO is refused at once, a directory too`, () => {
      assertBadInput(cliWithin(QUICK_MS, ...args(fifo)), like(pattern, fifo, 'a FIFO (named pipe)'));
      assertBadInput(cli(...args(adir)), like(pattern, adir, 'a directory'));
    });
  }

  it('a character device (made with mknod, and /dev/zero, /dev/urandom, /dev/full) is refused unread', function () {
    if (process.getuid?.() !== 0) this.skip(); // mknod needs root; the tests run as root here and in CI
    const zero = join(dir, 'zero');
    assert.equal(spawnSync('mknod', [zero, 'c', '1', '5']).status, 0, 'mknod');
    for (const [, args, pattern] of inputs) assertBadInput(cliWithin(QUICK_MS, ...args(zero)), like(pattern, zero, 'a character device'));
    assertBadInput(cliWithin(QUICK_MS, ...SHOW, '--schedule', '/dev/urandom'), /schedule \/dev\/urandom: it is a character device, not a regular file/);
    assertBadInput(cliWithin(QUICK_MS, 'build', '/dev/zero'), /kernels manifest \/dev\/zero: it is a character device/);
    assertBadInput(cliWithin(QUICK_MS, 'records', 'list', '--records', '/dev/full'), /records file \/dev\/full: it is a character device/);
  });

  it('a socket as a schedule is refused', async () => {
    const socket = join(dir, 'socket');
    const server: Server = createServer();
    await new Promise<void>((done) => server.listen(socket, done));
    try {
      assertBadInput(cliWithin(QUICK_MS, ...SHOW, '--schedule', socket), /cannot read schedule .*socket: it is a socket, not a regular file/);
    } finally {
      server.close();
    }
  });

  it('/dev/null stays a records file that holds nothing', () => {
    const r = cliWithin(QUICK_MS, 'records', 'list', '--records', '/dev/null');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /0 records in \/dev\/null/);
  });

  it('files over the cap are refused before they are read: manifests over 1 MiB, records over 256 MiB', () => {
    const manifest = join(dir, 'big-kernels.json');
    writeFileSync(manifest, `{"kernels": [], "pad": "${'x'.repeat(1 << 20)}"}`);
    assertBadInput(cli('build', manifest), /^loopsmith: kernels manifest .*big-kernels\.json is larger than 1 MiB; a kernels manifest is a JSON file of at most 1 MiB$/);
    const records = join(dir, 'big.jsonl');
    writeFileSync(records, '');
    truncateSync(records, MAX_RECORDS_BYTES + 1); // sparse: no disk, and it is never read
    assertBadInput(cli('records', 'list', '--records', records), /^loopsmith: the records file .*big\.jsonl is larger than 256 MiB; a records file is a regular file/);
  });
});
