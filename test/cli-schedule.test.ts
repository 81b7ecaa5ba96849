import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBadInput, cli } from './cli.test.js';

const FIXTURES = fileURLToPath(new URL('../../scheduler/fixtures/', import.meta.url));
const GEMM64 = ['show', 'gemm', '--m', '64', '--n', '64', '--k', '64'];

describe('cli: show --schedule', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-test-'));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('prints the schedule and the scheduled loop nest', () => {
    const r = cli(...GEMM64, '--schedule', `${FIXTURES}gemm-cpu-64.json`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /schedule \(9 steps\):/);
    assert.match(r.stdout, /alloc local C\.local: f32\[8, 32\]/);
    assert.match(r.stdout, /for j\.2 in 0\.\.32: {2}\/\/ vectorized/);
  });

  const bad: [string, string, RegExp][] = [
    ['malformed.json', '{"version": 1, "steps": [{"prim": "split"}]}', /malformed\.json: schedule steps\[0\] \(split\)\.loop: is required \(a string\)/],
    ['notjson.json', 'split i 4', /notjson\.json: schedule is not valid JSON/],
    ['illegal.json', '{"version": 1, "steps": [{"prim": "vectorize", "loop": "k"}]}', /vectorize\(k\): k is a reduction loop/],
    ['noloop.json', '{"version": 1, "steps": [{"prim": "split", "loop": "z", "factors": [2], "tail": "guard"}]}', /there is no loop 'z'; loops are: i\.init, j\.init, i, j, k/],
  ];
  for (const [name, text, pattern] of bad) {
    it(`a ${name.replace('.json', '')} trace gets one line and exit 2`, () => assertBadInput(cli(...GEMM64, '--schedule', file(name, text)), pattern));
  }

  // Each unroll is legal alone; together they would be 262,144 statements (issue 25: a stack overflow in codegen).
  it('full unrolls past the code-size cap get one line naming the loops and the cap, and exit 2, from show and run', () => {
    const unrolls = file('unrolls.json', JSON.stringify({ version: 1, steps: ['i', 'j', 'k'].map((loop) => ({ prim: 'unroll', loop })) }));
    const refused = /^loopsmith: unroll\(j\): unrolled loops i, j would expand into 4097 statements, more than the 4096 that code generation takes; unroll j by a factor of at most 63, or unroll fewer loops$/;
    assertBadInput(cli(...GEMM64, '--schedule', unrolls), refused);
    assertBadInput(cli('run', ...GEMM64.slice(1), '--schedule', unrolls), refused);
  });

  it('a missing trace file gets one line and exit 2', () => {
    assertBadInput(cli(...GEMM64, '--schedule', join(dir, 'absent.json')), /cannot read schedule .*absent\.json: no such file or directory \(ENOENT\)/);
  });
});
