import assert from 'node:assert/strict';
import { add, div, int, lt, mod, mul, printExpr, variable } from '../../ir/expr.js';
import { collectLoops } from '../../ir/loop.js';
import { printProgram } from '../../ir/print.js';
import { applyTrace } from '../../scheduler/apply.js';
import { expertCpuDepthwise, expertCpuGemm } from '../../scheduler/expert.js';
import { trace } from '../../scheduler/trace.js';
import { simplifyExpr, TRUE, simplifyProgram } from '../../codegen/simplify.js';
import { expandUnrolled } from '../../codegen/unroll.js';
import { planRegisterTiles } from '../../codegen/registers.js';
import { PASSES, lowerForCodegen } from '../../codegen/lower.js';
import { Names } from '../../codegen/cstyle/names.js';
import { C_RESERVED } from '../../codegen/c/dialect.js';
import { assertSameResults, lowered } from '../scheduler/helpers.js';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { expertCpuBlockedConv } from '../../scheduler/expert-blocked.js';
import { vectorUnitFor } from '../../scheduler/vector-unit.js';

const i = variable('i'), j = variable('j');
const ranges = new Map([['i', [0, 7] as const], ['j', [0, 3] as const]]);

describe('codegen pass: simplify-indices / prune-guards', () => {
  it('folds constants and identities', () => {
    assert.equal(printExpr(simplifyExpr(add(mul(i, int(1)), int(0)))), 'i');
    assert.equal(printExpr(simplifyExpr(add(add(i, int(3)), int(-5)))), 'i - 2');
    assert.equal(printExpr(simplifyExpr(mul(add(int(2), int(3)), j))), '5 * j');
  });

  it('resolves div and mod whose operand range is known', () => {
    assert.equal(printExpr(simplifyExpr(div(j, int(4)), ranges)), '0');
    assert.equal(printExpr(simplifyExpr(mod(j, int(4)), ranges)), 'j');
    assert.equal(printExpr(simplifyExpr(div(div(i, int(2)), int(2)), ranges)), 'i / 4');
    assert.equal(printExpr(simplifyExpr(mod(i, int(4)), ranges)), 'i % 4', 'kept when the range exceeds the modulus');
  });

  it('splits a division whose operand is a multiple of a divisor plus a small remainder (grouped conv channels)', () => {
    // (4 i + j) / 8 with j in [0, 3]: i / 2; its remainder 4 (i mod 2) + j.
    const n = add(mul(i, int(4)), j);
    assert.equal(printExpr(simplifyExpr(div(n, int(8)), ranges)), 'i / 2');
    assert.equal(printExpr(simplifyExpr(mod(n, int(8)), ranges)), 'i % 2 * 4 + j');
    assert.equal(printExpr(simplifyExpr(div(n, int(4)), ranges)), 'i');
    assert.equal(printExpr(simplifyExpr(div(add(n, int(1)), int(8)), ranges)), '(i * 4 + j + 1) / 8', 'kept when the remainder can reach the divisor (j + 1 up to 4)');
    // Every value over the ranges, and a grouped conv whose channel vector stays in one group, computes what it did.
    for (let a = 0; a <= 7; a++) for (let b = 0; b <= 3; b++) {
      const at = (e: Parameters<typeof printExpr>[0]) => Function('i', 'j', `return ${printExpr(e).replace(/(\w+|\([^()]*\)) \/ (\d+)/g, 'Math.floor($1 / $2)')};`)(a, b) as number;
      assert.equal(at(simplifyExpr(div(n, int(8)), ranges)), Math.floor((4 * a + b) / 8));
      assert.equal(at(simplifyExpr(mod(n, int(8)), ranges)), (4 * a + b) % 8);
    }
    const params = { n: 1, c: 8, h: 5, w: 5, k: 16, kh: 1, kw: 1, groups: 2 };
    const g = lowered('grouped_conv2d', params);
    assertSameResults(g, lowerForCodegen(applyTrace(g, trace([
      { prim: 'split', loop: 'k', factors: [4], tail: 'requireDivisible' },
      { prim: 'reorder', loops: ['n', 'k.0', 'oh', 'ow', 'rc', 'rh', 'rw', 'k.1'] },
      { prim: 'vectorize', loop: 'k.1' },
    ]))).program);
  });

  it('drops guards that always hold and statements whose guards never do', () => {
    assert.equal(simplifyExpr(lt(add(i, j), int(11)), ranges), TRUE);
    const p = applyTrace(lowered('gemv', { m: 7, k: 4 }), trace([
      { prim: 'split', loop: 'i', factors: [4], tail: 'guard' }, { prim: 'unroll', loop: 'i.0' },
    ]));
    const q = simplifyProgram(expandUnrolled(p));
    // The first copy (rows 0..3) always fits; the second (rows 4..7) keeps its guard.
    assert.equal(printProgram(q).match(/if /g)!.length, 1);
    assert.match(printProgram(q), /if 4 \+ i\.1~i\.0=1 < 7:|if i\.1~i\.0=1 \+ 4 < 7:|if i\.1~i\.0=1 < 3:/);
    assertSameResults(p, q);
  });
});

