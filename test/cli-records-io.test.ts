import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordStore, RecordsFileError, TuningRecord, recordId } from '../tuner/records.js';
import { assertBadInput, cli } from './cli.test.js';
import { diskFullAfter } from './full-disk.js';

const GEMM = ['gemm', '--m', '8', '--n', '8', '--k', '8'];
const TUNE = ['tune', ...GEMM, '--trials', '3', '--min-time', '0.01'];

/** The last line of stderr (tune prints what it is about to do first), with no stack trace anywhere. */
function failure(r: ReturnType<typeof cli>, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error|\bat .*\.js:\d+/);
  assert.match(r.stderr.trimEnd().split('\n').at(-1)!, pattern);
}

function rec(id: string): TuningRecord {
  const median = 1e-6;
  return {
    format: 1, id: recordId(id), workload: { key: 'gemm(k=8,m=8,n=8,transA=0,transB=0):f32', op: 'gemm', params: { m: 8, n: 8, k: 8 }, dtype: 'f32' },
    target: { kind: 'c', fingerprint: { key: 'cpu:a' } }, trace: { version: 1, steps: [] }, traceHash: id,
    outcome: { status: 'ok', median, gflops: (2 * 8 * 8 * 8) / median / 1e9 }, strategy: 'flex', seed: 1, trial: 0, timestamp: new Date(0).toISOString(), loopsmith: 'test',
  };
}

/** Tests run as root, for whom permissions stop nothing: broken paths run through regular files. */
describe('cli: records-file I/O errors are one line naming the path', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-records-io-'));
  const plain = join(dir, 'plain');
  writeFileSync(plain, 'not a directory');
  const other = join(dir, 'other.jsonl');
  new RecordStore(other).append(rec('x'));

  it('tune with records under a regular file or at a directory: exit 2 before measuring', () => {
    failure(cli(...TUNE, '--records', join(plain, 'r.jsonl')), 2, /^loopsmith: cannot read the records file .*plain\/r\.jsonl: ENOTDIR/);
    const adir = join(dir, 'adir.jsonl');
    mkdirSync(adir);
    failure(cli(...TUNE, '--records', adir), 2, /^loopsmith: cannot read the records file .*adir\.jsonl: it is a directory, not a regular file/);
  });

  it('tune with --records /dev/null tunes and keeps nothing, not even a Q-model or a cost model in /dev', () => {
    const r = cli(...TUNE, '--records', '/dev/null', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.ok((JSON.parse(r.stdout) as { best: unknown }).best);
    assert.ok(!existsSync('/dev/qmodels/gemm-c.json'), 'the Q-model would sit next to the records');
    assert.ok(!existsSync('/dev/models/gemm-c.json'), 'and so would the cost model');
  });

  it('records: merge into /dev/full (a device that is not /dev/null) and prune of /dev/null are one line, exit 2', () => {
    assertBadInput(cli('records', 'merge', other, '--records', '/dev/full'), /^loopsmith: cannot read the records file \/dev\/full: it is a character device, not a regular file; a records file is a regular file of at most 256 MiB, or \/dev\/null to keep nothing$/);
    assertBadInput(cli('records', 'prune', '--records', '/dev/null'), /^loopsmith: cannot prune \/dev\/null: it is not a regular file$/);
    assertBadInput(cli('records', 'list', '--records', join(plain, 'r.jsonl')), /ENOTDIR/);
  });

  it('records merge of a missing file is an error naming it, and nothing is merged', () => {
    const mine = join(dir, 'mine.jsonl');
    assertBadInput(cli('records', 'merge', other, join(dir, 'typo.jsonl'), '--records', mine), /^loopsmith: cannot merge .*typo\.jsonl: ENOENT \(no such file or directory\)$/);
    assert.ok(!existsSync(mine));
  });
});

