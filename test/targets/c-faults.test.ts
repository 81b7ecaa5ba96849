import assert from 'node:assert/strict';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { CCandidate } from '../../targets/c/candidate.js';
import { CTarget } from '../../targets/c/target.js';
import { execute, randomInputs } from '../../ir/execute.js';
import { Pipeline } from '../../targets/pipeline.js';
import { References } from '../../targets/reference.js';
import { ReferenceSpec, measureSettings } from '../../targets/target.js';
import { compareOutputs } from '../../targets/verify.js';
import { TargetEvaluator } from '../../tuner/evaluate.js';

const w = workload('gemm', { m: 16, n: 16, k: 16 });
const base = lowerWorkload(w);
const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };

/** A candidate whose kernel has `code` planted at the start or the end of its body. */
function plant(c: CCandidate, code: string, where: 'start' | 'end'): CCandidate {
  const { compiled } = c;
  const open = compiled.indexOf('{\n', compiled.indexOf('void loopsmith_kernel(')) + 2;
  const close = compiled.indexOf('\n}\n', open);
  const at = where === 'start' ? open : close + 1;
  return { ...c, compiled: compiled.slice(0, at) + `  ${code}\n` + compiled.slice(at) };
}

describe('C target: faults cost one candidate, never the run', function () {
  this.timeout(120_000);
  const target = new CTarget({ runTimeoutMs: 3000, minSeconds: 0.01 });
  const pipeline = new Pipeline(target);
  const measure = async (c: CCandidate, p = pipeline) => (await p.measureAll([c], ref))[0]!;
  const good = () => target.candidate(base);

  it('a kernel that segfaults is reported as a crash with its signal', async () => {
    const m = await measure(plant(good(), '*(volatile int *)0 = 1;', 'start'));
    assert.equal(m.status, 'crash');
    assert.match(m.message!, /SIGSEGV/);
  });

  it('a kernel that never returns is killed and reported as a run timeout', async () => {
    const m = await measure(plant(good(), 'for (;;) __asm__ volatile("");', 'start'));
    assert.equal(m.status, 'run_timeout');
    assert.match(m.message!, /did not finish in 3 s/);
  });

  it('a kernel that computes a wrong answer is caught before it is timed', async () => {
    const m = await measure(plant(good(), 'C[37] += 0.25f;', 'end'));
    assert.equal(m.status, 'wrong_answer');
    assert.match(m.message!, /C\[37\]/);
    assert.equal(m.times, undefined, 'no time is recorded for a wrong kernel');
  });

  it('a kernel that leaves an output unwritten is a wrong answer (outputs start as NaN)', async () => {
    const m = await measure(plant(good(), 'return;', 'start'));
    assert.equal(m.status, 'wrong_answer');
  });

  it('a kernel that does not compile keeps the compiler\'s message', async () => {
    const m = await measure(plant(good(), 'this is not C;', 'start'));
    assert.equal(m.status, 'compile_error');
    assert.match(m.message!, /error/);
  });

  it('a compiler that takes too long is reported as a compile timeout', async () => {
    const slow = new CTarget({}, { compileTimeoutMs: 1 });
    const m = await measure(slow.candidate(base), new Pipeline(slow));
    assert.equal(m.status, 'compile_timeout');
  });

  it('after all of that, the same target still measures a good kernel', async () => {
    const m = await measure(good());
    assert.equal(m.status, 'ok', m.message);
    assert.ok(m.stats!.runs >= 3 && m.gflops! > 0);
  });

  it('the compiled naive kernel, the reference for large shapes, agrees with the reference executor', async () => {
    const compiledRef = new References(measureSettings({ jsReferenceFlops: 0, referenceCacheDir: 'off' }));
    const want = execute(base, randomInputs(base, 1));
    const got = await compiledRef.get(ref);
    assert.ok(compareOutputs(got, { C: want.C! }, 16).ok);
  });

  it('a code generator that throws costs that candidate as a codegen_error, never a compile_error', async () => {
    class BrokenRenderer extends CTarget {
      override candidate(): CCandidate {
        throw new Error('renderer bug\nsecond line');
      }
    }
    const [r] = await new TargetEvaluator(new BrokenRenderer()).measure([base], ref);
    assert.equal(r!.measurement.status, 'codegen_error');
    assert.equal(r!.measurement.message, 'internal code generation error (please report): renderer bug');
  });
});
