import { checkSchedule, assertIllegal, lowered } from './helpers.js';

const gemv = () => lowered('gemv', { m: 6, k: 4 });

describe('primitive: split', () => {
  it('splits a loop into nested levels (divisible)', () => {
    checkSchedule(gemv(), [{ prim: 'split', loop: 'i', factors: [3], tail: 'requireDivisible' }], `
for i.init in 0..6:
  y[i.init] = 0.0
for i.0 in 0..2:
  for i.1 in 0..3:
    for k in 0..4:  // reduce
      y[i.0 * 3 + i.1] += A[i.0 * 3 + i.1, k] * x[k]`);
  });

  it('splits into three levels', () => {
    checkSchedule(gemv(), [{ prim: 'split', loop: 'k', factors: [2, 1], tail: 'requireDivisible' }], `
for i.init in 0..6:
  y[i.init] = 0.0
for i in 0..6:
  for k.0 in 0..2:  // reduce
    for k.1 in 0..2:  // reduce
      for k.2 in 0..1:  // reduce
        y[i] += A[i, k.0 * 2 + k.1 + k.2] * x[k.0 * 2 + k.1 + k.2]`);
  });

  it('guards a tail with a bounds check around the statement', () => {
    checkSchedule(gemv(), [{ prim: 'split', loop: 'i', factors: [4], tail: 'guard' }], `
for i.init in 0..6:
  y[i.init] = 0.0
for i.0 in 0..2:
  for i.1 in 0..4:
    for k in 0..4:  // reduce
      if i.0 * 4 + i.1 < 6:
        y[i.0 * 4 + i.1] += A[i.0 * 4 + i.1, k] * x[k]`);
  });

  it('pads a spatial tail: global loads read 0, global stores are guarded', () => {
    checkSchedule(gemv(), [{ prim: 'split', loop: 'i', factors: [4], tail: 'pad' }], `
for i.init in 0..6:
  y[i.init] = 0.0
for i.0 in 0..2:
  for i.1 in 0..4:
    for k in 0..4:  // reduce
      if i.0 * 4 + i.1 < 6:
        y[i.0 * 4 + i.1] += select(i.0 * 4 + i.1 < 6, A[i.0 * 4 + i.1, k], 0.0) * x[k]`);
  });

  it('rejects illegal splits with the loops involved and what is legal', () => {
    assertIllegal(gemv(), [{ prim: 'split', loop: 'i', factors: [0], tail: 'guard' }], /factor 0 is not a positive integer/, ['i']);
    assertIllegal(gemv(), [{ prim: 'split', loop: 'i', factors: [8], tail: 'guard' }], /multiply to 8, more than the extent 6 of i/, ['i']);
    assertIllegal(gemv(), [{ prim: 'split', loop: 'i', factors: [4], tail: 'requireDivisible' }], /4 does not divide the extent 6 of i; use factors whose product divides 6 \(2, 3\)/, ['i']);
    assertIllegal(gemv(), [{ prim: 'split', loop: 'k', factors: [3], tail: 'pad' }], /padding reduction loop k/, ['k']);
    assertIllegal(gemv(), [{ prim: 'split', loop: 'q', factors: [2], tail: 'guard' }], /there is no loop 'q'; loops are: i\.init, i, k/, ['q']);
    assertIllegal(gemv(), [{ prim: 'split', loop: 'i', factors: [], tail: 'guard' }], /no factors given/);
    assertIllegal(gemv(), [{ prim: 'parallel', loop: 'i' }, { prim: 'split', loop: 'i', factors: [2], tail: 'guard' }], /i is already parallel; split loops before annotating/);
  });
});
