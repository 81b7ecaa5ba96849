import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { CTarget } from '../../targets/c/target.js';
import { ReferenceFailure, References } from '../../targets/reference.js';
import { ReferenceSpec, measureSettings } from '../../targets/target.js';
import { TargetEvaluator } from '../../tuner/evaluate.js';
import { RecordStore } from '../../tuner/records.js';
import { tune } from '../../tuner/tune.js';

// gemm 512's reference takes ~0.1 s, so that its 1 ms limit expires even on a busy machine (on gemm 128
// a loaded event loop has seen the 3 ms run finish before the timer fired, in CI).
const w = workload('gemm', { m: 512, n: 512, k: 512 });
const ref: ReferenceSpec = { key: w.key, unscheduled: lowerWorkload(w), flops: w.flops };
// jsReferenceFlops 0 sends every problem to the compiled reference; 1 ms is too short for any run of it.
// No disk cache: a reference stored by an earlier run must not stand in for the one that fails here.
const tooShort = { jsReferenceFlops: 0, referenceTimeoutMs: 1, referenceCacheDir: 'off' };

describe('the compiled reference: a failure ends the run and blames no candidate', function () {
  this.timeout(120_000);

  it('a timeout is a reference_timeout naming the workload and the setting, kept so the reference never runs twice', async () => {
    const refs = new References(measureSettings(tooShort));
    const first = await refs.get(ref).then(() => undefined, (e: unknown) => e);
    assert.ok(first instanceof ReferenceFailure, String(first));
    assert.equal(first.status, 'reference_timeout');
    assert.match(first.message, /^reference_timeout: the compiled naive reference for gemm\(k=512,m=512,n=512,transA=0,transB=0\):f32 did not finish in 0\.001 s \(the referenceTimeoutMs setting\); no kernel can be checked without it, so none was blamed$/);
    const second = await refs.get(ref).then(() => undefined, (e: unknown) => e);
    assert.equal(second, first, 'the same failure, not a second run');
  });

  it('a reference compiler that fails is a reference_error', async () => {
    const refs = new References(measureSettings({ jsReferenceFlops: 0, referenceCompiler: 'false', referenceCacheDir: 'off' }));
    await assert.rejects(refs.get(ref), (e: unknown) => e instanceof ReferenceFailure && e.status === 'reference_error' && /it did not compile: false failed/.test(e.message));
  });

  it('tune stops with it and records no candidate as failed', async () => {
    const records = new RecordStore(join(mkdtempSync(join(tmpdir(), 'loopsmith-ref-')), 'r.jsonl'));
    const evaluator = new TargetEvaluator(new CTarget({ ...tooShort, minSeconds: 0.01 }));
    try {
      await assert.rejects(tune(w, evaluator, { strategy: 'random', trials: 4, seed: 1, records, version: 'test' }), (e: unknown) => e instanceof ReferenceFailure && e.status === 'reference_timeout');
    } finally {
      await evaluator.close();
    }
    assert.equal(existsSync(records.path) ? readFileSync(records.path, 'utf8') : '', '');
  });
});
