import assert from 'node:assert/strict';
import { add, constant, f32, int, load, mul, variable } from '../ir/expr.js';
import { IRInvariantError } from '../ir/errors.js';
import { canonical, structuralHash, structurallyEqual } from '../ir/hash.js';
import { bufferDecl, forLoop, seq, store } from '../ir/loop.js';
import { program } from '../ir/program.js';
import { printProgram } from '../ir/print.js';
import { lowerWorkload, workload } from '../ir/ops/index.js';

const A = bufferDecl('A', [4], 'f32', 'global', 'input');
const B = bufferDecl('B', [4], 'f32', 'global', 'output');
const copy = (v = 'i') => forLoop(v, 4, store('B', [variable(v)], load('A', [variable(v)])));

describe('loop IR nodes', () => {
  it('are frozen: a built node cannot be mutated', () => {
    const l = copy();
    assert.throws(() => { (l as { extent: number }).extent = 5; }, TypeError);
  });

  it('compare structurally, whatever built them', () => {
    assert.ok(structurallyEqual(copy(), copy()));
    assert.ok(!structurallyEqual(copy('i'), copy('j')));
    assert.equal(canonical({ b: 1, a: 2 }), canonical({ a: 2, b: 1 }));
  });

  it('hash stably: the same hash on every run for the same IR', () => {
    const p = lowerWorkload(workload('gemm', { m: 64, n: 64, k: 64 }));
    // Pinned: a change to lowering or to the hash shows up here and must be deliberate,
    // because tuning records refer to IR by this hash.
    assert.equal(structuralHash(p), '9aa17455cb6d4cbd');
    assert.notEqual(structuralHash(p), structuralHash(lowerWorkload(workload('gemm', { m: 64, n: 64, k: 32 }))));
  });

  it('check invariants on construction', () => {
    assert.throws(() => forLoop('i', 0, copy('j')), IRInvariantError);
    assert.throws(() => forLoop('i', 2.5, copy('j')), IRInvariantError);
    assert.throws(() => constant(1.5, 'i32'), IRInvariantError);
    assert.throws(() => constant(Infinity, 'f32'), IRInvariantError);
    assert.throws(() => bufferDecl('X', [3, 0], 'f32', 'global', 'input'), IRInvariantError);
  });

  it('verify programs: scoping, buffers, ranks, types, nesting', () => {
    assert.doesNotThrow(() => program('ok', [A, B], copy()));
    const bad: [string, () => unknown][] = [
      ['variable j used outside its loop', () => program('p', [A, B], forLoop('i', 4, store('B', [variable('j')], f32(0))))],
      ['undeclared buffer Z', () => program('p', [A, B], forLoop('i', 4, store('Z', [variable('i')], f32(0))))],
      ['rank', () => program('p', [A, B], forLoop('i', 4, store('B', [variable('i'), int(0)], f32(0))))],
      ['store of i32 into f32', () => program('p', [A, B], forLoop('i', 4, store('B', [variable('i')], variable('i'))))],
      ['store to input buffer A', () => program('p', [A, B], forLoop('i', 4, store('A', [variable('i')], f32(0))))],
      ['bound twice', () => program('p', [A, B], seq([copy('i'), copy('i')]))],
      ['operands of add have types f32 and i32', () => program('p', [A, B], forLoop('i', 4, store('B', [variable('i')], add(f32(1), int(1)))))],
      ['declared twice', () => program('p', [A, A, B], copy())],
      ['nested in another parallel', () => program('p', [A, B], forLoop('o', 1, forLoop('i', 4, store('B', [variable('i')], f32(0)), 'spatial', 'parallel'), 'spatial', 'parallel'))],
    ];
    for (const [msg, f] of bad) {
      assert.throws(f, (e: Error) => e instanceof IRInvariantError && e.message.includes(msg), `expected an error mentioning '${msg}'`);
    }
  });

  it('print as a readable loop nest', () => {
    const p = program('k', [A, B], forLoop('i', 4, store('B', [variable('i')], mul(load('A', [variable('i')]), f32(2))), 'spatial', 'parallel'));
    assert.equal(printProgram(p), ['kernel k(', '  in  A: f32[4]', '  out B: f32[4]', ')', 'for i in 0..4:  // parallel', '  B[i] = A[i] * 2.0'].join('\n'));
  });

  it('lower a reduction into init, update and epilogue nests', () => {
    const text = printProgram(lowerWorkload(workload('gemm_bias_relu', { m: 2, n: 3, k: 4 })));
    assert.match(text, /for i\.init in 0\.\.2:\n {2}for j\.init in 0\.\.3:\n {4}C\[i\.init, j\.init\] = 0\.0/);
    assert.match(text, /for k in 0\.\.4: {2}\/\/ reduce\n {6}C\[i, j\] \+= A\[i, k\] \* B\[k, j\]/);
    assert.match(text, /C\[i\.epi, j\.epi\] = relu\(C\[i\.epi, j\.epi\] \+ bias\[j\.epi\]\)/);
  });
});