/** Export writes the best records only: over its own records file it would drop all the others. */
describe('cli: records export and merge onto their own records file', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-records-self-'));
  const records = join(dir, 'r.jsonl');
  const db = new RecordStore(records);
  // 17 records of one workload and device: export would keep one.
  for (let i = 0; i < 17; i++) db.append({ ...rec(`r${i}`), trial: i });
  const before = readFileSync(records);
  symlinkSync(records, join(dir, 'symlink.jsonl'));
  linkSync(records, join(dir, 'hardlink.jsonl'));

  const spellings: [string, string][] = [
    ['the same path', records],
    ['another spelling (./)', `${dir}/./r.jsonl`],
    ['a symbolic link to it', join(dir, 'symlink.jsonl')],
    ['a hard link to it', join(dir, 'hardlink.jsonl')],
  ];
  for (const [how, out] of spellings) {
    it(`export --out ${how} is refused before anything is written; the records stay byte for byte`, () => {
      assertBadInput(cli('records', 'export', '--records', records, '--out', out), /^loopsmith: cannot write the export .*: it is the records file .*r\.jsonl itself \(export keeps only the best records\); export to another file$/);
      assert.ok(readFileSync(records).equals(before));
      assert.ok(lstatSync(join(dir, 'symlink.jsonl')).isSymbolicLink());
      assert.equal(statSync(records).nlink, 2, 'the hard link is still one');
    });
  }

  it('merge of the records file into itself (by any name) is refused', () => {
    for (const [, other] of spellings) assertBadInput(cli('records', 'merge', other, '--records', records), /^loopsmith: cannot merge .*: it is the records file .*r\.jsonl itself; merge other files into it$/);
    assert.ok(readFileSync(records).equals(before));
  });

  it('prune still rewrites in place, through a symbolic link, keeping <file>.bak', () => {
    const link = join(dir, 'symlink.jsonl');
    const r = cli('records', 'prune', '--records', link);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(lstatSync(link).isSymbolicLink(), 'the link stays, its file is rewritten');
    assert.ok(readFileSync(`${link}.bak`).equals(before));
    assert.equal(new RecordStore(records).load().records.length, 17, 'all were ok');
  });
});

/** A full disk: the append that fails is cut off again, so the file keeps only whole records. */
describe('cli: records on a full disk never keep a torn line', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-records-full-'));

  it('a short write, then ENOSPC: the file is cut back to what it held, and the error says so', () => {
    for (const stall of [false, true]) {
      const path = join(dir, `r-${stall}.jsonl`);
      const db = new RecordStore(path);
      db.append(rec('a'));
      db.append(rec('b'));
      const before = readFileSync(path);
      const restore = diskFullAfter(100, stall);
      try {
        assert.throws(() => db.append(rec('c')), (e: unknown) => e instanceof RecordsFileError && e.exitCode === 2 && new RegExp(
          `^cannot write the records file .*r-${stall}\\.jsonl: ${stall ? 'the write stopped after 100 of \\d+ bytes' : 'ENOSPC \\(no space left on device\\)'}; the 2 records appended before it are kept; the file holds 2 records$`).test(e.message));
      } finally {
        restore();
      }
      const after = readFileSync(path);
      assert.ok(after.equals(before), 'exactly the previous whole records');
      assert.equal(after.at(-1), 0x0a, 'ends with a line end');
      db.append(rec('c'));
      assert.deepEqual(new RecordStore(path).load(), { records: [rec('a'), rec('b'), rec('c')], warnings: [], invalid: 0 });
    }
  });

  describe('on a real full file system (a 64 KiB tmpfs)', () => {
    const mnt = join(dir, 'tmpfs');
    let mounted = false;
    let records = '', held = Buffer.alloc(0);
    before(function () {
      // Mounting needs root and a kernel that lets this container mount: skipped where it cannot.
      mkdirSync(mnt);
      mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]).status === 0;
      if (!mounted) this.skip();
      // Three records padded to just under one page, then the rest of the file system filled: the
      // next record fits in part (a short write) and then hits ENOSPC.
      records = join(mnt, 'r.jsonl');
      const lines = ['a', 'b', 'c'].map((id) => JSON.stringify(rec(id)) + '\n').join('');
      writeFileSync(records, lines + ' '.repeat(4000 - Buffer.byteLength(lines) - 1) + '\n');
      held = readFileSync(records);
      const filler = openSync(join(mnt, 'filler'), 'w');
      try {
        for (;;) writeSync(filler, Buffer.alloc(4096));
      } catch (e) {
        assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
      } finally {
        closeSync(filler);
      }
    });
    after(() => {
      if (mounted) spawnSync('umount', [mnt]);
    });

    it('records merge: exit 2, the file byte for byte as before', () => {
      const theirs = join(dir, 'theirs.jsonl');
      new RecordStore(theirs).append(rec('x'));
      assertBadInput(cli('records', 'merge', theirs, '--records', records), /^loopsmith: cannot write the records file .*r\.jsonl: ENOSPC \(no space left on device\); the file holds 3 records$/);
      assert.ok(readFileSync(records).equals(held));
    });

    it('tune: exit 1 at the first record, the file byte for byte as before', () => {
      failure(cli(...TUNE, '--records', records), 1, /^loopsmith: cannot write the records file .*r\.jsonl: ENOSPC \(no space left on device\); the file holds 3 records; tuning stopped at trial \d+$/);
      assert.ok(readFileSync(records).equals(held));
    });
  });
});
