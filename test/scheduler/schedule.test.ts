import assert from 'node:assert/strict';
import { structurallyEqual } from '../../ir/hash.js';
import { OPS, lowerWorkload, workload } from '../../ir/ops/index.js';
import { Program } from '../../ir/program.js';
import { applyTrace } from '../../scheduler/apply.js';
import { defaultGpuTrace } from '../../scheduler/default-schedules.js';
import { ScheduleError } from '../../scheduler/errors.js';
import { expertFixtures } from '../../scheduler/fixtures/write.js';
import { Schedule } from '../../scheduler/schedule.js';
import { PRIMITIVES, Trace, trace, traceToJSON, traceToTypeScript } from '../../scheduler/trace.js';
import { randomLegalTrace } from '../random-trace.js';
import { lowered } from './helpers.js';

/**
 * A tiny interpreter for what `traceToTypeScript` prints: every line but the heading comment must
 * be one call `s.<method>(<args>);` whose arguments read as JSON, and the method must exist on
 * `Schedule`. Printing and the builder agree when the calls record the trace that was printed.
 */
function runPrinted(base: Program, t: Trace, text = traceToTypeScript(t)): Schedule {
  const s = new Schedule(base, t.workload);
  for (const line of text.split('\n').filter((l) => !l.startsWith('// '))) {
    const call = /^s\.(\w+)\((.*)\);$/.exec(line);
    assert.ok(call, `not a builder call: ${line}`);
    const method: unknown = (s as unknown as Record<string, unknown>)[call[1]!];
    assert.equal(typeof method, 'function', `Schedule has no method ${call[1]}`);
    (method as (...args: unknown[]) => Schedule).apply(s, JSON.parse(`[${call[2]}]`) as unknown[]);
  }
  return s;
}

function assertPrintedReplays(base: Program, t: Trace): void {
  const s = runPrinted(base, t);
  assert.equal(traceToJSON(s.trace), traceToJSON(t), 'the printed calls record the same trace, field order included');
  assert.ok(structurallyEqual(s.program, applyTrace(base, t)), 'and build the same program');
}

describe('the Schedule builder and traceToTypeScript', () => {
  it('has one method per registered primitive', () => {
    for (const prim of PRIMITIVES) assert.equal(typeof (Schedule.prototype as unknown as Record<string, unknown>)[prim], 'function', prim);
  });

  for (const [name, t] of expertFixtures().filter(([n]) => /-(64|256)\.json$/.test(n))) {
    it(`the printed ${name} replays through the builder`, () => {
      const size = Number(/-(\d+)\.json$/.exec(name)![1]);
      assertPrintedReplays(lowered('gemm', { m: size, n: size, k: size }), t);
    });
  }

  it('printed random traces of every op replay through the builder, covering every primitive', () => {
    const seen = new Set<string>();
    for (const op of OPS) {
      const base = lowerWorkload(workload(op.name, op.example));
      for (let seed = 1; seed <= 6; seed++) {
        const t = trace(randomLegalTrace(base, 1000 + seed, 8).steps, `${op.name}#${seed}`);
        t.steps.forEach((s) => seen.add(s.prim === 'unroll' ? `unroll${s.factor === undefined ? '' : '(factor)'}` : s.prim));
        assertPrintedReplays(base, t);
      }
      assertPrintedReplays(base, defaultGpuTrace(base, 64, op.name));
    }
    for (const want of [...PRIMITIVES, 'unroll(factor)']) assert.ok(seen.has(want), `no random trace used ${want}`);
  });

  it('notices a printed call that records something else', () => {
    const base = lowered('gemm', { m: 16, n: 16, k: 16 });
    const t = trace([{ prim: 'split', loop: 'i', factors: [4], tail: 'requireDivisible' }, { prim: 'unroll', loop: 'i.1' }]);
    const tampered = traceToTypeScript(t).replace('"requireDivisible"', '"guard"');
    assert.notEqual(traceToJSON(runPrinted(base, t, tampered).trace), traceToJSON(t));
  });

  it('applies each call at once, so an illegal one fails there and the trace keeps what applied', () => {
    const s = new Schedule(lowered('gemm', { m: 16, n: 16, k: 16 })).split('j', [8], 'requireDivisible');
    assert.throws(() => s.vectorize('k'), (e: Error) => e instanceof ScheduleError && /k is a reduction loop/.test(e.message));
    assert.deepEqual(s.trace.steps, [{ prim: 'split', loop: 'j', factors: [8], tail: 'requireDivisible' }]);
    assert.deepEqual(s.split('i', [4]).trace.steps[1], { prim: 'split', loop: 'i', factors: [4], tail: 'guard' }, "tail defaults to 'guard'");
  });
});
