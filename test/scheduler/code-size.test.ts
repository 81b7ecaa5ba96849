import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { add, f32, load, variable } from '../../ir/expr.js';
import { LoopsmithError } from '../../ir/errors.js';
import { Stmt, bufferDecl, forLoop, store, walkStmt } from '../../ir/loop.js';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { program } from '../../ir/program.js';
import { lowerForCodegen } from '../../codegen/lower.js';
import { applyTrace } from '../../scheduler/apply.js';
import { MAX_EXPR_DEPTH, MAX_NEST_DEPTH, MAX_UNROLLED_STATEMENTS, codeSize } from '../../scheduler/code-size.js';
import { ScheduleError } from '../../scheduler/errors.js';
import { FIXTURE_DIR, expertFixtures } from '../../scheduler/fixtures/write.js';
import { Step, parseTrace, trace } from '../../scheduler/trace.js';
import { expertSchedules } from '../../tuner/starting-points.js';
import { ScheduleSpace } from '../../tuner/space.js';
import { SpaceTarget } from '../../tuner/space/target.js';
import { CONV_SUITE } from '../../bench/conv-layers.js';
import { assertIllegal, lowered } from './helpers.js';

const unrollAll = (...loops: string[]): Step[] => loops.map((loop) => ({ prim: 'unroll', loop }));

/** Stores and barriers of a program as codegen leaves it (unrolled loops expanded). */
function expandedStatements(body: Stmt): number {
  let n = 0;
  walkStmt(body, (s) => {
    if (s.kind === 'store' || s.kind === 'barrier') n++;
  });
  return n;
}

/** Loops of a split chain: `i` split by [extent - 1] with a guarded tail, then its inner part, `levels` times. */
function guardedChain(levels: number, extent: number): Step[] {
  const steps: Step[] = [];
  let name = 'i';
  for (let l = 0; l < levels; l++, name += '.1') steps.push({ prim: 'split', loop: name, factors: [extent - 1 - l], tail: 'guard' });
  return steps;
}

describe('code-size limits: unrolled statements', () => {
  it('three full unrolls of a 64-cube GEMM are refused at the second, naming the loops, the cap and a factor that fits', () => {
    const p = lowered('gemm', { m: 64, n: 64, k: 64 });
    assert.throws(() => applyTrace(p, trace(unrollAll('i', 'j', 'k'))), (e: Error) => {
      assert.ok(e instanceof ScheduleError && e instanceof LoopsmithError, `${e.name}: ${e.message}`);
      assert.equal(e.message, 'unroll(j): unrolled loops i, j would expand into 4097 statements, more than the 4096 that code generation takes; unroll j by a factor of at most 63, or unroll fewer loops');
      assert.deepEqual(e.loops, ['i', 'j']);
      return true;
    });
    // The factor the message offers is legal; one more is not.
    applyTrace(p, trace([...unrollAll('i'), { prim: 'unroll', loop: 'j', factor: 63 }]));
    assertIllegal(p, [...unrollAll('i'), { prim: 'unroll', loop: 'j', factor: 64 }], /unroll\(j, 64\): unrolled loops i, j would expand into 4097/);
  });

  it('an outer loop unrolled after inner ones multiplies them; with no factor left that fits, fewer loops', () => {
    const p = lowered('gemm', { m: 64, n: 64, k: 64 });
    assertIllegal(p, [...unrollAll('k'), { prim: 'unroll', loop: 'j', factor: 32 }, ...unrollAll('i')],
      /^unroll\(i\): unrolled loops i, j\.1, k would expand into 131073 statements, more than the 4096 that code generation takes; unroll fewer loops around or inside i$/, ['i', 'j.1', 'k']);
  });

  it('exactly the cap is legal, and codegen expands exactly what was counted', () => {
    // 16 x 16 init copies and 16 x 16 x 15 updates: 4096 statements.
    const steps = unrollAll('i.init', 'j.init', 'i', 'j', 'k');
    const p = applyTrace(lowered('gemm', { m: 16, n: 16, k: 15 }), trace(steps));
    assert.equal(codeSize(p).statements, MAX_UNROLLED_STATEMENTS);
    assert.equal(expandedStatements(lowerForCodegen(p).program.body), MAX_UNROLLED_STATEMENTS);
    assertIllegal(lowered('gemm', { m: 16, n: 16, k: 16 }), steps, /unroll\(k\): unrolled loops i, j, k would expand into 4352 statements/);
  });

  it('counts the register tile that codegen unrolls (its init and write-back rows) as an upper bound of the expansion', () => {
    for (const name of ['gemm-cpu-64.json', 'gemm-cpu-256.json']) {
      const size = Number(/-(\d+)\.json$/.exec(name)![1]);
      const p = applyTrace(lowered('gemm', { m: size, n: size, k: size }), parseTrace(readFileSync(FIXTURE_DIR + name, 'utf8')));
      const expanded = expandedStatements(lowerForCodegen(p).program.body);
      assert.ok(expanded > 20, `${name}: register tile rows expanded (${expanded})`);
      assert.ok(codeSize(p).statements >= expanded, `${name}: counted ${codeSize(p).statements}, codegen made ${expanded}`);
    }
  });

  it('a cache placed inside unrolled loops is refused by the check after every step', () => {
    const p = lowered('gemm', { m: 64, n: 64, k: 64 });
    assertIllegal(p, [{ prim: 'reorder', loops: ['i', 'k', 'j'] }, { prim: 'unroll', loop: 'i' }, { prim: 'unroll', loop: 'k', factor: 48 }, { prim: 'cacheRead', buffer: 'B', scope: 'local', at: 'k.1' }],
      /^cacheRead\(B, local, k\.1\): unrolled loops i, k\.1 would expand into \d+ statements, more than the 4096/, ['i', 'k.1']);
  });
});

