import assert from 'node:assert/strict';
import { assertIllegal, assertSameResults, checkSchedule, lowered, nest } from './helpers.js';
import { applyTrace } from '../../scheduler/apply.js';
import { Schedule } from '../../scheduler/schedule.js';
import { parseTrace, trace, traceToJSON, traceToTypeScript } from '../../scheduler/trace.js';
import { TraceFormatError } from '../../scheduler/errors.js';

describe('primitive: layout', () => {
  const conv = () => lowered('conv2d', { n: 1, c: 2, h: 4, w: 4, k: 8, kh: 3, kw: 3, pad: 1 });

  it('pads the input of a strided transposed conv, whose index is a division: the bounds tests go, the stride test stays', () => {
    const p = lowered('conv2d_transpose', { n: 1, c: 2, h: 3, w: 3, k: 4, kh: 4, kw: 4, stride: 2, pad: 1 });
    const after = applyTrace(p, trace([{ prim: 'layout', buffer: 'X' }]));
    const text = nest(after);
    // (o + 1 - r) / 2 ranges over [-1, 3] for o in 0..5, r in 0..3: a box of 5 with one zero each side.
    assert.match(text, /alloc local X\.packed: f32\[1, 2, 5, 5\]/);
    assert.match(text, /\+= select\(\(oh \+ 1 - rh\) % 2 == 0 && \(ow \+ 1 - rw\) % 2 == 0, X\.packed\[n, rc, \(oh \+ 1 - rh\) \/ 2 \+ 1, \(ow \+ 1 - rw\) \/ 2 \+ 1\] \* W/);
    assertSameResults(p, after);
  });

  it('packs weights [K][C][R][S] as [K/4][C][R][S][4] before the nest (copied in the source\'s order: reads stream), read with plain loop variables, and X as a padded copy without guards', () => {
    checkSchedule(conv(), [
      { prim: 'split', loop: 'k', factors: [4], tail: 'requireDivisible' },
      { prim: 'layout', buffer: 'W', dims: [0], factors: [4] },
      { prim: 'layout', buffer: 'X' },
    ], `
for n.init in 0..1:
  for k.init in 0..8:
    for oh.init in 0..4:
      for ow.init in 0..4:
        Y[n.init, k.init, oh.init, ow.init] = 0.0
alloc local X.packed: f32[1, 2, 6, 6]
for X.packed.1 in 0..2:
  for X.packed.2 in 0..6:
    for X.packed.3 in 0..6:
      X.packed[0, X.packed.1, X.packed.2, X.packed.3] = select(-1 + X.packed.2 >= 0 && -1 + X.packed.2 < 4 && -1 + X.packed.3 >= 0 && -1 + X.packed.3 < 4, X[0, X.packed.1, -1 + X.packed.2, -1 + X.packed.3], 0.0)
alloc local W.packed: f32[2, 2, 3, 3, 4]
for W.packed.0 in 0..2:
  for W.packed.4 in 0..4:
    for W.packed.1 in 0..2:
      for W.packed.2 in 0..3:
        for W.packed.3 in 0..3:
          W.packed[W.packed.0, W.packed.1, W.packed.2, W.packed.3, W.packed.4] = W[W.packed.0 * 4 + W.packed.4, W.packed.1, W.packed.2, W.packed.3]
for n in 0..1:
  for k.0 in 0..2:
    for k.1 in 0..4:
      for oh in 0..4:
        for ow in 0..4:
          for rc in 0..2:  // reduce
            for rh in 0..3:  // reduce
              for rw in 0..3:  // reduce
                Y[n, k.0 * 4 + k.1, oh, ow] += X.packed[n, rc, oh + rh, ow + rw] * W.packed[k.0, rc, rh, rw, k.1]`);
  });

  it('packs a block at a loop in its own order (stores contiguous, the block\'s source rows read side by side), and pads a padded split\'s tail reads away', () => {
    const p = conv();
    const at = applyTrace(p, trace([
      { prim: 'split', loop: 'k', factors: [4], tail: 'requireDivisible' },
      { prim: 'split', loop: 'ow', factors: [3], tail: 'pad' },
      { prim: 'layout', buffer: 'W', dims: [0], factors: [4], at: 'k.0' },
      { prim: 'layout', buffer: 'X' },
    ]));
    const text = nest(at);
    assert.match(text, /for W\.packed\.1 in 0\.\.2:\n\s+for W\.packed\.2 in 0\.\.3:\n\s+for W\.packed\.3 in 0\.\.3:\n\s+for W\.packed\.4 in 0\.\.4:\n\s+W\.packed\[0, W\.packed\.1, W\.packed\.2, W\.packed\.3, W\.packed\.4\] = W\[k\.0 \* 4 \+ [^,]*W\.packed\.4\)?, /);
    // The tail's reads of X tested the same bound as the store's branch; the padded copy (8 columns: the tail's too) makes the padding tests go with them.
    assert.match(text, /if ow\.0 \* 3 \+ ow\.1 < 4:\n\s+Y\[[^\]]+\] \+= X\.packed\[n, rc, oh \+ rh, ow\.0 \* 3 \+ ow\.1 \+ rw\] \* W\.packed\[/);
    assert.doesNotMatch(text.slice(text.indexOf('for n in')), /select\(/);
    assertSameResults(p, at);
  });

  it('blocks two dimensions in the order given, at a loop, and rounds a tile the factor does not divide up to whole blocks', () => {
    const p = conv();
    const two = applyTrace(p, trace([{ prim: 'layout', buffer: 'W', dims: [1, 0], factors: [2, 8] }]));
    assert.match(nest(two), /alloc local W\.packed: f32\[1, 1, 3, 3, 2, 8\]/);
    assert.match(nest(two), /W\.packed\[k \/ 8, rc \/ 2, rh, rw, rc % 2, k % 8\]|W\.packed\[0, 0, rh, rw, rc, k\]/);
    assertSameResults(p, two);
    const tail = applyTrace(p, trace([{ prim: 'layout', buffer: 'W', dims: [0], factors: [3], at: 'n' }]));
    assert.match(nest(tail), /alloc local W\.packed: f32\[3, 2, 3, 3, 3\]/, '8 output channels in blocks of 3: three blocks, the last one zero-filled');
    assertSameResults(p, tail);
  });

  it('packs a workgroup tile with a cooperative copy on the GPU', () => {
    const p = applyTrace(lowered('gemm', { m: 16, n: 16, k: 8 }), trace([
      { prim: 'split', loop: 'i', factors: [4], tail: 'requireDivisible' },
      { prim: 'bind', loop: 'i.0', axis: 'workgroup.x' },
      { prim: 'bind', loop: 'i.1', axis: 'thread.x' },
      { prim: 'layout', buffer: 'B', dims: [1], factors: [4], scope: 'workgroup', at: 'j' },
    ]));
    assert.match(nest(p), /alloc workgroup B\.packed: f32\[8, 1, 4\]\n\s+for B\.packed\.c in 0\.\.32: {2}\/\/ cooperative/);
    assertSameResults(lowered('gemm', { m: 16, n: 16, k: 8 }), p);
  });

  it('is a trace step like the others: JSON and TypeScript round trips, defaults left out', () => {
    const base = conv();
    const t = new Schedule(base).split('k', [4], 'requireDivisible').layout('W', [0], [4]).layout('X', [], [], 'local', 'oh').trace;
    assert.deepEqual(parseTrace(traceToJSON(t)), t);
    assert.equal(traceToTypeScript(t).split('\n').slice(1).join('\n'), 's.layout("W", [0], [4]);\ns.layout("X", [], [], "local", "oh");');
    assert.equal(traceToTypeScript(new Schedule(base).layout('X').trace), 's.layout("X");');
    assert.throws(() => parseTrace('{"version": 1, "steps": [{"prim": "layout", "buffer": "W", "dims": [0]}]}'), (e: Error) => e instanceof TraceFormatError && /'dims' and 'factors' go together/.test(e.message));
    assert.throws(() => parseTrace('{"version": 1, "steps": [{"prim": "layout", "buffer": "W", "dims": [0, 1], "factors": [4]}]}'), (e: Error) => e instanceof TraceFormatError && /2 dims and 1 factors/.test(e.message));
  });

  it('refuses what it cannot lay out, naming the legal alternatives', () => {
    const p = conv();
    assertIllegal(p, [{ prim: 'layout', buffer: 'W', dims: [4], factors: [2] }], /W has 4 dimensions \(shape 8x2x3x3\); dimension 4 does not exist; dimensions 0 to 3/);
    assertIllegal(p, [{ prim: 'layout', buffer: 'W', dims: [0, 0], factors: [2, 4] }], /dimension 0 is blocked twice/);
    assertIllegal(p, [{ prim: 'layout', buffer: 'W', dims: [0], factors: [1] }], /changes nothing; factors of 2 or more/);
    assertIllegal(p, [{ prim: 'layout', buffer: 'W', dims: [1], factors: [4] }], /larger than the dimension \(2\); factors up to 2/);
    assertIllegal(p, [{ prim: 'layout', buffer: 'Y' }], /Y is not an input of this kernel; inputs: X, W/);
    assertIllegal(p, [{ prim: 'layout', buffer: 'W', scope: 'workgroup' }], /a pack before the nest is one copy in memory/);
    assertIllegal(p, [{ prim: 'bind', loop: 'k', axis: 'thread.x' }, { prim: 'layout', buffer: 'W' }], /k is bound to thread\.x: a pack before the nest would be every invocation's own copy/, ['k']);
    assertIllegal(p, [{ prim: 'layout', buffer: 'W', at: 'n.init' }], /nothing inside n\.init reads W/);
    assertIllegal(lowered('gemm', { m: 4, n: 8, k: 4 }), [
      { prim: 'split', loop: 'j', factors: [4], tail: 'requireDivisible' }, { prim: 'reorder', loops: ['k', 'j.1'] }, { prim: 'vectorize', loop: 'j.1' }, { prim: 'layout', buffer: 'A', dims: [1], factors: [2], at: 'j.1' },
    ], /j\.1 is vectorized: the copy's loops would sit inside a vector/, ['j.1']);
  });
});
