import { checkSchedule, assertIllegal, lowered } from './helpers.js';

describe('primitive: unroll', () => {
  it('unrolls fully, or by a factor with a guarded tail', () => {
    checkSchedule(lowered('gemm', { m: 2, n: 8, k: 2 }), [
      { prim: 'reorder', loops: ['i', 'k', 'j'] }, { prim: 'unroll', loop: 'k' }, { prim: 'unroll', loop: 'j', factor: 3 },
    ], `
for i.init in 0..2:
  for j.init in 0..8:
    C[i.init, j.init] = 0.0
for i in 0..2:
  for k in 0..2:  // reduce, unrolled
    for j.0 in 0..3:
      for j.1 in 0..3:  // unrolled
        if j.0 * 3 + j.1 < 8:
          C[i, j.0 * 3 + j.1] += A[i, k] * B[k, j.0 * 3 + j.1]`);
  });

  it('rejects a full unroll of a long loop and a zero factor', () => {
    const p = lowered('gemm', { m: 2, n: 100, k: 2 });
    assertIllegal(p, [{ prim: 'unroll', loop: 'j' }], /extent 100 is more than 64 to unroll fully; unroll by a factor/, ['j']);
    assertIllegal(p, [{ prim: 'unroll', loop: 'j', factor: 0 }], /factor 0 is not a positive integer/);
  });
});
