import { checkSchedule, assertIllegal, lowered } from './helpers.js';

describe('primitive: parallel', () => {
  it('marks spatial loops parallel, one per nest', () => {
    checkSchedule(lowered('gemm', { m: 4, n: 3, k: 2 }), [{ prim: 'parallel', loop: 'i' }, { prim: 'parallel', loop: 'i.init' }], `
for i.init in 0..4:  // parallel
  for j.init in 0..3:
    C[i.init, j.init] = 0.0
for i in 0..4:  // parallel
  for j in 0..3:
    for k in 0..2:  // reduce
      C[i, j] += A[i, k] * B[k, j]`);
  });

  it('rejects reductions, nested parallel loops, and loops that would share an accumulator', () => {
    const p = lowered('gemm', { m: 4, n: 4, k: 4 });
    assertIllegal(p, [{ prim: 'parallel', loop: 'k' }], /k is a reduction loop: threads would race/, ['k']);
    assertIllegal(p, [{ prim: 'parallel', loop: 'i' }, { prim: 'parallel', loop: 'j' }], /j is inside parallel loop i/, ['j', 'i']);
    assertIllegal(p, [{ prim: 'parallel', loop: 'j' }, { prim: 'parallel', loop: 'i' }], /j inside i is already parallel/, ['i', 'j']);
    assertIllegal(p, [{ prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'i' }, { prim: 'parallel', loop: 'j' }], /scratch buffer C\.local encloses j/);
  });
});
