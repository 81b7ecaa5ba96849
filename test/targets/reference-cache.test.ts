import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execute, randomInputs } from '../../ir/execute.js';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { compiledReference } from '../../targets/c/reference.js';
import { ReferenceCache } from '../../targets/reference-cache.js';
import { References } from '../../targets/reference.js';
import { ReferenceSpec, measureSettings } from '../../targets/target.js';

const w = workload('gemm', { m: 16, n: 12, k: 8 });
const base = lowerWorkload(w);
const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };

/** References on the compiled path (jsReferenceFlops 0) that count how often the naive nest is compiled and run. */
function counted(dir: string, seed = 1) {
  const calls = { n: 0 };
  const refs = new References(measureSettings({ jsReferenceFlops: 0, referenceCacheDir: dir, seed }), (...args) => {
    calls.n++;
    return compiledReference(...args);
  });
  return { refs, calls };
}

describe('the compiled reference is kept on disk between runs', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-refcache-'));
  const file = new ReferenceCache(dir).file(w.key, 1, base);
  const want = execute(base, randomInputs(base, 1)).C!;

  it('a second References with the same directory reads the file instead of compiling again', async () => {
    const first = counted(dir);
    const a = await first.refs.get(ref);
    assert.equal(first.calls.n, 1);
    assert.ok(existsSync(file));
    const second = counted(dir);
    const b = await second.refs.get(ref);
    assert.equal(second.calls.n, 0, 'not recompiled');
    assert.deepEqual(b, a);
    assert.equal(b.C!.length, want.length);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')).length, 0, 'no temporary file left');
  });

  it('a short or altered file is never trusted: computed again and replaced', async () => {
    const good = readFileSync(file);
    for (const bad of [good.subarray(0, good.length - 4), Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([good[good.length - 1]! ^ 1])]), Buffer.from('not a header')]) {
      writeFileSync(file, bad);
      const again = counted(dir);
      const got = await again.refs.get(ref);
      assert.equal(again.calls.n, 1, 'recomputed');
      assert.deepEqual(got.C, new Float32Array(good.buffer.slice(good.byteOffset + good.indexOf(0x0a) + 1, good.byteOffset + good.length)));
      assert.deepEqual(readFileSync(file), good, 'the file is whole again');
    }
  });

  it('another seed is another file', async () => {
    const other = counted(dir, 2);
    await other.refs.get(ref);
    assert.equal(other.calls.n, 1);
    assert.ok(existsSync(new ReferenceCache(dir).file(w.key, 2, base)));
  });

  it('by default the cache is under $XDG_CACHE_HOME/loopsmith/references; off keeps nothing', async () => {
    const saved = process.env.XDG_CACHE_HOME;
    const home = mkdtempSync(join(tmpdir(), 'loopsmith-xdg-'));
    process.env.XDG_CACHE_HOME = home;
    try {
      await new References(measureSettings({ jsReferenceFlops: 0, referenceCacheDir: 'off' })).get(ref);
      assert.deepEqual(readdirSync(home), []);
      await new References(measureSettings({ jsReferenceFlops: 0 })).get(ref);
      assert.ok(existsSync(new ReferenceCache(join(home, 'loopsmith', 'references')).file(w.key, 1, base)));
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });

  it('a directory that cannot be written costs only the cache', async () => {
    const under = join(dir, 'a-file');
    writeFileSync(under, '');
    const r = counted(join(under, 'refs'));
    const got = await r.refs.get(ref);
    assert.equal(r.calls.n, 1);
    assert.equal(got.C!.length, want.length);
  });
});