describe('code-size limits: nesting and expression depth', () => {
  it('a split into thousands of levels is refused before it is built, in one short line', () => {
    const p = lowered('gemv', { m: 64, k: 8 });
    assertIllegal(p, [{ prim: 'split', loop: 'i', factors: Array(200_000).fill(1), tail: 'guard' }],
      /^split\(i, \[1, 1, 1, 1, 1, 1, 1, 1, \.\.\. \(200000\)\], guard\): 200002 blocks \(loops and guards\) would nest around one statement, more than the 40 that code generation takes; give at most 38 factors$/, ['i']);
    const e = (() => { try { applyTrace(p, trace([{ prim: 'split', loop: 'i', factors: Array(200_000).fill(1), tail: 'guard' }])); } catch (x) { return x as Error; } })();
    assert.ok(e && e.message.length < 300, 'the message stays short');
  });

  it('guarded splits nest a loop and a guard each, up to the limit', () => {
    const p = lowered('gemv', { m: 64, k: 8 });
    // i and k, then two blocks per split: 19 splits make 40 blocks.
    const deepest = applyTrace(p, trace(guardedChain(19, 64)));
    assert.equal(codeSize(deepest).nestDepth, MAX_NEST_DEPTH);
    assertIllegal(p, guardedChain(20, 64), /^split\(i(\.1){19}, \[44\], guard\): 42 blocks \(loops and guards\) would nest around one statement, more than the 40 that code generation takes; fuse loops of this nest first$/);
  });

  it('an expression deeper than the limit is refused after whichever step leaves it', () => {
    // A program built by hand (as a library user may) whose value is a chain one level too deep.
    const x = bufferDecl('x', [8], 'f32', 'global', 'input'), y = bufferDecl('y', [8], 'f32', 'global', 'output');
    const i = variable('i');
    let v = load('x', [i]);
    while (codeSize(program('deep', [x, y], forLoop('i', 8, store('y', [i], v)))).exprDepth <= MAX_EXPR_DEPTH) v = add(f32(1), v);
    const p = program('deep', [x, y], forLoop('i', 8, store('y', [i], v)));
    assertIllegal(p, [{ prim: 'split', loop: 'i', factors: [2], tail: 'guard' }], new RegExp(`^split\\(i, \\[2\\], guard\\): an expression would be \\d+ levels deep, more than the ${MAX_EXPR_DEPTH} that code generation takes`));
  });
});

