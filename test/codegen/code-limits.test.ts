import assert from 'node:assert/strict';
import { Expr, add, cmp, f32, int, load, mod, mul, unary, variable } from '../../ir/expr.js';
import { bufferDecl, forLoop, ifThen, store } from '../../ir/loop.js';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { Program, program } from '../../ir/program.js';
import { applyTrace } from '../../scheduler/apply.js';
import { MAX_EXPR_DEPTH, MAX_NEST_DEPTH, MAX_UNROLLED_STATEMENTS, codeSize, exprDepth } from '../../scheduler/code-size.js';
import { Step, trace } from '../../scheduler/trace.js';
import { lowerForCodegen } from '../../codegen/lower.js';
import { renderWgsl } from '../../codegen/wgsl/render.js';
import { CTarget } from '../../targets/c/target.js';
import { Pipeline } from '../../targets/pipeline.js';
import { WebGpuTarget } from '../../targets/webgpu/target.js';

// The code-size limits (scheduler/code-size.ts) are what keeps code generation's recursions and
// expansions in bounds: a program at each limit renders in C and WGSL and computes what the
// reference does, on both devices.

/** A program to check and what it must compute the same as. */
interface Case {
  readonly label: string;
  readonly program: Program;
  readonly unscheduled: Program;
  readonly key: string;
}

/** gemm 16 x 16 x 15 with every loop unrolled: 256 init copies and 3840 updates, the cap exactly. */
function atUnrollCap(): Case {
  const w = workload('gemm', { m: 16, n: 16, k: 15 }), base = lowerWorkload(w);
  const steps: Step[] = ['i.init', 'j.init', 'i', 'j', 'k'].map((loop) => ({ prim: 'unroll', loop }));
  return { label: 'unrolled to the cap', program: applyTrace(base, trace(steps)), unscheduled: base, key: w.key };
}

/**
 * gemv 64 x 8 nested to the limit by a schedule: ten guarded splits of the inner part (a loop of 2
 * and a guard each, which stay in the rendered code), then unit loops (which codegen drops).
 */
function atNestLimit(): Case {
  const w = workload('gemv', { m: 64, k: 8 }), base = lowerWorkload(w);
  const steps: Step[] = [];
  let name = 'i';
  for (let l = 0; l < 10; l++, name += '.1') steps.push({ prim: 'split', loop: name, factors: [63 - l], tail: 'guard' });
  // i and k, and two blocks for each guarded split: 22 so far.
  steps.push({ prim: 'split', loop: name, factors: Array(MAX_NEST_DEPTH - 22).fill(1), tail: 'guard' });
  return { label: 'nested to the limit', program: applyTrace(base, trace(steps)), unscheduled: base, key: w.key };
}

const x = bufferDecl('x', [8], 'f32', 'global', 'input'), y = bufferDecl('y', [8], 'f32', 'global', 'output');
const i = variable('i');

/** A program that computes y[i] from `value` under `guards` nested guards that always hold. */
function handBuilt(label: string, value: Expr, guards = 0): Case {
  let body = store('y', [i], value);
  // x[d] == x[d] holds for the (finite) inputs, and no interval analysis can drop it.
  for (let d = 0; d < guards; d++) body = ifThen(cmp('eq', load('x', [int(d % 8)]), load('x', [int(d % 8)])), body);
  const p = program(label, [x, y], forLoop('i', 8, body));
  return { label, program: p, unscheduled: p, key: label };
}

/**
 * y[i] = x[(i + n) % 8] + 0.5 * (... + 0.5 * (x[(i + 1) % 8] + 0.5 * x[i])), as deep as the
 * limit: a right-leaning chain, so every level is a parenthesis in C and WGSL.
 */
function atExprLimit(): Case {
  let v: Expr = load('x', [i]);
  for (let level = 1; exprDepth(v) + 2 <= MAX_EXPR_DEPTH; level++) v = add(load('x', [mod(add(i, int(level % 8)), int(8))]), mul(f32(0.5), v));
  // Each level above adds two; one more addition reaches the limit exactly.
  while (exprDepth(v) < MAX_EXPR_DEPTH) v = add(f32(1), v);
  return handBuilt('deep-expression', v);
}

/** Both limits at once, in the shape costliest to WGSL's parser: nested guards around -(-(...x[i])). */
function atBothLimits(): Case {
  let v: Expr = load('x', [i]);
  while (exprDepth(v) < MAX_EXPR_DEPTH) v = unary('neg', v);
  return handBuilt('deep-nest-and-expression', v, MAX_NEST_DEPTH - 1);
}

const CASES = [atUnrollCap, atNestLimit, atExprLimit, atBothLimits];

describe('code-size limits: programs at each limit render and compute right', function () {
  this.timeout(600_000);

  it('the cases sit at the limits', () => {
    assert.equal(codeSize(atUnrollCap().program).statements, MAX_UNROLLED_STATEMENTS);
    assert.equal(codeSize(atNestLimit().program).nestDepth, MAX_NEST_DEPTH);
    assert.equal(codeSize(atExprLimit().program).exprDepth, MAX_EXPR_DEPTH);
    assert.deepEqual(codeSize(atBothLimits().program), { statements: 1, nestDepth: MAX_NEST_DEPTH, exprDepth: MAX_EXPR_DEPTH });
  });

  it('in C', async () => {
    const pipeline = new Pipeline(new CTarget({}, { threads: 1 }));
    for (const c of CASES.map((f) => f())) {
      const m = await pipeline.measureProgram(c.program, { key: c.key, unscheduled: c.unscheduled, flops: 1 }, { time: false });
      assert.equal(m.status, 'ok', `${c.label}: ${m.status}: ${m.message}`);
    }
  });

  // Not the unrolled case on the device: each unrolled copy of a top-level loop is its own entry
  // point there (nests run as separate dispatches), and lavapipe takes minutes to build thousands
  // of pipelines (a compile_timeout, as for any kernel past a device's means).
  it('in WGSL: every case renders, and all but the unrolled one run right on the WebGPU device', async () => {
    for (const c of CASES.map((f) => f())) assert.ok(renderWgsl(lowerForCodegen(c.program)).source.length > 0, c.label);
    const unrolled = renderWgsl(lowerForCodegen(atUnrollCap().program)).source;
    assert.equal(unrolled.match(/^\s*C\[\d+i\] \+?= /gm)?.length, MAX_UNROLLED_STATEMENTS, 'one line per unrolled statement');
    const target = new WebGpuTarget({ minSeconds: 0.05 });
    await target.open();
    try {
      const pipeline = new Pipeline(target);
      for (const c of [atNestLimit(), atExprLimit(), atBothLimits()]) {
        const m = await pipeline.measureProgram(c.program, { key: c.key, unscheduled: c.unscheduled, flops: 1 }, { time: false });
        assert.equal(m.status, 'ok', `${c.label}: ${m.status}: ${m.message}`);
      }
    } finally {
      await target.close();
    }
  });
});
