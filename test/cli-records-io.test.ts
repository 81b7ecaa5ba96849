import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordStore, TuningRecord, recordId } from '../tuner/records.js';
import { assertBadInput, cli } from './cli.test.js';

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

/** Tests run as root, for whom permissions stop nothing: full disks are /dev/full, broken paths run through regular files. */
describe('cli: records-file I/O errors are one line naming the path', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-records-io-'));
  const plain = join(dir, 'plain');
  writeFileSync(plain, 'not a directory');
  const other = join(dir, 'other.jsonl');
  new RecordStore(other).append(rec('x'));

  it('tune onto a full disk stops at the first record with exit 1', () => {
    failure(cli(...TUNE, '--records', '/dev/full'), 1, /^loopsmith: cannot write the records file \/dev\/full: ENOSPC \(no space left on device\); tuning stopped at trial 1$/);
  });

  it('tune with records under a regular file or at a directory: exit 2 before measuring', () => {
    failure(cli(...TUNE, '--records', join(plain, 'r.jsonl')), 2, /^loopsmith: cannot read the records file .*plain\/r\.jsonl: ENOTDIR/);
    const adir = join(dir, 'adir.jsonl');
    mkdirSync(adir);
    failure(cli(...TUNE, '--records', adir), 2, /^loopsmith: cannot read the records file .*adir\.jsonl: EISDIR/);
  });

  it('tune with --records /dev/null tunes and keeps nothing, not even a Q-model in /dev', () => {
    const r = cli(...TUNE, '--records', '/dev/null', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.ok((JSON.parse(r.stdout) as { best: unknown }).best);
    assert.ok(!existsSync('/dev/qmodels/gemm-c.json'), 'the Q-model would sit next to the records');
  });

  it('records: a device lists as empty; merge onto a full disk, prune of a device and export to a directory are one line, exit 2', () => {
    const list = cli('records', 'list', '--records', '/dev/full');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /0 records in \/dev\/full/);
    assertBadInput(cli('records', 'merge', other, '--records', '/dev/full'), /^loopsmith: cannot write the records file \/dev\/full: ENOSPC \(no space left on device\)$/);
    assertBadInput(cli('records', 'prune', '--records', '/dev/null'), /^loopsmith: cannot prune \/dev\/null: it is not a regular file$/);
    assertBadInput(cli('records', 'export', '--records', other, '--out', dir), /^loopsmith: cannot write the export .*loopsmith-records-io-\w+: EISDIR/);
    assertBadInput(cli('records', 'list', '--records', join(plain, 'r.jsonl')), /ENOTDIR/);
  });

  it('records merge of a missing file is an error naming it, and nothing is merged', () => {
    const mine = join(dir, 'mine.jsonl');
    assertBadInput(cli('records', 'merge', other, join(dir, 'typo.jsonl'), '--records', mine), /^loopsmith: cannot merge .*typo\.jsonl: ENOENT \(no such file or directory\)$/);
    assert.ok(!existsSync(mine));
  });
});
