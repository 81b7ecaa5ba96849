/** Every schedule trace the documentation shows parses, names its workload and replays onto it (issue 25, point 8). */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lowerWorkload, workload } from '../ir/ops/index.js';
import { applyTrace } from '../scheduler/apply.js';
import { parseTrace } from '../scheduler/trace.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = ['README.md', ...readdirSync(`${ROOT}docs`).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'examples/gemm-app/README.md'];

/** `gemm(k=64,m=64,n=64,transA=0,transB=0):f32` as an op, its parameters and the dtype. */
function fromKey(key: string): { op: string; params: Record<string, number>; dtype: string } {
  const m = /^(\w+)\((.*)\):(\w+)$/.exec(key);
  assert.ok(m, `a workload key: ${key}`);
  const params = Object.fromEntries(m[2]!.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k!, Number(v)]));
  return { op: m[1]!, params, dtype: m[3]! };
}

describe('docs: every trace shown replays', () => {
  const traces = DOCS.flatMap((file) => {
    const text = readFileSync(`${ROOT}${file}`, 'utf8');
    return [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((block) => /"steps"/.test(block)).map((block, i) => ({ file, i, block }));
  });

  it('the README shows at least one trace', () => assert.ok(traces.some((t) => t.file === 'README.md')));

  for (const { file, i, block } of traces) {
    it(`${file}, trace ${i + 1}`, () => {
      const t = parseTrace(block);
      assert.ok(t.workload, `${file}: a trace in the docs names its workload, so that it can be checked`);
      const { op, params, dtype } = fromKey(t.workload);
      const w = workload(op, params, dtype);
      assert.equal(w.key, t.workload);
      assert.doesNotThrow(() => applyTrace(lowerWorkload(w), t, { workload: w.key }));
    });
  }
});
