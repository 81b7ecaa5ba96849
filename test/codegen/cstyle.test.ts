import assert from 'node:assert/strict';
import { Expr, add, and, f32, ge, int, load, lt, mul, not, or, select, sub, unary, variable } from '../../ir/expr.js';
import { bufferDecl, forLoop, store } from '../../ir/loop.js';
import { program } from '../../ir/program.js';
import { C_DIALECT, C_RESERVED } from '../../codegen/c/dialect.js';
import { renderC } from '../../codegen/c/render.js';
import { Dialect } from '../../codegen/cstyle/dialect.js';
import { ExprPrinter } from '../../codegen/cstyle/expr.js';
import { Names } from '../../codegen/cstyle/names.js';
import { lowerForCodegen } from '../../codegen/lower.js';
import { WGSL_DIALECT, WGSL_RESERVED } from '../../codegen/wgsl/dialect.js';
import { renderWgsl } from '../../codegen/wgsl/render.js';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { expertGpuGemmRegisters } from '../../scheduler/expert.js';

const acc = load('acc', [int(0)]), x = load('X', [variable('i')]), w = load('W', [variable('i')]);
const i = variable('i'), j = variable('j');
const decls = new Map([bufferDecl('acc', [1], 'f32', 'local', 'temp'), bufferDecl('X', [8], 'f32', 'global', 'input'), bufferDecl('W', [8], 'f32', 'global', 'input')].map((b) => [b.name, b]));

function printer(d: Dialect): (e: Expr) => string {
  const p = new ExprPrinter(d, new Names(d === C_DIALECT ? C_RESERVED : WGSL_RESERVED), decls);
  return (e) => p.print(e, new Map([['i', [0, 7] as const], ['j', [0, 7] as const]])).text;
}
const c = printer(C_DIALECT), wgsl = printer(WGSL_DIALECT);

describe('C-style expression printer: parentheses by precedence, in both dialects', () => {
  it('keeps a running sum out of the condition of a padded update (issue 14)', () => {
    const padded = add(acc, select(and(ge(i, int(1)), lt(i, int(7))), mul(x, w), f32(0)));
    assert.equal(c(padded), 'acc[0] + (i >= 1 && i < 7 ? X[i] * W[i] : 0.0f)');
    assert.equal(wgsl(padded), 'acc[0i] + select(0.0f, X[i] * W[i], i >= 1i && i < 7i)');
  });

  it('nests selects, sums, products, comparisons and negations', () => {
    const e = mul(add(x, w), select(lt(sub(i, j), int(0)), unary('neg', select(lt(i, int(2)), x, w)), sub(x, sub(w, acc))));
    assert.equal(c(e), '(X[i] + W[i]) * (i - j < 0 ? -(i < 2 ? X[i] : W[i]) : X[i] - (W[i] - acc[0]))');
    assert.equal(wgsl(e), '(X[i] + W[i]) * select(X[i] - (W[i] - acc[0i]), -select(W[i], X[i], i < 2i), i - j < 0i)');
    assert.equal(c(sub(sub(i, j), int(1))), 'i - j - 1', 'left-associative chains need none');
    assert.equal(c(lt(add(i, int(1)), mul(j, int(2)))), 'i + 1 < j * 2');
  });

  it('never writes the decrement token', () => {
    assert.equal(c(unary('neg', int(-3))), '-(-3)');
    assert.equal(wgsl(unary('neg', int(-3))), '-(-3i)');
    assert.equal(c(unary('neg', unary('neg', x))), '-(-X[i])');
    assert.equal(c(sub(x, f32(-1))), 'X[i] - -1.0f');
    assert.equal(c(mul(x, f32(-2.5))), 'X[i] * -2.5f');
  });

  it('parenthesizes mixed && and || where WGSL requires it, and only where C needs it', () => {
    const p = lt(i, int(1)), q = lt(j, int(2)), r = ge(i, j);
    assert.equal(c(or(and(p, q), r)), 'i < 1 && j < 2 || i >= j');
    assert.equal(wgsl(or(and(p, q), r)), '(i < 1i && j < 2i) || i >= j');
    assert.equal(wgsl(and(or(p, q), r)), '(i < 1i || j < 2i) && i >= j');
    assert.equal(wgsl(or(or(p, q), r)), 'i < 1i || j < 2i || i >= j');
    assert.equal(c(not(and(p, q))), '!(i < 1 && j < 2)');
  });
});

describe('identifiers: one Names per kernel scope, reserved words per dialect', () => {
  const A = bufferDecl('A', [4], 'f32', 'global', 'input'), B = bufferDecl('B', [4], 'f32', 'global', 'output');

  it('C: a loop and a buffer of the same name get two identifiers', () => {
    const p = program('p', [A, B], forLoop('A', 4, store('B', [variable('A')], load('A', [variable('A')]))));
    const k = renderC(lowerForCodegen(p), 'A');
    assert.notEqual(k.functionName, k.params[0]!.cName);
    assert.match(k.source, /for \(int A_3 = 0; A_3 < 4; A_3\+\+\)/);
    assert.match(k.source, /B\[A_3\] = A_2\[A_3\];/);
  });

  it('WGSL: keywords, reserved words, builtin parameters, entry points and helpers are never IR identifiers', () => {
    const bufs = ['wid', 'fn', 'main_0', 'ls_fdiv', 'self'].map((n, x) => bufferDecl(n, [4], 'f32', 'global', x === 0 ? 'output' : 'input'));
    const body = forLoop('lid', 4, forLoop('lidx', 2, forLoop('var', 2, store('wid', [variable('lid')], bufs.slice(1).map((b) => load(b.name, [variable('lid')])).reduce(add)))));
    const k = renderWgsl(lowerForCodegen(program('p', bufs, body)));
    assert.deepEqual(k.bindings.map((b) => b.wgslName), ['v_wid', 'v_fn', 'v_main_0', 'v_ls_fdiv', 'v_self']);
    assert.match(k.source, /for \(var v_lid: i32 = 0i;/);
    assert.match(k.source, /for \(var v_lidx: i32 = 0i;/);
    assert.match(k.source, /for \(var v_var: i32 = 0i;/);
    assert.match(k.source, /fn main_0\(@builtin\(workgroup_id\) wid: vec3<u32>/);
  });

  it('WGSL: the loops a schedule leaves as loops have bounds the driver cannot fold, and the ones it unrolls are straight-line code', () => {
    // A driver that fully unrolls small nests on its own compiled fuzz kernels for up to 8 s each on lavapipe
    // and made the expert conv2d 1.9x slower: the schedule, not the driver, decides what unrolls.
    const w = workload('gemm', { m: 64, n: 64, k: 8 });
    const k = renderWgsl(lowerForCodegen(applyTrace(lowerWorkload(w), expertGpuGemmRegisters(64, 64, 8, w.key))));
    const loops = [...k.source.matchAll(/for \(var (\w+): i32 = [^;]+; \1 < ([^;]+);/g)].map((m) => m[2]!);
    assert.ok(loops.length >= 1, k.source);
    for (const bound of loops) assert.match(bound, /^\d+i \+ ls_zero$/);
    assert.match(k.source, /let ls_zero: i32 = i32\(nwg\.x == 0u\);/);
    assert.match(k.source, /@builtin\(num_workgroups\) nwg: vec3<u32>/);
    // i.2 (extent 2) is unrolled by the schedule: no loop of 2 is left, and the reduction over k is one.
    assert.ok(!loops.includes('2i + ls_zero') && loops.includes('8i + ls_zero'), loops.join(', '));
  });
});