describe('codegen pass: expand-unrolled', () => {
  it('copies the body once per iteration with constants, keeping loop names unique', () => {
    const p = applyTrace(lowered('gemm', { m: 2, n: 3, k: 4 }), trace([{ prim: 'unroll', loop: 'i' }]));
    const q = expandUnrolled(p);
    const names = collectLoops(q.body).map((l) => l.var);
    assert.ok(!names.includes('i'));
    assert.ok(names.includes('j~i=0') && names.includes('j~i=1'));
    assert.match(printProgram(q), /C\[1, j~i=1\] \+= A\[1, k~i=1\]/);
    assertSameResults(p, q);
  });
});

describe('codegen pass: register-tiles', () => {
  it('keeps the expert GEMM accumulator in registers and unrolls its init and write-back', () => {
    const p = applyTrace(lowered('gemm', { m: 64, n: 64, k: 64 }), expertCpuGemm(64, 64, 64));
    const { program, tiles } = planRegisterTiles(p);
    assert.deepEqual([...tiles], ['C.local']);
    const kinds = new Map(collectLoops(program.body).map((l) => [l.var, l.loopKind]));
    assert.equal(kinds.get('C.local.i.0'), 'unrolled');
    assert.equal(kinds.get('C.local.w.1'), 'vectorized');
  });

  it('leaves a tile in memory when a loop indexing its rows is not unrolled', () => {
    const p = applyTrace(lowered('gemm', { m: 8, n: 8, k: 8 }), trace([
      { prim: 'split', loop: 'i', factors: [4], tail: 'requireDivisible' },
      { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'i.0' },
    ]));
    assert.equal(planRegisterTiles(p).tiles.size, 0);
  });

  it('the whole lowering is a list of named passes that preserve meaning', () => {
    assert.deepEqual(PASSES.map((x) => x.name), ['drop-unit-loops', 'simplify-indices', 'register-tiles', 'expand-unrolled', 'prune-guards', 'unswitch-copies']);
    const p = applyTrace(lowered('gemm_bias_relu', { m: 16, n: 32, k: 8 }), trace([
      { prim: 'split', loop: 'i', factors: [4], tail: 'requireDivisible' },
      { prim: 'split', loop: 'j', factors: [16], tail: 'requireDivisible' },
      { prim: 'reorder', loops: ['i.0', 'j.0', 'k', 'i.1', 'j.1'] },
      { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'j.0' },
      { prim: 'unroll', loop: 'i.1' },
      { prim: 'vectorize', loop: 'j.1' },
    ]));
    const logged: string[] = [];
    const l = lowerForCodegen(p, (name) => logged.push(name));
    assert.deepEqual(logged, PASSES.map((x) => x.name));
    assert.ok(l.registerTiles.has('C.local'));
    assertSameResults(p, l.program);
  });
});

