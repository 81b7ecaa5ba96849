import assert from 'node:assert/strict';
import { assertSameResults, checkSchedule, assertIllegal, lowered, nest } from './helpers.js';
import { applyTrace } from '../../scheduler/apply.js';
import { Step, trace } from '../../scheduler/trace.js';

describe('primitive: cacheWrite', () => {
  it('accumulates a tile locally, writes it back once, and folds in the init and the epilogue', () => {
    checkSchedule(lowered('gemm_bias_relu', { m: 4, n: 4, k: 2 }), [
      { prim: 'split', loop: 'j', factors: [2], tail: 'requireDivisible' },
      { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'j.0' },
    ], `
for i in 0..4:
  for j.0 in 0..2:
    alloc local C.local: f32[1, 2]
    for C.local.i.1 in 0..2:
      C.local[0, C.local.i.1] = 0.0
    for j.1 in 0..2:
      for k in 0..2:  // reduce
        C.local[0, j.1] += A[i, k] * B[k, j.0 * 2 + j.1]
    for C.local.w.1 in 0..2:
      C[i, j.0 * 2 + C.local.w.1] = relu(C.local[0, C.local.w.1] + bias[j.0 * 2 + C.local.w.1])`);
  });

  it('with a reduction loop outside the tile, writes back partial sums with += and keeps the init', () => {
    checkSchedule(lowered('gemm', { m: 4, n: 4, k: 4 }), [
      { prim: 'reorder', loops: ['k', 'i'] },
      { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'j' },
    ], `
for i.init in 0..4:
  for j.init in 0..4:
    C[i.init, j.init] = 0.0
for k in 0..4:  // reduce
  for j in 0..4:
    alloc local C.local: f32[4, 1]
    for C.local.i.0 in 0..4:
      C.local[C.local.i.0, 0] = 0.0
    for i in 0..4:
      C.local[i, 0] += A[i, k] * B[k, j]
    for C.local.w.0 in 0..4:
      C[C.local.w.0, j] += C.local[C.local.w.0, 0]`);
  });

  it('guards the write-back of a tile that overhangs the output', () => {
    const p = applyTrace(lowered('gemm', { m: 3, n: 5, k: 2 }), trace([
      { prim: 'split', loop: 'j', factors: [2], tail: 'guard' },
      { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'j.0' },
    ]));
    assert.match(nest(p), /if j\.0 \* 2 \+ C\.local\.w\.1 < 5:\n\s+C\[i, j\.0 \* 2 \+ C\.local\.w\.1\] = C\.local/);
  });

  it('drops a tail guard from the updates of its tile where every read stays in bounds past the edge, and keeps it where one would not', () => {
    const gemv = () => lowered('gemv', { m: 6, k: 4 });
    const updates = (steps: Step[]) => {
      const p = applyTrace(gemv(), trace([...steps, { prim: 'cacheWrite', buffer: 'y', scope: 'local', at: 'i.0' }]));
      assertSameResults(gemv(), p);
      const text = nest(p);
      assert.match(text, /if i\.0 \* 4 \+ y\.local\.w\.0 < 6:\n\s+y\[/, 'the write-back keeps its bounds test');
      return text.slice(text.indexOf('for i.1'), text.indexOf('for y.local.w'));
    };
    // A padded tail reads A through a select that tests the same bound: the update needs no branch.
    assert.doesNotMatch(updates([{ prim: 'split', loop: 'i', factors: [4], tail: 'pad' }]), /if /);
    // A guarded tail reads A directly: past row 6 that read would leave A, so the branch stays.
    assert.match(updates([{ prim: 'split', loop: 'i', factors: [4], tail: 'guard' }]), /if i\.0 \* 4 \+ i\.1 < 6:\n\s+y\.local\[i\.1\] \+= A\[/);
    // ... unless A is staged first: its zero-filled tile covers the rows past the edge.
    assert.doesNotMatch(updates([{ prim: 'split', loop: 'i', factors: [4], tail: 'guard' }, { prim: 'cacheRead', buffer: 'A', scope: 'local', at: 'i.0' }]), /if /);
  });

  // Found by the property test: each once made the write-back overwrite elements it never computed.
  const partialCases: [string, string, Record<string, number>, Step[]][] = [
    ['a fused, non-affine index', 'gemm', { m: 4, n: 4, k: 2 }, [
      { prim: 'fuse', outer: 'i', inner: 'j' }, { prim: 'split', loop: 'i.j.fused', factors: [8], tail: 'requireDivisible' },
      { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'i.j.fused.0' }]],
    ['a strided box after a reorder', 'gemm', { m: 4, n: 4, k: 2 }, [
      { prim: 'split', loop: 'i', factors: [2], tail: 'requireDivisible' }, { prim: 'reorder', loops: ['i.1', 'i.0'] },
      { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'i.1' }]],
    ['a tail guard inside the tile', 'gemv', { m: 6, k: 4 }, [
      { prim: 'split', loop: 'i', factors: [3], tail: 'requireDivisible' }, { prim: 'split', loop: 'i.1', factors: [2], tail: 'guard' },
      { prim: 'reorder', loops: ['i.1.1', 'i.1.0', 'i.0'] }, { prim: 'cacheWrite', buffer: 'y', scope: 'local', at: 'i.0' }]],
    // Found by the fuzzer: the inner partial write-back adds identities over a box wider than one visit of j.0.
    ['a cache around the partial write-back of another', 'gemm', { m: 1, n: 3, k: 3 }, [
      { prim: 'tile', loops: ['j', 'k'], factors: [2, 2], tail: 'guard' },
      { prim: 'cacheWrite', buffer: 'C', scope: 'workgroup', at: 'j.0' }, { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'j.0' },
      { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'j.0' }]],
    ['a cache placed at the partial write-back loop of another', 'gemv', { m: 2, k: 1 }, [
      { prim: 'split', loop: 'i', factors: [1], tail: 'guard' }, { prim: 'fuse', outer: 'i.0', inner: 'i.1' },
      { prim: 'tile', loops: ['i.0.i.1.fused', 'k'], factors: [1, 1], tail: 'guard' },
      { prim: 'cacheWrite', buffer: 'y', scope: 'local', at: 'i.0.i.1.fused.0' }, { prim: 'cacheWrite', buffer: 'y', scope: 'local', at: 'y.local.w.0' }]],
  ];
  for (const [what, op, params, steps] of partialCases) {
    it(`accumulates partial tiles when the box is not exact: ${what}`, () => {
      const before = lowered(op, params);
      const after = applyTrace(before, trace(steps));
      assert.match(nest(after), /\] \+= [A-Za-z]+\.local\[/, 'write-back accumulates');
      assertSameResults(before, after);
    });
  }

  it('rejects a cache outside its producer, an input, a second store, and GPU loops inside a local tile', () => {
    const p = lowered('gemm', { m: 4, n: 4, k: 4 });
    assertIllegal(p, [{ prim: 'cacheWrite', buffer: 'A', scope: 'local', at: 'j' }], /A is not an output of this kernel; outputs: C/);
    assertIllegal(p, [{ prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'j.init' }], /j\.init is not in the nest that reduces into C; legal positions: i, j/, ['j.init']);
    assertIllegal(p, [{ prim: 'bind', loop: 'j', axis: 'thread.x' }, { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'i' }], /j \(thread\.x\) is inside the local accumulator/, ['i', 'j']);
    assertIllegal(p, [{ prim: 'parallel', loop: 'j' }, { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'i' }], /parallel loop j inside i would share the accumulator/);
    assertIllegal(p, [{ prim: 'bind', loop: 'i', axis: 'thread.y' }, { prim: 'cacheWrite', buffer: 'C', scope: 'workgroup', at: 'j' }], /j is inside thread loop i; a workgroup accumulator there would be written back by every invocation/, ['j', 'i']);
  });

  it('refuses to run overlapping write-backs at once: a tile kept whole under a loop that is then bound, or a cache placed inside a bound loop (fuzz seed 166706745)', () => {
    const p = lowered('conv1d_transpose', { n: 1, c: 1, w: 3, k: 1, kw: 1, stride: 2, pad: 1, dilation: 1, groups: 1 });
    const tiled: Step[] = [
      { prim: 'split', loop: 'rc', factors: [1], tail: 'guard' },
      { prim: 'fuse', outer: 'k', inner: 'ow' },
      { prim: 'tile', loops: ['n', 'k.ow.fused', 'rc.0'], factors: [1, 1, 1], tail: 'requireDivisible' },
    ];
    const fused: Step[] = [{ prim: 'fuse', outer: 'n.0', inner: 'k.ow.fused.0' }, { prim: 'split', loop: 'n.0.k.ow.fused.0.fused', factors: [3], tail: 'requireDivisible' }];
    // Every invocation would add its whole (mostly zero) tile of Y: the WebGPU run lost updates.
    assertIllegal(p, [...tiled, { prim: 'cacheWrite', buffer: 'Y', scope: 'local', at: 'rc.0.0' }, ...fused, { prim: 'bind', loop: 'n.0.k.ow.fused.0.fused.1', axis: 'thread.x' }],
      /the tiles that Y\.local writes back overlap between iterations of n\.0\.k\.ow\.fused\.0\.fused\.1, so bound to thread\.x their write-backs would race/, ['n.0.k.ow.fused.0.fused.1']);
    assertIllegal(p, [...tiled, ...fused, { prim: 'bind', loop: 'n.0.k.ow.fused.0.fused.1', axis: 'thread.x' }, { prim: 'cacheWrite', buffer: 'Y', scope: 'local', at: 'rc.0.0' }],
      /the tiles of the iterations of thread\.x loop n\.0\.k\.ow\.fused\.0\.fused\.1 overlap \(1x1x3 elements each, some dimensions kept whole/);
    assertIllegal(p, [...tiled, { prim: 'cacheWrite', buffer: 'Y', scope: 'local', at: 'rc.0.0' }, ...fused, { prim: 'parallel', loop: 'n.0.k.ow.fused.0.fused.1' }], /so in parallel their write-backs would race/);
    // Tiles that move with the bound loop are fine, affine or not (a fused pixel index: f / w, f % w).
    const gemm = lowered('gemm', { m: 8, n: 8, k: 4 });
    const ok = applyTrace(gemm, trace([{ prim: 'split', loop: 'i', factors: [2], tail: 'requireDivisible' }, { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'i.0' }, { prim: 'parallel', loop: 'i.0' }]));
    assertSameResults(gemm, ok);
  });
});
