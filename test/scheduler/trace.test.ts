import assert from 'node:assert/strict';
import { TraceFormatError } from '../../scheduler/errors.js';
import { decisions, parseTrace, trace, traceToJSON, traceToTypeScript, withDecision } from '../../scheduler/trace.js';
import { applyTrace } from '../../scheduler/apply.js';
import { expertCpuGemm } from '../../scheduler/expert.js';
import { assertSameResults, lowered } from './helpers.js';

describe('traces', () => {
  const t = expertCpuGemm(64, 64, 64, 'gemm(k=64,m=64,n=64,transA=0,transB=0):f32');

  it('round-trip through versioned JSON', () => {
    const json = traceToJSON(t);
    assert.equal(JSON.parse(json).version, 1);
    assert.deepEqual(parseTrace(json), t);
    assert.throws(() => parseTrace(JSON.stringify(t.steps)), /a schedule is an object \{"version": 1, "steps": \[\.\.\.\]\}, not a list/);
    assert.throws(() => parseTrace('[]'), /not a list/, '[] is not a trace');
  });

  it('read a trace written before and write it back byte for byte, every primitive included', () => {
    const text = JSON.stringify({ version: 1, workload: 'gemm(k=16,m=16,n=16,transA=0,transB=0):f32', steps: [
      { prim: 'split', loop: 'i', factors: [2, 4], tail: 'requireDivisible' },
      { prim: 'tile', loops: ['j', 'k'], factors: [4, 4], tail: 'guard' },
      { prim: 'reorder', loops: ['k.0', 'j.0'] },
      { prim: 'fuse', outer: 'i.0', inner: 'i.1' },
      { prim: 'vectorize', loop: 'j.1' },
      { prim: 'unroll', loop: 'i.2' },
      { prim: 'unroll', loop: 'k.1', factor: 2 },
      { prim: 'parallel', loop: 'i.0.i.1.fused' },
      { prim: 'bind', loop: 'i.init', axis: 'thread.x' },
      { prim: 'cacheRead', buffer: 'A', scope: 'local', at: 'k.0' },
      { prim: 'cacheWrite', buffer: 'C', scope: 'workgroup', at: 'j.0' },
    ] }, null, 2);
    assert.equal(traceToJSON(parseTrace(text)), text);
  });

  it('print as TypeScript calls', () => {
    const ts = traceToTypeScript(t);
    assert.match(ts, /^\/\/ schedule for gemm/);
    assert.match(ts, /s\.split\("i", \[8, 8\], "requireDivisible"\);/);
    assert.match(ts, /s\.cacheWrite\("C", "local", "j\.1"\);/);
  });

  it('expose decisions that a search can change and replay', () => {
    const ds = decisions(t);
    assert.deepEqual(ds.map((d) => d.value), [[8, 8], [2, 32], [64]]);
    const changed = withDecision(t, ds[0]!.step, [4, 16]);
    const first = changed.steps[0]!;
    assert.ok(first.prim === "split" && first.factors.join() === "4,16");
    assert.deepEqual(changed.steps.slice(1), t.steps.slice(1), 'the rest of the trace is untouched');
    const p = lowered('gemm', { m: 64, n: 64, k: 64 });
    assertSameResults(p, applyTrace(p, changed));
  });

  const malformed: [string, string, RegExp][] = [
    ['not JSON', '{', /not valid JSON/],
    ['wrong version', '{"version": 9, "steps": []}', /^schedule version: 9 is not supported; this loopsmith reads version 1$/],
    ['no steps', '{"version": 1}', /^schedule steps: is required \(a list\)$/],
    ['unknown primitive', '{"version": 1, "steps": [{"prim": "twist", "loop": "i"}]}', /^schedule steps\[0\]\.prim: must be one of split, tile, reorder, .*, got "twist"$/],
    ['misspelt primitive', '{"version": 1, "steps": [{"prim": "splt", "loop": "i"}]}', /got "splt"; did you mean `split`\?$/],
    ['missing field', '{"version": 1, "steps": [{"prim": "split", "loop": "i", "tail": "guard"}]}', /^schedule steps\[0\] \(split\)\.factors: is required \(a list\)$/],
    ['bad tail', '{"version": 1, "steps": [{"prim": "split", "loop": "i", "factors": [2], "tail": "wrap"}]}', /tail: must be one of guard, requireDivisible, pad, got "wrap"/],
    ['unknown field', '{"version": 1, "steps": [{"prim": "vectorize", "loop": "i", "width": 8}]}', /^schedule steps\[0\] \(vectorize\): unknown field `width`; fields: prim, loop$/],
    ['misspelt field', '{"version": 1, "steps": [{"prim": "split", "lop": "i", "factors": [2], "tail": "guard"}]}', /unknown field `lop`; did you mean `loop`\?/],
    ['misspelt top-level field', '{"version": 1, "stpes": []}', /^schedule: unknown field `stpes`; did you mean `steps`\?/],
    // 5000 nested lists: too deep for JSON.stringify and String() alike, where the message shows the value.
    ['a step nested 5000 lists deep', `{"version": 1, "steps": [${'['.repeat(5000)}${']'.repeat(5000)}]}`, /^schedule steps\[0\]: must be an object, got a list nested too deeply to show$/],
    ['bad axis', '{"version": 1, "steps": [{"prim": "bind", "loop": "i", "axis": "block.x"}]}', /axis: must be one of workgroup\.x/],
    ['step not an object', '{"version": 1, "steps": [3]}', /^schedule steps\[0\]: must be an object, got 3$/],
    ['a number past 2^53', '{"version": 1, "steps": [{"prim": "split", "loop": "i", "factors": [9007199254740993], "tail": "guard"}]}', /factors\[0\]: must be a safe integer/],
    ['a fraction', '{"version": 1, "steps": [{"prim": "unroll", "loop": "i", "factor": 2.5}]}', /factor: must be an integer, got 2\.5/],
    ['too many steps', JSON.stringify({ version: 1, steps: Array(257).fill({ prim: 'parallel', loop: 'i' }) }), /steps: at most 256 steps are allowed, got 257/],
  ];
  for (const [what, text, pattern] of malformed) {
    it(`reject a malformed trace: ${what}`, () => {
      assert.throws(() => parseTrace(text), (e: Error) => e instanceof TraceFormatError && pattern.test(e.message) && !e.message.includes('\n'));
    });
  }

  it('refuse to replay onto another workload', () => {
    assert.throws(() => applyTrace(lowered('gemm', { m: 32, n: 64, k: 64 }), t, { workload: 'gemm(k=64,m=32,n=64,transA=0,transB=0):f32' }), /was written for gemm\(k=64,m=64/);
    assert.doesNotThrow(() => applyTrace(lowered('gemm', { m: 8, n: 8, k: 8 }), trace([{ prim: 'parallel', loop: 'i' }])));
  });
});