describe('codegen pass: unswitch-copies', () => {
  it('moves a padded copy\'s bounds test out of the loop over a pixel\'s channels, and computes what it did', () => {
    // nchw16c depthwise expert: the input is copied into a padded plane per channel block.
    const w = workload('conv2d_fused', { n: 1, c: 32, h: 6, w: 6, k: 32, kh: 3, kw: 3, pad: 1, groups: 32, layout: 3 });
    const p = applyTrace(lowerWorkload(w), expertCpuBlockedConv(w.params, w.key, vectorUnitFor(16, 32))!);
    const before = lowerForCodegen(p).program;
    const copy = (q: typeof p) => collectLoops(q.body).filter((l) => l.var.startsWith('X.packed.'));
    // The innermost copy loop (over 16 channels) stored `in bounds ? X[..] : 0`; now two loops, neither with a select.
    const inner = copy(before).filter((l) => l.body.kind === 'store');
    assert.equal(inner.length, 2, printProgram(before));
    for (const l of inner) assert.ok(l.body.kind === 'store' && l.body.value.kind !== 'select', printProgram(before));
    const without = PASSES.filter((x) => x.name !== 'unswitch-copies').reduce((q, x) => x.run(q, { registerTiles: new Set() }), p);
    assert.ok(copy(without).some((l) => l.body.kind === 'store' && l.body.value.kind === 'select'), 'the guard was inside the loop before the pass');
    assertSameResults(p, before);
  });

  it('cuts an NCHW padded copy\'s row loop where its own bounds test changes: zero, copy, zero', () => {
    const w = workload('conv2d_fused', { n: 1, c: 4, h: 6, w: 7, k: 4, kh: 3, kw: 3, pad: 1, groups: 4 });
    const p = applyTrace(lowerWorkload(w), expertCpuDepthwise(w.params, w.key, vectorUnitFor(16, 32), 'conv2d_fused'));
    const l = lowerForCodegen(p).program;
    const copies = collectLoops(l.body).filter((x) => x.var.startsWith('X.packed.') && x.body.kind === 'store');
    assert.deepEqual(copies.map((x) => [x.var, x.extent]), [['X.packed.3.lo', 1], ['X.packed.3', 7], ['X.packed.3.else', 7], ['X.packed.3.hi', 1]], printProgram(l));
    assert.ok(copies.every((x) => x.body.kind === 'store' && x.body.value.kind !== 'select'));
    assertSameResults(p, l);
  });
});

describe('C identifiers', () => {
  it('cannot carry code, keywords or collisions out of IR names', () => {
    const n = new Names(C_RESERVED);
    const evil = n.variable('x]; system("rm -rf /"); float y[');
    assert.match(evil, /^[A-Za-z_][A-Za-z0-9_]*$/);
    assert.equal(n.variable('i.0'), 'i_0');
    assert.equal(n.variable('i_0'), 'i_0_2', 'two IR names never share an identifier');
    assert.equal(n.variable('int'), 'v_int');
    assert.equal(n.variable('ls_fdiv'), 'v_ls_fdiv', 'the ls_ prefix belongs to the generated helpers');
    assert.equal(n.variable('9lives'), 'v_9lives');
    assert.equal(n.variable('i.0'), 'i_0', 'stable for the same name');
    assert.equal(n.buffer('i.0'), 'i_0_3', 'a buffer and a loop of the same name get two identifiers');
  });
});

describe('codegen: register tiles only where every access can name a row', () => {
  it('does not promote a packed input whose copy loops are not unrolled (found by the search bench)', async () => {
    const { renderC } = await import('../../codegen/c/render.js');
    const p = applyTrace(lowered('gemm', { m: 8, n: 16, k: 8 }), trace([
      { prim: 'split', loop: 'k', factors: [4], tail: 'requireDivisible' },
      { prim: 'reorder', loops: ['i', 'k.0', 'k.1', 'j'] },
      { prim: 'cacheRead', buffer: 'B', scope: 'local', at: 'k.0' },
      { prim: 'unroll', loop: 'k.1' },
      { prim: 'vectorize', loop: 'j' },
    ]));
    const l = lowerForCodegen(p);
    assert.ok(!l.registerTiles.has('B.local'));
    assert.doesNotThrow(() => renderC(l));
  });
});
