import { checkSchedule, assertIllegal, lowered } from './helpers.js';

describe('primitive: tile', () => {
  it('tiles two loops: outer parts first, then inner parts', () => {
    checkSchedule(lowered('gemm', { m: 4, n: 6, k: 2 }), [{ prim: 'tile', loops: ['i', 'j'], factors: [2, 3], tail: 'requireDivisible' }], `
for i.init in 0..4:
  for j.init in 0..6:
    C[i.init, j.init] = 0.0
for i.0 in 0..2:
  for j.0 in 0..2:
    for i.1 in 0..2:
      for j.1 in 0..3:
        for k in 0..2:  // reduce
          C[i.0 * 2 + i.1, j.0 * 3 + j.1] += A[i.0 * 2 + i.1, k] * B[k, j.0 * 3 + j.1]`);
  });

  it('tiles three loops', () => {
    checkSchedule(lowered('batch_matmul', { b: 2, m: 2, n: 2, k: 2 }), [{ prim: 'tile', loops: ['b', 'i', 'j'], factors: [1, 2, 2], tail: 'guard' }], `
for b.init in 0..2:
  for i.init in 0..2:
    for j.init in 0..2:
      C[b.init, i.init, j.init] = 0.0
for b.0 in 0..2:
  for i.0 in 0..1:
    for j.0 in 0..1:
      for b.1 in 0..1:
        for i.1 in 0..2:
          for j.1 in 0..2:
            for k in 0..2:  // reduce
              C[b.0 + b.1, i.0 * 2 + i.1, j.0 * 2 + j.1] += A[b.0 + b.1, i.0 * 2 + i.1, k] * B[b.0 + b.1, k, j.0 * 2 + j.1]`);
  });

  it('rejects the wrong number of loops or factors', () => {
    const p = lowered('gemm', { m: 4, n: 4, k: 4 });
    assertIllegal(p, [{ prim: 'tile', loops: ['i'], factors: [2], tail: 'guard' }], /tile takes 2 or 3 loops/);
    assertIllegal(p, [{ prim: 'tile', loops: ['i', 'j'], factors: [2], tail: 'guard' }], /1 factors for 2 loops/);
  });
});
