/**
 * Cases from a hostile pass over the commands (issue 25: nothing lost, nothing hangs, no wrong
 * kernel or figure): each was lost data, a hang or a stack trace before its fix.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordStore, TuningRecord, recordId } from '../tuner/records.js';
import { assertBadInput, cli } from './cli.test.js';

const FIXTURES = fileURLToPath(new URL('../../scheduler/fixtures/', import.meta.url));
const FLOPS = 2 * 8 * 8 * 8;

function rec(id: string, gflops: number): TuningRecord {
  return {
    format: 1, id: recordId(id), workload: { key: 'gemm(k=8,m=8,n=8,transA=0,transB=0):f32', op: 'gemm', params: { m: 8, n: 8, k: 8 }, dtype: 'f32' },
    target: { kind: 'c', fingerprint: { key: 'cpu:a' } }, trace: { version: 1, steps: [] }, traceHash: id,
    outcome: { status: 'ok', gflops, median: FLOPS / gflops / 1e9 }, strategy: 'flex', seed: 1, trial: 0, timestamp: new Date(0).toISOString(), loopsmith: 'test',
  };
}

describe('cli: hostile inputs', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-hostile-'));

  it('report --out onto its own records file (any spelling) is refused and the records stay', () => {
    const records = join(dir, 'r.jsonl');
    new RecordStore(records).append(rec('x', 5));
    const before = readFileSync(records);
    for (const out of [records, join(dir, '.', 'r.jsonl')]) {
      assertBadInput(cli('report', '--records', records, '--out', out), /^loopsmith: cannot write .*r\.jsonl: it is the records file .*r\.jsonl, which this command reads; write to another file$/);
    }
    assert.ok(readFileSync(records).equals(before), 'the records file is unchanged');
  });

  it('a kernel whose generated file is the manifest itself is refused; the manifest stays', () => {
    // As a WGSL kernel "kernels" beside kernels.json would write kernels.json; C writes <name>.c.
    const sub = mkdtempSync(join(dir, 'build-'));
    const manifest = join(sub, 'self.c');
    const text = JSON.stringify({ kernels: [{ name: 'self', op: 'gemm', params: { m: 8, n: 8, k: 8 }, out: '.', fallback: true, verify: false }] });
    writeFileSync(manifest, text);
    const r = cli('build', manifest);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^loopsmith: cannot write .*self\.c: it is the manifest .*self\.c, which this command reads; write to another file$/m);
    assert.equal(readFileSync(manifest, 'utf8'), text);
  });

  it('emit never writes over the schedule file it was given', () => {
    const sub = mkdtempSync(join(dir, 'emit-'));
    copyFileSync(join(FIXTURES, 'gemm-gpu-64.json'), join(sub, 'gemm.json'));
    const before = readFileSync(join(sub, 'gemm.json'));
    assertBadInput(cli('emit', 'gemm', '--m', '64', '--n', '64', '--k', '64', '--lang', 'wgsl', '--schedule', join(sub, 'gemm.json'), '--out', sub, '--no-verify'),
      /^loopsmith: cannot write .*gemm\.json: it is the schedule file .*gemm\.json, which this command reads; write to another file$/);
    assert.ok(readFileSync(join(sub, 'gemm.json')).equals(before));
  });
});
