import assert from 'node:assert/strict';
import { lowerWorkload, workload } from '../../ir/ops/index.js';
import { CCandidate, CpuTarget, ReferenceSpec } from '../../targets/c/target.js';
import { execute, randomInputs } from '../../ir/execute.js';
import { compareOutputs } from '../../targets/c/verify.js';

const w = workload('gemm', { m: 16, n: 16, k: 16 });
const base = lowerWorkload(w);
const ref: ReferenceSpec = { key: w.key, unscheduled: base, flops: w.flops };

/** A candidate whose kernel has `code` planted at the start or the end of its body. */
function plant(c: CCandidate, code: string, where: 'start' | 'end'): CCandidate {
  const { source } = c;
  const open = source.indexOf('{\n', source.indexOf('void loopsmith_kernel(')) + 2;
  const close = source.indexOf('\n}\n', open);
  const at = where === 'start' ? open : close + 1;
  return { ...c, source: source.slice(0, at) + `  ${code}\n` + source.slice(at) };
}

describe('C target: faults cost one candidate, never the run', function () {
  this.timeout(120_000);
  const target = new CpuTarget({ runTimeoutMs: 3000, minSeconds: 0.01 });
  const good = () => target.candidate(base);

  it('a kernel that segfaults is reported as a crash with its signal', async () => {
    const m = await target.measure(plant(good(), '*(volatile int *)0 = 1;', 'start'), ref);
    assert.equal(m.status, 'crash');
    assert.match(m.message!, /SIGSEGV/);
  });

  it('a kernel that never returns is killed and reported as a run timeout', async () => {
    const m = await target.measure(plant(good(), 'for (;;) __asm__ volatile("");', 'start'), ref);
    assert.equal(m.status, 'run_timeout');
    assert.match(m.message!, /did not finish in 3 s/);
  });

  it('a kernel that computes a wrong answer is caught before it is timed', async () => {
    const m = await target.measure(plant(good(), 'C[37] += 0.25f;', 'end'), ref);
    assert.equal(m.status, 'wrong_answer');
    assert.match(m.message!, /C\[37\]/);
    assert.equal(m.times, undefined, 'no time is recorded for a wrong kernel');
  });

  it('a kernel that leaves an output unwritten is a wrong answer (outputs start as NaN)', async () => {
    const m = await target.measure(plant(good(), 'return;', 'start'), ref);
    assert.equal(m.status, 'wrong_answer');
  });

  it('a kernel that does not compile keeps the compiler\'s message', async () => {
    const m = await target.measure(plant(good(), 'this is not C;', 'start'), ref);
    assert.equal(m.status, 'compile_error');
    assert.match(m.message!, /error/);
  });

  it('a compiler that takes too long is reported as a compile timeout', async () => {
    const slow = new CpuTarget({ compileTimeoutMs: 1 });
    const m = await slow.measure(slow.candidate(base), ref);
    assert.equal(m.status, 'compile_timeout');
  });

  it('after all of that, the same target still measures a good kernel', async () => {
    const m = await target.measure(good(), ref);
    assert.equal(m.status, 'ok', m.message);
    assert.ok(m.stats!.runs >= 3 && m.gflops! > 0);
  });

  it('the compiled naive kernel, the reference for large shapes, agrees with the reference executor', async () => {
    const compiledRef = new CpuTarget({ jsReferenceFlops: 0 });
    const want = execute(base, randomInputs(base, compiledRef.opts.seed));
    const got = await compiledRef.reference(w.key, base, w.flops);
    assert.ok(compareOutputs(got, { C: want.C! }, 16).ok);
  });
});
