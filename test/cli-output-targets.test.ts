import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Stats, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBadInput, cli, cliWithin } from './cli.test.js';

const SCHEDULE = fileURLToPath(new URL('../../scheduler/fixtures/gemm-cpu-64.json', import.meta.url));
const EMIT = ['emit', 'gemm', '--m', '64', '--n', '64', '--k', '64', '--schedule', SCHEDULE, '--no-verify'];

/** Each writer writes `out.c` into a folder (emit also out.h): what already sits at out.c decides. */
const WRITERS: Record<string, (folder: string) => string[]> = {
  'report --out': (d) => ['report', '--records', '/dev/null', '--out', join(d, 'out.c')],
  'records export --out': (d) => ['records', 'export', '--records', '/dev/null', '--out', join(d, 'out.c')],
  'emit --out': (d) => [...EMIT, '--name', 'out', '--out', d],
};

/**
 * Outputs are renamed into place only over new paths and regular files; a symbolic link is written
 * through only to a regular file under the folder being written (cli/output-files.ts).
 */
describe('cli: what an output may replace', function () {
  this.timeout(180_000);
  const root = mkdtempSync(join(tmpdir(), 'loopsmith-targets-'));
  const outside = join(root, 'outside.c');
  writeFileSync(outside, 'not ours');
  let n = 0;
  /** A fresh folder holding `make(out.c)`. */
  const folderWith = (make: (path: string) => void): string => {
    const d = join(root, `case${n++}`);
    mkdirSync(d);
    make(join(d, 'out.c'));
    return d;
  };
  const kinds: [string, (path: string) => void, RegExp, (st: Stats) => boolean][] = [
    ['a FIFO', (p) => assert.equal(spawnSync('mkfifo', [p]).status, 0), /it is a FIFO \(named pipe\), not a regular file; loopsmith writes new files and replaces regular files only$/, (st) => st.isFIFO()],
    ['a directory', (p) => mkdirSync(p), /it is a directory, not a regular file/, (st) => st.isDirectory()],
    ['a symbolic link out of the folder', (p) => symlinkSync(outside, p), /it is a symbolic link to .*outside\.c, outside .*case\d+; loopsmith writes through a link only to a regular file under the folder it writes in$/, (st) => st.isSymbolicLink()],
    ['a symbolic link to a missing file', (p) => symlinkSync('gone.c', p), /it is a symbolic link to gone\.c, which does not exist; loopsmith writes through a link only to a regular file under the folder it writes in$/, (st) => st.isSymbolicLink()],
    ['a character device (mknod)', (p) => assert.equal(spawnSync('mknod', [p, 'c', '1', '3']).status, 0), /it is a character device, not a regular file/, (st) => st.isCharacterDevice()],
  ];

  for (const [writer, args] of Object.entries(WRITERS)) {
    for (const [kind, make, pattern, still] of kinds) {
      it(`${writer} onto ${kind} is refused, and it stays as it was`, function () {
        if (kind.includes('mknod') && process.getuid?.() !== 0) this.skip(); // mknod needs root; the tests run as root here and in CI
        const d = folderWith(make);
        assertBadInput(cliWithin(30_000, ...args(d)), new RegExp(`^loopsmith: cannot write .*case\\d+/out\\.c: ${pattern.source}`));
        assert.ok(still(lstatSync(join(d, 'out.c'))), 'not replaced');
        assert.deepEqual(readdirSync(d), ['out.c'], 'nothing else written, no temporary file left');
      });
    }
  }
  it('no writer touched the file outside', () => assert.equal(readFileSync(outside, 'utf8'), 'not ours'));

  for (const writer of ['report --out', 'records export --out']) {
    it(`${writer} onto a link to a regular file in the same folder writes through it; the link stays`, () => {
      const d = folderWith((p) => {
        writeFileSync(join(p, '..', 'real.c'), 'old');
        symlinkSync('real.c', p);
      });
      const r = cli(...WRITERS[writer]!(d));
      assert.equal(r.code, 0, r.stderr);
      assert.ok(lstatSync(join(d, 'out.c')).isSymbolicLink());
      assert.notEqual(readFileSync(join(d, 'real.c'), 'utf8'), 'old');
      assert.deepEqual(readdirSync(d).sort(), ['out.c', 'real.c']);
    });
  }

  it('report --out onto a link to a FIFO in the same folder is refused: a link is written through only to a regular file', () => {
    const d = folderWith((p) => {
      assert.equal(spawnSync('mkfifo', [join(p, '..', 'pipe')]).status, 0);
      symlinkSync('pipe', p);
    });
    assertBadInput(cliWithin(30_000, ...WRITERS['report --out']!(d)), /cannot write .*out\.c: it is a symbolic link to .*pipe, a FIFO \(named pipe\); loopsmith writes through a link only to a regular file/);
    assert.ok(lstatSync(join(d, 'pipe')).isFIFO());
  });

  describe('build: an "out" that a symbolic link takes out of the manifest\'s folder', () => {
    const kernel = { name: 'g', op: 'gemm', params: { m: 64, n: 64, k: 64 }, schedule: SCHEDULE, verify: false };
    const project = join(root, 'project'), elsewhere = join(root, 'elsewhere');
    mkdirSync(join(project, 'real'), { recursive: true });
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(project, 'gen')); // the out folder itself
    symlinkSync('..', join(project, 'up')); // a parent of the out folder
    symlinkSync('real', join(project, 'alias')); // a link that stays inside
    const manifest = (name: string, out: string) => {
      const path = join(project, `${name}.json`);
      writeFileSync(path, JSON.stringify({ records: '/dev/null', kernels: [{ ...kernel, out }] }));
      return path;
    };

    it('is refused in one line without --allow-outside, nothing written', () => {
      assertBadInput(cli('build', manifest('gen', 'gen')), /kernels\[0\]\.out: gen is outside the manifest's folder .*project \(through a symbolic link, it is .*elsewhere\); write under it, or pass --allow-outside$/);
      assertBadInput(cli('build', manifest('up', 'up/escaped')), /kernels\[0\]\.out: up\/escaped is outside the manifest's folder .*project \(through a symbolic link, it is .*loopsmith-targets-\w+\/escaped\)/);
      assert.deepEqual(readdirSync(elsewhere), []);
      assert.ok(!existsSync(join(root, 'escaped')));
    });

    it('is written with --allow-outside; a link that stays inside needs nothing', () => {
      const r = cli('build', manifest('gen', 'gen'), '--allow-outside');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readdirSync(elsewhere).sort(), ['g.c', 'g.h']);
      const inside = cli('build', manifest('alias', 'alias/c'));
      assert.equal(inside.code, 0, inside.stderr);
      assert.deepEqual(readdirSync(join(project, 'real', 'c')).sort(), ['g.c', 'g.h']);
    });
  });
});
