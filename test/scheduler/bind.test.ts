import { checkSchedule, assertIllegal, lowered } from './helpers.js';

describe('primitive: bind', () => {
  it('binds spatial loops to workgroup and thread axes', () => {
    checkSchedule(lowered('gemm', { m: 4, n: 3, k: 2 }), [{ prim: 'bind', loop: 'i', axis: 'workgroup.x' }, { prim: 'bind', loop: 'j', axis: 'thread.x' }], `
for i.init in 0..4:
  for j.init in 0..3:
    C[i.init, j.init] = 0.0
for i in 0..4:  // workgroup.x
  for j in 0..3:  // thread.x
    for k in 0..2:  // reduce
      C[i, j] += A[i, k] * B[k, j]`);
  });

  it('rejects the same axis twice in a nest, reductions, and binding around a local tile', () => {
    const p = lowered('gemm', { m: 4, n: 4, k: 4 });
    assertIllegal(p, [{ prim: 'bind', loop: 'i', axis: 'thread.x' }, { prim: 'bind', loop: 'j', axis: 'thread.x' }], /thread\.x is already bound to i in this nest; free axes: workgroup\.x/, ['j', 'i']);
    assertIllegal(p, [{ prim: 'bind', loop: 'k', axis: 'thread.x' }], /k is a reduction loop: invocations would race/, ['k']);
    assertIllegal(p, [{ prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'i' }, { prim: 'bind', loop: 'j', axis: 'thread.x' }], /local buffer C\.local encloses j/);
  });
});
