import assert from 'node:assert/strict';
import { InputError } from '../ir/errors.js';
import { OPS, findOp, workload, workloadKey } from '../ir/ops/index.js';

describe('workloads', () => {
  it('have a canonical key: parameter order and defaults do not matter', () => {
    const a = workload('gemm', { m: 64, n: 32, k: 16 });
    const b = workload('gemm', { k: '16', n: '32', m: '64', transA: 0 });
    assert.equal(a.key, b.key);
    assert.equal(a.key, 'gemm(k=16,m=64,n=32,transA=0,transB=0):f32');
    assert.equal(workloadKey('x', { b: 2, a: 1 }, 'f32'), 'x(a=1,b=2):f32');
  });

  it('count FLOPs by convention (a multiply-add is 2)', () => {
    assert.equal(workload('gemm', { m: 1024, n: 1024, k: 1024 }).flops, 2 * 1024 ** 3);
    const c = workload('conv2d', { n: 1, c: 64, h: 56, w: 56, k: 64, kh: 3, kw: 3, pad: 1 });
    assert.equal(c.flops, 2 * 64 * 56 * 56 * 64 * 9);
    const g = workload('grouped_conv2d', { n: 1, c: 1024, h: 14, w: 14, k: 512, kh: 1, kw: 1, groups: 4 });
    assert.equal(g.flops, 2 * 512 * 14 * 14 * 256);
  });

  it('every op has an example that validates and lowers', () => {
    for (const op of OPS) assert.doesNotThrow(() => workload(op.name, op.example), op.name);
  });

  const rejects: [string, string, Record<string, unknown>, string?][] = [
    ['unknown op', 'matmull', { m: 1 }],
    ['missing parameter', 'gemm', { m: 4, n: 4 }],
    ['negative size', 'gemm', { m: 4, n: -4, k: 4 }],
    ['zero size', 'gemm', { m: 0, n: 4, k: 4 }],
    ['fraction', 'gemm', { m: 4, n: '4.5', k: 4 }],
    ['not a number', 'gemm', { m: 4, n: 'four', k: 4 }],
    ['flag out of range', 'gemm', { m: 4, n: 4, k: 4, transA: 2 }],
    ['unknown parameter', 'gemm', { m: 4, n: 4, k: 4, q: 1 }],
    ['channels not divisible by groups', 'conv2d', { n: 1, c: 6, h: 8, w: 8, k: 8, kh: 3, kw: 3, groups: 4 }],
    ['output channels not divisible by groups', 'conv2d', { n: 1, c: 8, h: 8, w: 8, k: 6, kh: 3, kw: 3, groups: 4 }],
    ['kernel larger than input', 'conv2d', { n: 1, c: 8, h: 2, w: 8, k: 8, kh: 3, kw: 3 }],
    ['window larger than input', 'max_pool2d', { n: 1, c: 8, h: 1, w: 8, kh: 3, kw: 3 }],
    ['pooling window wholly in the padding', 'max_pool2d', { n: 1, c: 1, h: 3, w: 3, kh: 1, kw: 3, stride: 1, pad: 1 }],
    ['unknown dtype', 'gemm', { m: 4, n: 4, k: 4 }, 'f64'],
  ];
  for (const [what, op, params, dtype] of rejects) {
    it(`reject ${what} with one line naming the problem`, () => {
      assert.throws(() => workload(op, params, dtype), (e: Error) => {
        assert.ok(e instanceof InputError, `${e.name}: ${e.message}`);
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      });
    });
  }

  it('name the legal alternatives', () => {
    assert.throws(() => findOp('matmull'), /known ops: gemm, .*conv2d/);
    assert.throws(() => workload('gemm', { m: 1, n: 1, k: 1, q: 1 }), /parameters are: m, n, k, transA, transB/);
    assert.throws(() => workload('gemm', { m: 1, n: 1, k: 1 }, 'f64'), /known dtypes: f32/);
  });
});
