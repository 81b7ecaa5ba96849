import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBadInput, cli } from './cli.test.js';

const SCHEDULE = fileURLToPath(new URL('../../scheduler/fixtures/gemm-cpu-64.json', import.meta.url));
const EMIT = ['emit', 'gemm', '--m', '64', '--n', '64', '--k', '64', '--schedule', SCHEDULE];

// Tests run as root, so permissions stop nothing: a path through a regular file, a directory where
// a file goes, and /proc (where nothing can be created) stand in for unwritable places.
describe('cli: output paths that cannot be written', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-outputs-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');

  it('emit --out naming a file, or a folder under a file', () => {
    assertBadInput(cli(...EMIT, '--out', file), new RegExp(`^loopsmith: cannot write ${file}: ${file} is a file, not a directory$`));
    assertBadInput(cli(...EMIT, '--out', join(file, 'sub')), new RegExp(`cannot write ${file}/sub: ${file} is a file, not a directory$`));
  });

  it('emit --out naming a FIFO: it is no folder, and it is not opened', () => {
    const fifo = join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    assertBadInput(cli(...EMIT, '--out', fifo), new RegExp(`^loopsmith: cannot write ${fifo}: ${fifo} is a FIFO \\(named pipe\\), not a directory$`));
  });

  it('emit --out where nothing can be created (under /proc) ends, in one line', () => {
    assertBadInput(cli(...EMIT, '--no-verify', '--out', '/proc/loopsmith-test/kernels'), /^loopsmith: cannot write \/proc\/loopsmith-test\/kernels: the file system does not allow creating \/proc\/loopsmith-test$/);
  });

  it('emit where a generated file\'s name is taken by a directory writes none of the files', () => {
    const out = join(dir, 'taken');
    mkdirSync(join(out, 'gemm.h'), { recursive: true });
    assertBadInput(cli(...EMIT, '--no-verify', '--out', out), /cannot write .*taken\/gemm\.h: it is a directory, not a regular file; loopsmith writes new files and replaces regular files only$/);
    assert.deepEqual(readdirSync(out), ['gemm.h']);
  });

  it('report --out naming a directory, or a file under a file', () => {
    assertBadInput(cli('report', '--records', join(dir, 'none.jsonl'), '--out', dir), /cannot write .*: it is a directory, not a regular file; loopsmith writes new files and replaces regular files only$/);
    assertBadInput(cli('report', '--records', join(dir, 'none.jsonl'), '--out', join(file, 'r.html')), new RegExp(`cannot write ${file}/r.html: ${file} is a file, not a directory$`));
  });

  it('build with an out folder under a file is refused before any kernel is made', () => {
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'gen'), 'x');
    writeFileSync(join(project, 'kernels.json'), JSON.stringify({ kernels: [{ name: 'g', op: 'gemm', params: { m: 64, n: 64, k: 64 }, out: 'gen/c', schedule: SCHEDULE }] }));
    assertBadInput(cli('build', join(project, 'kernels.json')), /cannot write .*project\/gen\/c: .*project\/gen is a file, not a directory$/);
  });
});
