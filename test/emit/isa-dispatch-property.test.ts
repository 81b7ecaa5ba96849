import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPS, lowerWorkload, workload } from '../../ir/ops/index.js';
import { execute, outputsOf, randomInputs } from '../../ir/execute.js';
import { Program } from '../../ir/program.js';
import { isaDispatchArtifacts } from '../../codegen/isa-dispatch.js';
import { HARNESS_HELPERS } from '../../targets/c/harness.js';
import { compareOutputs, reductionLength } from '../../targets/verify.js';
import { detectCpu } from '../../targets/cpu-info.js';
import { randomLegalTrace } from '../random-trace.js';
import { applyTrace } from '../../scheduler/apply.js';
import { trace } from '../../scheduler/trace.js';

/**
 * Property: a multi-ISA C file made from random legal schedules (the same program as its AVX2 and
 * AVX-512 variants, rendered at 8 and 16 lanes under their target pragmas, with renamed helpers)
 * compiles without -march and computes the reference's outputs in the variant this CPU picks and
 * in the scalar fallback. All kernels go into one program: one compile for the lot.
 */
const OPS_CHECKED = ['gemm', 'gemm_bias_relu', 'batch_matmul', 'gemv', 'conv2d', 'grouped_conv2d', 'conv2d_transpose', 'depthwise_conv2d', 'max_pool2d', 'avg_pool2d'];
const TRACES_PER_OP = 4;
const SEED = 7;

interface Case { name: string; base: Program; program: Program; seed: number; label: string }

function cases(): Case[] {
  const out: Case[] = [];
  OPS.filter((o) => OPS_CHECKED.includes(o.name)).forEach((op, i) => {
    const w = workload(op.name, op.example);
    const base = lowerWorkload(w);
    for (let t = 0; t < TRACES_PER_OP; t++) {
      const seed = 100 * (i + 1) + t;
      out.push({ name: `k${out.length}`, base, program: randomLegalTrace(base, seed, 8).program, seed, label: `${op.name} seed ${seed}` });
    }
    // Constant weights: each variant's own prepare function and block, chosen with it.
    if (op.params.some((p) => p.name === 'prepack')) {
      const cbase = lowerWorkload(workload(op.name, { ...op.example, prepack: 1 }));
      const seed = 100 * (i + 1) + TRACES_PER_OP;
      const r = randomLegalTrace(cbase, seed, 6).program;
      const weight = cbase.buffers.find((b) => b.constant)!.name;
      let program = r;
      try {
        program = applyTrace(r, trace([{ prim: 'layout', buffer: weight }]));
      } catch {
        // a nest the pack cannot go before: the random schedule as it is
      }
      out.push({ name: `k${out.length}`, base: cbase, program, seed, label: `${op.name} prepack seed ${seed}` });
    }
  });
  return out;
}

function mainSource(cs: readonly Case[]): string {
  const calls = cs.map((c, i) => {
    const bufs = c.base.buffers.map((b, pos) => ({ b, pos, n: b.shape.reduce((x, y) => x * y, 1) }));
    const constant = bufs.filter(({ b }) => b.constant);
    const args = constant.length
      ? [...bufs.filter(({ b }) => b.role === 'input').map(({ pos }) => `b${pos}`), 'prepared', ...bufs.filter(({ b }) => b.role === 'output').map(({ pos }) => `b${pos}`)]
      : bufs.map(({ pos }) => `b${pos}`);
    return [
      `  if (which == ${i}) {`,
      ...bufs.map(({ b, pos, n }) => `    float *b${pos} = ls_buffer(${n}); ${b.role === 'input' ? `ls_fill(b${pos}, ${n}, (uint32_t)(${SEED}ull * 7919ull + ${pos}ull));` : `ls_nan(b${pos}, ${n});`}`),
      ...(constant.length ? [
        `    size_t floats = ${c.name}_prepared_floats();`,
        '    float *prepared = ls_buffer(floats ? floats : 1); ls_nan(prepared, floats ? floats : 1);',
        `    ${c.name}_prepare(${constant.map(({ pos }) => `b${pos}`).join(', ')}, prepared);`,
      ] : []),
      `    ${c.name}(${args.join(', ')});`,
      ...bufs.filter(({ b }) => b.role === 'output').map(({ pos, n }) => `    if (fwrite(b${pos}, sizeof(float), ${n}, out) != ${n}) return 3;`),
      `    printf("%s\\n", ${c.name}_variant());`,
      '  }',
    ].join('\n');
  });
  return [
    '#define _POSIX_C_SOURCE 200809L',
    '#include <stdint.h>', '#include <stdlib.h>', '#include <string.h>', '#include <math.h>',
    HARNESS_HELPERS,
    ...cs.map((c) => `#include "${c.name}.h"`),
    'int main(int argc, char **argv) {',
    '  if (argc != 3) return 2;',
    '  int which = atoi(argv[1]);',
    '  FILE *out = fopen(argv[2], "wb");',
    '  if (!out) return 3;',
    ...calls,
    '  fclose(out);',
    '  return 0;',
    '}',
    '',
  ].join('\n');
}

describe('property: multi-ISA C files from random legal schedules', function () {
  this.timeout(300_000);

  it(`${cases().length} random schedules (constant weights among them) agree with the reference in the dispatched variant and the scalar fallback`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopsmith-isa-property-'));
    const cs = cases();
    for (const c of cs) {
      const files = isaDispatchArtifacts(
        [{ isa: 'avx2', program: c.program, traceHash: 'random', origin: c.label }, { isa: 'avx512', program: c.program, traceHash: 'random', origin: c.label }],
        { program: c.base, traceHash: 'lowered' }, { name: c.name, workload: c.label },
      );
      for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    }
    writeFileSync(join(dir, 'main.c'), mainSource(cs));
    const cc = spawnSync('cc', ['-O1', '-fopenmp', '-o', join(dir, 'main'), join(dir, 'main.c'), ...cs.map((c) => join(dir, `${c.name}.c`)), '-lm'], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const isa = detectCpu().isa;
    const expected = isa === 'avx512' ? 'avx512' : isa === 'avx2' ? 'avx2' : 'scalar';
    const failures: string[] = [];
    cs.forEach((c, i) => {
      const want = outputsOf(c.base, execute(c.base, randomInputs(c.base, SEED)));
      for (const env of [{}, { LOOPSMITH_ISA: 'scalar' }]) {
        const file = join(dir, `out${i}.bin`);
        const r = spawnSync(join(dir, 'main'), [String(i), file], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2', ...env } });
        if (r.status !== 0) {
          failures.push(`${c.label} ${JSON.stringify(env)}: exit ${r.status} ${r.stderr}`);
          continue;
        }
        const variant = r.stdout.trim();
        if (variant !== ('LOOPSMITH_ISA' in env ? 'scalar' : expected)) failures.push(`${c.label}: ran ${variant}`);
        const bytes = readFileSync(file);
        const flat = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
        const got: Record<string, Float32Array> = {};
        let at = 0;
        for (const b of c.base.buffers.filter((x) => x.role === 'output')) {
          const n = b.shape.reduce((x, y) => x * y, 1);
          got[b.name] = flat.slice(at, at + n);
          at += n;
        }
        const cmp = compareOutputs(got, want, reductionLength(c.base));
        if (!cmp.ok) failures.push(`${c.label} (${variant}): ${cmp.message}`);
      }
    });
    assert.deepEqual(failures, []);
  });
});
