import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeErrno } from '../cli/errors.js';
import { assertBadInput, cli } from './cli.test.js';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/**
 * Ordinary trouble with files is one line naming the path and the problem. Tests run as root, so
 * permissions stop nothing: a path under a regular file and /dev/full make the errors instead.
 */
describe('cli: file-system errors', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-io-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');

  // Output paths are checked before any work (cli/output-files.ts); an input path is checked when
  // it is read (tuner/input-file.ts): a path that is not a regular file is refused, and the errno
  // of one that cannot be reached is what the line reports.
  it('an input path under a regular file: ENOTDIR, with the path', () => {
    assertBadInput(cli('show', 'gemm', '--m', '4', '--n', '4', '--k', '4', '--schedule', join(file, 'trace.json')), /^loopsmith: cannot .*a-file\/trace\.json.*: a part of the path is a file, not a directory \(ENOTDIR\)$/);
  });

  it('an input path that is a directory: refused unopened, with the path', () => {
    assertBadInput(cli('show', 'gemm', '--m', '4', '--n', '4', '--k', '4', '--schedule', dir), /^loopsmith: cannot read schedule .*loopsmith-io-\w+: it is a directory, not a regular file; a schedule is a small JSON trace in a regular file of at most 1 MiB$/);
  });

  it('a full disk under standard output: ENOSPC in one line', () => {
    const full = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [MAIN, 'ops'], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
      assertBadInput({ code: r.status, stdout: '', stderr: r.stderr }, /^loopsmith: cannot write standard output: no space left on the device \(ENOSPC\)$/);
    } finally {
      closeSync(full);
    }
  });

  it('a reader that closes the pipe early (`loopsmith ops | head -1`) is no error', () => {
    // A pipe whose only reader is gone before loopsmith starts: its first write fails with EPIPE.
    const fifo = join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, 'w');
    closeSync(reader);
    try {
      const r = spawnSync(process.execPath, [MAIN, 'ops'], { stdio: ['ignore', writer, 'pipe'], encoding: 'utf8' });
      assert.equal(r.stderr, '');
      assert.equal(r.status, 0);
    } finally {
      closeSync(writer);
    }
  });

  it('names the operation, the path and the problem for every common code', () => {
    const err = (code: string, syscall: string, path?: string) => Object.assign(new Error(code), { code, syscall, ...(path ? { path } : {}) });
    assert.equal(describeErrno(err('EROFS', 'open', '/ro/records.jsonl')), 'cannot open /ro/records.jsonl: the file system is read-only (EROFS)');
    assert.equal(describeErrno(err('EACCES', 'mkdir', '/x/y')), 'cannot create the directory /x/y: permission denied (EACCES)');
    assert.equal(describeErrno(err('EEXIST', 'mkdir', '/x/y')), 'cannot create the directory /x/y: it already exists (EEXIST)');
    assert.equal(describeErrno(err('ENOENT', 'open', '/x/y')), 'cannot open /x/y: no such file or directory (ENOENT)');
    assert.equal(describeErrno(err('EPIPE', 'write'), 'standard output'), 'cannot write standard output: the reader closed the pipe (EPIPE)');
  });
});
