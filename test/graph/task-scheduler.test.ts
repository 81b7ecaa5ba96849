/** The task scheduler's choices, on made-up tasks. */
import assert from 'node:assert/strict';
import { TaskState, expectedGain, newTaskState, nextTask, recordSlice, similarityClass, sliceSeconds } from '../../tuner/graph/task-scheduler.js';

const task = (key: string, weight: number, gflop: number, op = 'conv2d_fused'): TaskState => newTaskState(key, op, weight, gflop * 1e9);

describe('task scheduler', () => {
  it('warms every task up first, the largest expected time first', () => {
    const ts = [task('small', 1, 0.1), task('big', 1, 1), task('repeated', 4, 0.5)];
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const t = ts[nextTask(ts)]!;
      order.push(t.key);
      recordSlice(t, 10, (t.flops / 50e9));
    }
    assert.deepEqual(order, ['repeated', 'big', 'small']);
    assert.ok(ts.every((t) => t.slices === 1));
  });

  it('then tunes where the model gains most: a task far below its peers beats one at their best', () => {
    const slow = task('slow', 1, 1), fast = task('fast', 1, 1);
    recordSlice(slow, 10, 1 / 20); // 20 GFLOP/s
    recordSlice(fast, 10, 1 / 200); // 200 GFLOP/s
    assert.equal(nextTask([slow, fast]), 0);
    assert.ok(expectedGain(slow, [slow, fast]) > 10 * expectedGain(fast, [slow, fast]));
  });

  it('holds a depthwise layer against depthwise layers only: dense 3x3 peers leave it no headroom to claim', () => {
    const cls = (p: Record<string, number>) => similarityClass('conv2d_fused', p);
    const dw = { c: 96, k: 96, groups: 96, kh: 3, kw: 3, layout: 2 };
    assert.equal(cls(dw), cls({ ...dw, c: 144, k: 144, groups: 144 }));
    assert.notEqual(cls(dw), cls({ ...dw, groups: 1 }), 'dense 3x3');
    assert.notEqual(cls({ ...dw, groups: 1 }), cls({ ...dw, groups: 1, kh: 1, kw: 1 }), 'pointwise');
    assert.notEqual(cls(dw), cls({ ...dw, layout: 0 }), 'another layout');
    assert.equal(similarityClass('max_pool2d', { c: 8, kh: 3, kw: 3 }), 'max_pool2d/spatial/0');
    const depthwise = task('dw', 1, 1, cls(dw)), dense = task('dense', 1, 1, cls({ ...dw, groups: 1 }));
    recordSlice(depthwise, 10, 1 / 30);
    recordSlice(dense, 10, 1 / 200);
    const asIfSimilar = task('dense', 1, 1, cls(dw));
    recordSlice(asIfSimilar, 10, 1 / 200);
    assert.ok(expectedGain(depthwise, [depthwise, dense]) < 0.7 * expectedGain(depthwise, [depthwise, asIfSimilar]), 'no headroom claimed from a peer of another class');
  });

  it('lets a task that stopped improving fade, and takes up one that still improves', () => {
    const a = task('a', 1, 1), b = task('b', 1, 1);
    recordSlice(a, 10, 1 / 50);
    recordSlice(b, 10, 1 / 50);
    for (let i = 0; i < 3; i++) recordSlice(a, 10, 1 / 50); // flat
    recordSlice(b, 10, 1 / 60); // improving
    assert.equal(a.flat, 3);
    assert.equal(nextTask([a, b]), 1);
  });

  it('counts a first slice\'s gain from its starting points: matching the expert is no momentum', () => {
    const a = task('a', 1, 1), b = task('b', 1, 1);
    recordSlice(a, 10, 1 / 100, 1 / 100);
    recordSlice(b, 10, 1 / 100, 1 / 50);
    assert.equal(a.lastGain, 0);
    assert.equal(b.lastGain, 0.5);
    assert.equal(nextTask([a, b]), 1);
    const c = task('c', 1, 1);
    recordSlice(c, 10, 1 / 90, 1 / 100); // a starting point timed faster than the slice's best
    assert.equal(c.best, 1 / 90, 'the slice\'s best is kept whatever the starting points said');
    assert.equal(c.lastGain, 0);
  });

  it('sizes warm-up slices to cover every task in half the budget, and never leaves a sliver', () => {
    const t = task('x', 1, 1);
    assert.equal(sliceSeconds(t, 20, 1200, 1200), 30);
    assert.equal(sliceSeconds(t, 100, 1200, 1200), 10, 'at least 10 s');
    assert.equal(sliceSeconds(t, 20, 1200, 35), 35, 'the rest, not 30 s and a 5 s remainder');
    recordSlice(t, 30, 1 / 50);
    assert.equal(sliceSeconds(t, 20, 1200, 1000), 30);
  });
});