describe('code-size limits leave room for every schedule loopsmith writes', () => {
  const cpu = (lanes: number, vectorRegisters?: number): SpaceTarget => ({ kind: 'c', style: 'cpu', lanes, ...(vectorRegisters ? { vectorRegisters } : {}), threads: 2, maxInvocations: 256, maxWorkgroupDim: [256, 256, 64], maxWorkgroupBytes: 16384 });
  const gpu: SpaceTarget = { kind: 'webgpu', style: 'gpu', lanes: 1, threads: 1, maxInvocations: 256, maxWorkgroupDim: [256, 256, 64], maxWorkgroupBytes: 16384 };
  const targets = [cpu(16), cpu(8, 16), gpu];
  /** Measured when the limits were set: statements 618 (the GPU conv2d expert, 11 x 11), nesting 26 and expressions 19 (3-d convolutions in the spaces). */
  const withinMargin = (what: string, p: Parameters<typeof codeSize>[0]) => {
    const s = codeSize(p);
    assert.ok(s.statements <= MAX_UNROLLED_STATEMENTS / 4 && s.nestDepth <= MAX_NEST_DEPTH * 0.75 && s.exprDepth <= MAX_EXPR_DEPTH * 0.75, `${what}: ${JSON.stringify(s)}`);
  };

  it('the expert schedules of the conv suite and GEMMs, and the fixtures, stay far below the limits', () => {
    const cases: [string, Record<string, number>][] = [
      ...CONV_SUITE.map((l): [string, Record<string, number>] => [l.op, l.params]),
      ...[64, 100, 512, 1024].map((s): [string, Record<string, number>] => ['gemm', { m: s, n: s, k: s }]),
      ['conv2d', { n: 1, c: 3, h: 224, w: 224, k: 64, kh: 11, kw: 11, pad: 5, stride: 4 }],
    ];
    for (const [op, params] of cases) {
      const w = workload(op, params), base = lowerWorkload(w);
      for (const t of targets) for (const e of expertSchedules(w, t)) withinMargin(`${w.key} ${e.label}`, applyTrace(base, e.trace));
    }
    for (const [name, t] of expertFixtures()) {
      const size = Number(/-(\d+)\.json$/.exec(name)![1]);
      withinMargin(name, applyTrace(lowered('gemm', { m: size, n: size, k: size }), t));
    }
  });

  it('experts for kernels far wider than the suite\'s unroll in parts instead of failing', () => {
    for (const [op, params] of [['conv2d', { n: 1, c: 4, h: 70, w: 64, k: 64, kh: 63, kw: 63, pad: 31 }], ['depthwise_conv2d', { n: 1, c: 16, h: 70, w: 64, kh: 47, kw: 47, pad: 23 }]] as const) {
      const w = workload(op, params), base = lowerWorkload(w);
      for (const t of targets) for (const e of expertSchedules(w, t)) assert.ok(codeSize(applyTrace(base, e.trace)).statements <= MAX_UNROLLED_STATEMENTS, `${w.key} ${e.label}`);
    }
  });

  it('points of the search spaces stay far below the limits', () => {
    const shapes: [string, Record<string, number>][] = [
      ['gemm', { m: 1024, n: 1024, k: 1024 }], ['gemm', { m: 64, n: 64, k: 64 }], ['conv2d', { n: 1, c: 64, h: 56, w: 56, k: 64, kh: 3, kw: 3, pad: 1 }],
      ['conv3d', { n: 1, c: 2, d: 4, h: 5, w: 4, k: 3, kd: 2, kh: 3, kw: 2, pad: 1 }], ['conv3d_transpose', { n: 1, c: 2, d: 4, h: 5, w: 4, k: 3, kd: 2, kh: 3, kw: 2, pad: 1, stride: 2 }],
    ];
    let seed = 1;
    const r = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (const [op, params] of shapes) {
      const w = workload(op, params), base = lowerWorkload(w);
      for (const t of targets) {
        const space = new ScheduleSpace(base, t);
        for (let n = 0; n < 40; n++) {
          const point = space.sample(r);
          withinMargin(`${w.key} ${t.style} ${JSON.stringify(point)}`, applyTrace(base, space.toTrace(point)));
        }
      }
    }
  });
});
