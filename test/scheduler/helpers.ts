import assert from 'node:assert/strict';
import { execute, randomInputs } from '../../ir/execute.js';
import { structurallyEqual } from '../../ir/hash.js';
import { Params, lowerWorkload, workload } from '../../ir/ops/index.js';
import { printStmt } from '../../ir/print.js';
import { Program } from '../../ir/program.js';
import { applyTrace } from '../../scheduler/apply.js';
import { ScheduleError } from '../../scheduler/errors.js';
import { Step, parseTrace, trace, traceToJSON } from '../../scheduler/trace.js';

export function lowered(op: string, params: Params): Program {
  return lowerWorkload(workload(op, params));
}

export const nest = (p: Program) => printStmt(p.body).join('\n');

export function assertSameResults(a: Program, b: Program, seed = 7): void {
  const inputs = randomInputs(a, seed);
  const ra = execute(a, inputs), rb = execute(b, inputs);
  for (const buf of a.buffers.filter((x) => x.role === 'output')) {
    const x = ra[buf.name]!, y = rb[buf.name]!;
    for (let i = 0; i < x.length; i++) {
      assert.ok(Math.abs(x[i]! - y[i]!) <= 1e-4 * (1 + Math.abs(x[i]!)), `${buf.name}[${i}]: ${y[i]} instead of ${x[i]}`);
    }
  }
}

/**
 * The shape of every primitive test: IR before, the steps, the expected loop nest; then the trace
 * survives a JSON round-trip and replays to a structurally equal program that computes the same.
 */
export function checkSchedule(before: Program, steps: Step[], expected: string): Program {
  const t = trace(steps);
  const after = applyTrace(before, t);
  assert.equal(nest(after), expected.trim());
  const replayed = applyTrace(before, parseTrace(traceToJSON(t)));
  assert.ok(structurallyEqual(after, replayed), 'replayed trace gives the same IR');
  assertSameResults(before, after);
  return after;
}

/** An illegal use raises a ScheduleError naming the loops and matching `pattern`. */
export function assertIllegal(before: Program, steps: Step[], pattern: RegExp, loops?: string[]): void {
  assert.throws(() => applyTrace(before, trace(steps)), (e: Error) => {
    assert.ok(e instanceof ScheduleError, `${e.name}: ${e.message}`);
    assert.match(e.message, pattern);
    if (loops) for (const l of loops) assert.ok(e.loops.includes(l), `error names loop ${l}: ${e.loops.join(', ')}`);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
}
