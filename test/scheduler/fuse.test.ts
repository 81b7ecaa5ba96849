import { checkSchedule, assertIllegal, lowered } from './helpers.js';

describe('primitive: fuse', () => {
  it('fuses a loop with the loop directly inside it', () => {
    checkSchedule(lowered('gemm', { m: 2, n: 3, k: 2 }), [{ prim: 'fuse', outer: 'i', inner: 'j' }], `
for i.init in 0..2:
  for j.init in 0..3:
    C[i.init, j.init] = 0.0
for i.j.fused in 0..6:
  for k in 0..2:  // reduce
    C[i.j.fused / 3, i.j.fused % 3] += A[i.j.fused / 3, k] * B[k, i.j.fused % 3]`);
  });

  it('rejects loops that are not directly nested, mixed axes, and annotated loops', () => {
    const p = lowered('gemm', { m: 2, n: 3, k: 2 });
    assertIllegal(p, [{ prim: 'fuse', outer: 'i', inner: 'k' }], /k is not the only statement inside i; fuse a loop with the loop directly inside it \(its only child is j\)/, ['i', 'k']);
    assertIllegal(p, [{ prim: 'fuse', outer: 'j', inner: 'k' }], /j is a spatial loop and k a reduce loop/, ['j', 'k']);
    assertIllegal(p, [{ prim: 'parallel', loop: 'i' }, { prim: 'fuse', outer: 'i', inner: 'j' }], /annotated loop cannot be fused/);
  });
});
