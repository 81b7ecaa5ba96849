import assert from 'node:assert/strict';
import { LoopRole, collectLoops } from '../ir/loop.js';
import { Program } from '../ir/program.js';
import { applyTrace } from '../scheduler/apply.js';
import { Step, trace } from '../scheduler/trace.js';
import { lowerForCodegen } from '../codegen/lower.js';
import { lowered } from './scheduler/helpers.js';

const roles = (p: Program) => new Map(collectLoops(p.body).map((l) => [l.var, l.role]));

describe('loop roles: what made a loop is data, not a naming convention', () => {
  const gemm = () => lowered('gemm', { m: 16, n: 32, k: 8 });
  const steps: Step[] = [
    { prim: 'split', loop: 'i', factors: [4], tail: 'requireDivisible' },
    { prim: 'split', loop: 'j', factors: [16], tail: 'requireDivisible' },
    { prim: 'reorder', loops: ['i.0', 'j.0', 'k', 'i.1', 'j.1'] },
    { prim: 'cacheWrite', buffer: 'C', scope: 'local', at: 'j.0' },
    { prim: 'cacheRead', buffer: 'B', scope: 'local', at: 'k' },
    { prim: 'unroll', loop: 'i.1' },
  ];

  it('lowering makes loops without roles, and the field is absent (hashes do not change)', () => {
    for (const l of collectLoops(gemm().body)) assert.ok(!('role' in l), l.var);
  });

  it('split parts, cache init, copy and write-back loops carry their roles through reorder, caches and annotations', () => {
    const r = roles(applyTrace(gemm(), trace(steps)));
    const expect: [string, LoopRole | undefined][] = [
      ['i.0', { kind: 'split', parent: 'i', level: 0, levels: 2 }],
      ['i.1', { kind: 'split', parent: 'i', level: 1, levels: 2 }],
      ['j.0', { kind: 'split', parent: 'j', level: 0, levels: 2 }],
      ['k', undefined],
      ['C.local.i.0', { kind: 'cacheBox', buffer: 'C.local', stage: 'init', dim: 0 }],
      ['C.local.w.1', { kind: 'cacheBox', buffer: 'C.local', stage: 'writeBack', dim: 1 }],
      ['B.local.1', { kind: 'cacheBox', buffer: 'B.local', stage: 'copy', dim: 1 }],
    ];
    for (const [v, role] of expect) assert.deepEqual(r.get(v), role, v);
  });

  it('a workgroup cache copies in one flat loop with its role', () => {
    const p = applyTrace(gemm(), trace([
      { prim: 'split', loop: 'k', factors: [4], tail: 'requireDivisible' },
      { prim: 'bind', loop: 'i', axis: 'workgroup.x' },
      { prim: 'cacheRead', buffer: 'A', scope: 'workgroup', at: 'k.0' },
    ]));
    assert.deepEqual(roles(p).get('A.shared.c'), { kind: 'cacheFlat', buffer: 'A.shared', stage: 'copy' });
  });

  it('codegen passes keep roles: unrolled copies are renamed with their role, register tiles are found by role', () => {
    const l = lowerForCodegen(applyTrace(gemm(), trace(steps)));
    assert.ok(l.registerTiles.has('C.local'));
    const copies = collectLoops(l.program.body).filter((x) => x.var.startsWith('j.1~'));
    assert.equal(copies.length, 4);
    for (const c of copies) assert.deepEqual(c.role, { kind: 'split', parent: 'j', level: 1, levels: 2 });
  });
});
