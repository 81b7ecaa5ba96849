import { checkSchedule, assertIllegal, lowered } from './helpers.js';
import { bufferDecl, forLoop, store } from '../../ir/loop.js';
import { add, f32, int, load, variable } from '../../ir/expr.js';
import { program } from '../../ir/program.js';

describe('primitive: reorder', () => {
  it('permutes loops of a perfect nest, reduction loops included', () => {
    checkSchedule(lowered('gemm', { m: 2, n: 3, k: 4 }), [{ prim: 'reorder', loops: ['k', 'i', 'j'] }], `
for i.init in 0..2:
  for j.init in 0..3:
    C[i.init, j.init] = 0.0
for k in 0..4:  // reduce
  for i in 0..2:
    for j in 0..3:
      C[i, j] += A[i, k] * B[k, j]`);
  });

  it('keeps unnamed loops in place', () => {
    checkSchedule(lowered('gemm', { m: 2, n: 3, k: 4 }), [{ prim: 'reorder', loops: ['k', 'i'] }], `
for i.init in 0..2:
  for j.init in 0..3:
    C[i.init, j.init] = 0.0
for k in 0..4:  // reduce
  for j in 0..3:
    for i in 0..2:  
      C[i, j] += A[i, k] * B[k, j]`.replace('0..2:  \n', '0..2:\n'));
  });

  it('rejects loops that are not in one perfect nest, repeated names, and carried dependences', () => {
    const p = lowered('gemm', { m: 2, n: 3, k: 4 });
    assertIllegal(p, [{ prim: 'reorder', loops: ['i', 'j.init'] }], /not in the perfect nest below/, ['i', 'j.init']);
    assertIllegal(p, [{ prim: 'reorder', loops: ['i', 'i'] }], /named twice/);
    assertIllegal(lowered('gemm_bias_relu', { m: 2, n: 3, k: 4 }), [{ prim: 'vectorize', loop: 'j.epi' }, { prim: 'reorder', loops: ['j.epi', 'i.epi'] }], /puts loops inside vectorized loop j\.epi; reorder before vectorizing/);
    assertIllegal(p, [{ prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'j' }, { prim: 'reorder', loops: ['k', 'i'] }], /k is not in the perfect nest below i/, ['k', 'i']);
    // A prefix sum: each element reads the one before, so the loop order matters.
    const X = bufferDecl('X', [4, 4], 'f32', 'global', 'output');
    const scan = program('scan', [X], forLoop('a', 4, forLoop('b', 3, store('X', [variable('a'), add(variable('b'), int(1))],
      add(load('X', [variable('a'), variable('b')]), f32(1))))));
    assertIllegal(scan, [{ prim: 'reorder', loops: ['b', 'a'] }], /X reads itself at other indices inside a/);
  });
});
