import { FuzzCase } from './cases.js';
import { FailureStatus } from './verdict.js';

/** A value as TypeScript source in the style of the hand-written tests: `{ prim: 'split', factors: [4] }`. */
export function literal(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${literal(x)}`).join(', ')} }`;
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return String(v);
}

const EXPECTED: Record<FailureStatus, string> = {
  wrong_answer: 'computes the right answer',
  crash: 'runs without crashing',
  run_timeout: 'finishes',
  compile_error: 'compiles',
  compile_timeout: 'compiles in time',
  codegen_error: 'renders',
  schedule_bug: 'applies or raises a ScheduleError',
};

/** Where the text goes, and the assertion it ends with, per target. */
const HOMES: Record<string, { readonly where: string; readonly check: readonly string[] }> = {
  c: {
    where: "test/targets/c-ops.test.ts, describe 'C target: regressions' (its check helper)",
    check: ['    await check(p, base, w.key);'],
  },
  webgpu: {
    where: "test/targets/webgpu-ops.test.ts, describe 'WebGPU target: every op matches the reference on the device' (its pipeline)",
    check: [
      '    const m = await pipeline.measureProgram(p, { key: w.key, unscheduled: base, flops: w.flops }, { time: false });',
      '    assert.equal(m.status, \'ok\', `${m.status}: ${m.message}`);',
    ],
  },
};

/**
 * A mocha test that fails while the bug is there, ready to paste. A primitive that throws is a
 * scheduler bug whatever the target, so its test only applies the trace.
 */
export function regressionTest(c: FuzzCase, status: FailureStatus, target: string, seed: number, message: string): string {
  const title = `${c.op} with a ${c.steps.length}-step schedule ${EXPECTED[status]} (fuzz seed ${seed})`;
  const steps = c.steps.map((s) => `      ${literal(s)},`);
  const head = [`  // ${message.split('\n')[0]}`, `  it(${literal(title)}, async () => {`, `    const w = workload(${literal(c.op)}, ${literal(c.params)});`, '    const base = lowerWorkload(w);'];
  if (status === 'schedule_bug') {
    return [
      '// paste into test/scheduler/ (applying a legal-looking trace must apply or raise a ScheduleError)',
      ...head,
      '    try {',
      '      applyTrace(base, trace([', ...steps.map((s) => `  ${s}`), '      ]));',
      '    } catch (e) {',
      '      assert.ok(e instanceof ScheduleError, String(e));',
      '    }',
      '  });',
    ].join('\n');
  }
  const home = HOMES[target]!;
  return [`// paste into ${home.where}`, ...head, '    const p = applyTrace(base, trace([', ...steps, '    ]));', ...home.check, '  });'].join('\n');
}
