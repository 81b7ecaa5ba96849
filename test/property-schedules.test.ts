import assert from 'node:assert/strict';
import { Buffers, execute, randomInputs } from '../ir/execute.js';
import { structurallyEqual } from '../ir/hash.js';
import { OPS, lowerWorkload, workload } from '../ir/ops/index.js';
import { Program } from '../ir/program.js';
import { applyTrace } from '../scheduler/apply.js';
import { PRIMITIVES, Primitive, parseTrace, trace, traceToJSON } from '../scheduler/trace.js';
import { Pipeline } from '../targets/pipeline.js';
import { createTarget, targetNames } from '../targets/registry.js';
import { TraceGenerationBug, randomLegalTrace } from './random-trace.js';

/**
 * Property: every schedule the primitives accept preserves the program's meaning. For each op's
 * example, random legal traces are applied and the scheduled program must compute the same outputs
 * as the unscheduled one on the same random inputs (the reference executor runs every loop
 * serially, so annotations do not matter, only the transformations). Each trace must also replay
 * from its JSON onto a freshly lowered program and give the same IR, and every target's code
 * generator must render it (a codegen_error fails the test).
 *
 * A failure prints the op, the seed and the trace JSON. Replay with
 *   randomLegalTrace(lowerWorkload(workload(op, example)), seed, MAX_STEPS)
 * or save the JSON and run `loopsmith show <op> <example params> --schedule trace.json`.
 */

const TRACES_PER_OP = 30;
const MAX_STEPS = 8;
const MIN_TRACES = 500;

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * (1 + Math.abs(b));

/** The first disagreeing output element, or undefined when all agree. */
function firstMismatch(p: Program, got: Buffers, want: Buffers): string | undefined {
  for (const b of p.buffers) {
    if (b.role !== 'output') continue;
    const g = got[b.name]!, w = want[b.name]!;
    if (g.length !== w.length) return `${b.name} has ${g.length} elements, expected ${w.length}`;
    let bad = 0, first = -1;
    for (let i = 0; i < w.length; i++) {
      if (!close(g[i]!, w[i]!)) {
        bad++;
        if (first < 0) first = i;
      }
    }
    if (bad) return `${b.name}: ${bad} of ${w.length} elements differ; first at flat index ${first}: got ${g[first]}, expected ${w[first]}`;
  }
  return undefined;
}

describe('property: random legal schedules preserve semantics', function () {
  const renderers = targetNames().map((name) => ({ name, pipeline: new Pipeline(createTarget(name)) }));
  const totals = {
    traces: 0,
    failed: 0,
    applied: 0,
    rejected: 0,
    appliedByPrim: Object.fromEntries(PRIMITIVES.map((p) => [p, 0])) as Record<Primitive, number>,
    rejectedByPrim: Object.fromEntries(PRIMITIVES.map((p) => [p, 0])) as Record<Primitive, number>,
  };

  OPS.forEach((op, opIndex) => {
    it(`${op.name}: ${TRACES_PER_OP} random traces agree with the unscheduled program and replay from JSON`, () => {
      const w = workload(op.name, op.example);
      const base = lowerWorkload(w);
      const failures: string[] = [];
      for (let t = 0; t < TRACES_PER_OP; t++) {
        const seed = 1000 * (opIndex + 1) + t;
        const where = (json: string) => `op ${op.name} ${JSON.stringify(op.example)}, seed ${seed} (maxSteps ${MAX_STEPS}), trace:\n${json}`;
        let json = '(no trace: generation failed)';
        totals.traces++;
        try {
          const gen = randomLegalTrace(base, seed, MAX_STEPS);
          totals.applied += gen.steps.length;
          totals.rejected += gen.rejected;
          gen.steps.forEach((s) => totals.appliedByPrim[s.prim]++);
          PRIMITIVES.forEach((p) => (totals.rejectedByPrim[p] += gen.rejectedByPrim[p]));
          json = traceToJSON(trace(gen.steps, w.key));

          const inputs = randomInputs(base, seed);
          const want = execute(base, inputs);
          const got = execute(gen.program, inputs);
          const bad = firstMismatch(base, got, want);
          if (bad) failures.push(`outputs differ: ${bad}\n${where(json)}`);

          const replayed = applyTrace(lowerWorkload(w), parseTrace(json), { workload: w.key });
          if (!structurallyEqual(replayed, gen.program)) failures.push(`replay from JSON gives a different program\n${where(json)}`);

          for (const r of renderers) {
            const rendered = r.pipeline.render(gen.program);
            if (!rendered.ok) failures.push(`${r.name}: ${rendered.measurement.status}: ${rendered.measurement.message}\n${where(json)}`);
          }
        } catch (e) {
          if (e instanceof TraceGenerationBug) {
            const cause = e.cause instanceof Error ? `${e.cause.name}: ${e.cause.message}` : String(e.cause);
            totals.applied += e.applied.length;
            e.applied.forEach((s) => totals.appliedByPrim[s.prim]++);
            json = traceToJSON(trace([...e.applied, e.failing], w.key));
            failures.push(`step ${e.applied.length} (${e.failing.prim}) threw ${cause} instead of applying or raising ScheduleError\n${where(json)}`);
          } else {
            failures.push(`${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n${where(json)}`);
          }
        }
      }
      totals.failed += failures.length;
      assert.equal(failures.length, 0, `${failures.length} of ${TRACES_PER_OP} traces failed for ${op.name}; first:\n${failures.slice(0, 3).join('\n\n')}`);
    });
  });

  it(`checked at least ${MIN_TRACES} random traces in all`, () => {
    const dist = (m: Record<Primitive, number>) => PRIMITIVES.map((p) => `${p}=${m[p]}`).join(' ');
    console.log(`property test: ${totals.traces} random traces checked (${totals.applied} steps applied, ${totals.rejected} candidates rejected; ${totals.failed} traces failed)`);
    console.log(`  applied by primitive:  ${dist(totals.appliedByPrim)}`);
    console.log(`  rejected by primitive: ${dist(totals.rejectedByPrim)}`);
    assert.ok(totals.traces >= MIN_TRACES, `only ${totals.traces} traces checked, want at least ${MIN_TRACES}`);
    assert.ok(totals.applied >= 3 * totals.traces, `traces average ${(totals.applied / totals.traces).toFixed(2)} applied steps, want at least 3`);
  });
});
