import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBenchResult, withRatios, writeBenchResult } from '../cli/bench-results.js';
import { InputError } from '../ir/errors.js';
import { benchFixture } from './bench-fixture.js';

describe('bench results file', () => {
  it('writes bench-results/<fingerprint>/<date>.json and loads it back with every row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopsmith-bench-'));
    const r = benchFixture();
    const path = writeBenchResult(dir, r);
    assert.equal(path, join(dir, 'cpu-0123456789abcdef', '2026-11-24T20-00-00.000Z.json'));
    const back = loadBenchResult(path);
    assert.deepEqual(back, JSON.parse(JSON.stringify(r)));
    assert.equal(back.rows.length, r.rows.length);
    assert.equal(back.peers[0]!.chosen, 'core SkylakeX');
  });

  it('gives each verified row its ratio to the peer of the same workload and threads, and its fraction of the same device\'s peak', () => {
    const rows = benchFixture().rows;
    const mine1 = rows.find((x) => x.section === 'gemm-cpu' && x.kind === 'loopsmith' && x.threads === 1)!;
    assert.equal(mine1.xPeer, 100 / 160);
    assert.equal(mine1.ofPeak, 100 / 200);
    const wrong = rows.find((x) => x.status === 'wrong_answer')!;
    assert.equal(wrong.xPeer, undefined, 'a wrong kernel gets no ratio');
    const naiveConv = rows.find((x) => x.section === 'conv-cpu')!;
    assert.equal(naiveConv.xPeer, undefined, 'no peer row for that workload');
    assert.equal(naiveConv.ofPeak, 2 / 200);
    const gpu = rows.find((x) => x.section === 'webgpu' && x.kind === 'loopsmith')!;
    assert.equal(gpu.xPeer, 3);
    assert.equal(gpu.ofPeak, 15 / 50);
    const alone = withRatios([{ ...mine1, xPeer: undefined, ofPeak: undefined }], []);
    assert.equal(alone[0]!.xPeer, undefined, 'no peer, no peak: no ratios');
  });

  it('refuses a file that is not a bench result, naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopsmith-bench-'));
    const f = join(dir, 'x.json');
    writeFileSync(f, JSON.stringify({ ...benchFixture(), rows: [{ section: 'gemm-cpu', kernel: 'k', status: 'ok' }] }));
    assert.throws(() => loadBenchResult(f), (e: Error) => e instanceof InputError && /rows\[0\] needs section, workload/.test(e.message));
    writeFileSync(f, JSON.stringify({ ...benchFixture(), format: 99 }));
    assert.throws(() => loadBenchResult(f), /format is 99/);
    writeFileSync(f, '{');
    assert.throws(() => loadBenchResult(f), /cannot read bench results/);
  });
});
