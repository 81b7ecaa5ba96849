import { checkSchedule, assertIllegal, lowered } from './helpers.js';

describe('primitive: vectorize', () => {
  it('marks an innermost spatial loop vectorized', () => {
    checkSchedule(lowered('gemm', { m: 2, n: 8, k: 2 }), [{ prim: 'reorder', loops: ['i', 'k', 'j'] }, { prim: 'vectorize', loop: 'j' }], `
for i.init in 0..2:
  for j.init in 0..8:
    C[i.init, j.init] = 0.0
for i in 0..2:
  for k in 0..2:  // reduce
    for j in 0..8:  // vectorized
      C[i, j] += A[i, k] * B[k, j]`);
  });

  it('rejects a reduction axis, a loop that is not innermost, and one wider than the target allows', () => {
    const p = lowered('gemm', { m: 2, n: 8, k: 2 });
    assertIllegal(p, [{ prim: 'vectorize', loop: 'k' }], /k is a reduction loop: its lanes would race on one accumulator; split the reduction/, ['k']);
    assertIllegal(p, [{ prim: 'vectorize', loop: 'j' }], /j is not innermost \(it contains k\)/, ['j', 'k']);
    const wide = lowered('gemm', { m: 2, n: 128, k: 2 });
    assertIllegal(wide, [{ prim: 'reorder', loops: ['k', 'j'] }, { prim: 'vectorize', loop: 'j' }], /extent 128 is more than 64 lanes; split j by the vector width/);
    assertIllegal(p, [{ prim: 'reorder', loops: ['k', 'j'] }, { prim: 'vectorize', loop: 'j' }, { prim: 'vectorize', loop: 'j' }], /already vectorized/);
  });
});
