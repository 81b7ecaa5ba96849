import assert from 'node:assert/strict';
import { checkSchedule, assertIllegal, lowered, nest } from './helpers.js';
import { applyTrace } from '../../scheduler/apply.js';
import { expertGpuGemm } from '../../scheduler/expert.js';
import { trace } from '../../scheduler/trace.js';

describe('primitive: cacheRead', () => {
  it('packs the tile an inner nest reads, zero-filling the padding, so the padding guard goes away', () => {
    checkSchedule(lowered('conv1d', { n: 1, c: 2, w: 6, k: 2, kw: 3, pad: 1 }), [
      { prim: 'split', loop: 'ow', factors: [3], tail: 'requireDivisible' },
      { prim: 'cacheRead', buffer: 'X', scope: 'local', at: 'ow.0' },
    ], `
for n.init in 0..1:
  for k.init in 0..2:
    for ow.init in 0..6:
      Y[n.init, k.init, ow.init] = 0.0
for n in 0..1:
  for k in 0..2:
    for ow.0 in 0..2:
      alloc local X.local: f32[1, 2, 5]
      for X.local.1 in 0..2:
        for X.local.2 in 0..5:
          X.local[0, X.local.1, X.local.2] = select(ow.0 * 3 - 1 + X.local.2 >= 0 && ow.0 * 3 - 1 + X.local.2 < 6, X[n, X.local.1, ow.0 * 3 - 1 + X.local.2], 0.0)
      for ow.1 in 0..3:
        for rc in 0..2:  // reduce
          for rw in 0..3:  // reduce
            Y[n, k, ow.0 * 3 + ow.1] += X.local[0, rc, ow.1 + rw] * W[k, rc, rw]`);
  });

  it('keeps a padding guard whose fallback is not zero (max pooling) or whose dimension is cached whole', () => {
    const pool = applyTrace(lowered('max_pool2d', { n: 1, c: 2, h: 6, w: 6, kh: 3, kw: 3, stride: 1, pad: 1 }), trace([{ prim: 'cacheRead', buffer: 'X', scope: 'local', at: 'oh' }]));
    assert.match(nest(pool), /max= select\(/);
    const t = applyTrace(lowered('conv1d_transpose', { n: 1, c: 2, w: 6, k: 2, kw: 3, stride: 2, pad: 1 }), trace([{ prim: 'cacheRead', buffer: 'X', scope: 'local', at: 'ow' }]));
    assert.match(nest(t), /\+= select\(/, 'the transposed gather index is not affine: X is cached whole, the guard stays');
  });

  it('stages workgroup tiles with a cooperative copy and barriers, covering every thread of the workgroup', () => {
    const p = applyTrace(lowered('gemm', { m: 16, n: 16, k: 8 }), expertGpuGemm(16, 16, 8));
    const text = nest(p);
    assert.match(text, /alloc workgroup A\.shared: f32\[16, 8\]\n\s+for A\.shared\.c in 0\.\.128: {2}\/\/ cooperative/);
    assert.match(text, /barrier\(\)\n\s+for k\.1 in 0\.\.8/);
    assert.match(text, /C\.local\[i\.2, j\.2\] \+= A\.shared\[i\.1 \* 4 \+ i\.2, k\.1\] \* B\.shared\[k\.1, j\.1 \* 4 \+ j\.2\]/);
  });

  it('rejects a cache outside its consumer, a non-input, and misplaced scopes', () => {
    const p = lowered('gemm', { m: 4, n: 4, k: 4 });
    assertIllegal(p, [{ prim: 'cacheRead', buffer: 'A', scope: 'local', at: 'j.init' }], /nothing inside j\.init reads A: the cache would sit outside its consumer; loops that enclose reads of A: i, j, k/, ['j.init']);
    assertIllegal(p, [{ prim: 'cacheRead', buffer: 'C', scope: 'local', at: 'j' }], /C is not an input of this kernel; inputs: A, B/);
    assertIllegal(p, [{ prim: 'bind', loop: 'j', axis: 'workgroup.x' }, { prim: 'cacheRead', buffer: 'A', scope: 'workgroup', at: 'i' }], /workgroup loop j is inside the workgroup cache/);
    assertIllegal(p, [{ prim: 'parallel', loop: 'i' }, { prim: 'cacheRead', buffer: 'B', scope: 'workgroup', at: 'j' }], /workgroup memory is for GPU nests; use scope local/);
    const big = lowered('gemm', { m: 2048, n: 8192, k: 1024 });
    assertIllegal(big, [{ prim: 'cacheRead', buffer: 'B', scope: 'local', at: 'i' }], /more than 4194304; place the cache at a deeper loop/);
  });

  it('refuses a workgroup cache inside the cooperative copy loop of another: its barriers would not be in uniform control flow (fuzz seed 194713752)', () => {
    const p = lowered('conv3d_transpose', { n: 1, c: 1, d: 1, h: 1, w: 1, k: 1, kd: 1, kh: 1, kw: 2, stride: 1, pad: 0, dilation: 1, groups: 1 });
    assertIllegal(p, [
      { prim: 'fuse', outer: 'n', inner: 'k' },
      { prim: 'fuse', outer: 'n.k.fused', inner: 'od' },
      { prim: 'fuse', outer: 'n.k.fused.od.fused', inner: 'oh' },
      { prim: 'fuse', outer: 'n.k.fused.od.fused.oh.fused', inner: 'ow' },
      { prim: 'split', loop: 'n.k.fused.od.fused.oh.fused.ow.fused', factors: [2], tail: 'guard' },
      { prim: 'bind', loop: 'n.k.fused.od.fused.oh.fused.ow.fused.1', axis: 'thread.x' },
      { prim: 'cacheRead', buffer: 'X', scope: 'workgroup', at: 'rd' },
      { prim: 'cacheRead', buffer: 'X', scope: 'workgroup', at: 'X.shared.c' },
    ], /X\.shared\.c is the cooperative copy loop of another workgroup cache: .* would not be reached by all of them; place it outside that copy loop/, ['X.shared.c']);
  });
});
