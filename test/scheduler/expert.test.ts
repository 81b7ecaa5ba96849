import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applyTrace } from '../../scheduler/apply.js';
import { expertCpuConv2d, expertCpuDepthwise, expertCpuGemm, expertGpuConv2d, expertGpuDepthwise } from '../../scheduler/expert.js';
import { AVX512_UNIT, VectorUnit, accumulatorBudget } from '../../scheduler/vector-unit.js';
import { expertCpuBlockedConv } from '../../scheduler/expert-blocked.js';
import { renderC } from '../../codegen/c/render.js';
import { cCandidate } from '../../targets/c/candidate.js';
import { lowerForCodegen } from '../../codegen/lower.js';
import { FIXTURE_DIR, expertFixtures } from '../../scheduler/fixtures/write.js';
import { parseTrace, traceToJSON } from '../../scheduler/trace.js';
import { collectLoops } from '../../ir/loop.js';
import { assertSameResults, lowered } from './helpers.js';

describe('expert GEMM schedules (fixtures)', () => {
  for (const [name, t] of expertFixtures()) {
    it(`${name} is up to date and applies legally`, () => {
      assert.equal(readFileSync(FIXTURE_DIR + name, 'utf8'), traceToJSON(t) + '\n', 'regenerate with node dist/scheduler/fixtures/write.js');
      const size = Number(/-(\d+)\.json$/.exec(name)![1]);
      const p = applyTrace(lowered('gemm', { m: size, n: size, k: size }), parseTrace(readFileSync(FIXTURE_DIR + name, 'utf8')));
      const kinds = new Set(collectLoops(p.body).map((l) => l.loopKind));
      if (name.includes('cpu')) for (const k of ['parallel', 'vectorized', 'unrolled']) assert.ok(kinds.has(k as never), `${name} has a ${k} loop`);
      else if (name.includes('registers')) for (const k of ['workgroup.x', 'thread.x']) assert.ok(kinds.has(k as never), `${name} has a ${k} loop`);
      else for (const k of ['workgroup.x', 'thread.x', 'cooperative']) assert.ok(kinds.has(k as never), `${name} has a ${k} loop`);
    });
  }

  for (const kind of ['cpu', 'gpu', 'gpu-registers']) {
    it(`gemm-${kind}-64 computes what the unscheduled GEMM computes`, () => {
      const p = lowered('gemm', { m: 64, n: 64, k: 64 });
      assertSameResults(p, applyTrace(p, parseTrace(readFileSync(`${FIXTURE_DIR}gemm-${kind}-64.json`, 'utf8'))));
    });
  }

  it('the GPU conv2d schedule binds column runs and channels, tiles 8 columns x 8 channels in registers, and computes what the unscheduled conv2d computes', () => {
    const params = { n: 1, c: 4, h: 8, w: 16, k: 32, kh: 3, kw: 3, pad: 1 };
    const p = lowered('conv2d', params);
    const t = expertGpuConv2d(params);
    assert.deepEqual(t.steps.slice(0, 4), [
      { prim: 'split', loop: 'ow', factors: [8], tail: 'requireDivisible' },
      { prim: 'fuse', outer: 'oh', inner: 'ow.0' },
      { prim: 'split', loop: 'oh.ow.0.fused', factors: [16], tail: 'requireDivisible' },
      { prim: 'split', loop: 'k', factors: [8], tail: 'requireDivisible' },
    ]);
    assert.deepEqual(expertGpuConv2d({ ...params, w: 14 }).steps[0], { prim: 'split', loop: 'ow', factors: [7], tail: 'requireDivisible' }, 'runs of 7 where 7 divides the row');
    const scheduled = applyTrace(p, t);
    const kinds = new Set(collectLoops(scheduled.body).map((l) => l.loopKind));
    for (const k of ['workgroup.x', 'workgroup.y', 'thread.x', 'unrolled']) assert.ok(kinds.has(k as never), `has a ${k} loop`);
    assertSameResults(p, scheduled);
  });

  it('the CPU conv2d schedule vectorizes output channels over packed weights and a padded input, and computes what the unscheduled conv2d computes', () => {
    const params = { n: 1, c: 4, h: 7, w: 14, k: 64, kh: 3, kw: 3, pad: 1 };
    const p = lowered('conv2d', params);
    const t = expertCpuConv2d(params);
    assert.ok(t.steps.some((s) => s.prim === 'layout' && s.buffer === 'W' && s.dims?.[0] === 0 && s.factors?.[0] === 32), 'weights packed in blocks of 32 output channels');
    const scheduled = applyTrace(p, t);
    assertSameResults(p, scheduled);
    const c = renderC(lowerForCodegen(scheduled)).source;
    // Two 16-lane accumulators per output column, 7 columns; contiguous weight loads, broadcast inputs, no padding test inside.
    assert.match(c, /ls_v16 Y_local_r0_c0, Y_local_r0_c1, .*Y_local_r6_c1; \/\* register tile Y\.local: 1x1x7x32 \*\//);
    assert.match(c, /Y_local_r6_c1 = Y_local_r6_c1 \+ ls_splat16\(X_packed\[[^\]]+\]\) \* ls_load16\(&W_packed\[/);
    const compute = c.slice(c.indexOf('register tile'), c.search(/\n\s+Y\[/));
    assert.match(compute, /for \(int rw = 0;/);
    assert.doesNotMatch(compute, /\? /, 'no select left in the compute');
    // Output channels that are not a multiple of the lanes: the row-vectorized schedule, still right.
    const odd = { ...params, k: 12 };
    assertSameResults(lowered('conv2d', odd), applyTrace(lowered('conv2d', odd), expertCpuConv2d(odd)));
  });

  it('the CPU experts size their register tiles to the vector unit: AVX2\'s 16 registers get smaller tiles than AVX-512\'s 32, still right', () => {
    const avx2: VectorUnit = { lanes: 8, registers: 16 };
    const splits = (steps: readonly { prim: string; loop?: string; factors?: readonly number[] }[], loop: string) => steps.find((s) => s.prim === 'split' && s.loop === loop)?.factors;
    // GEMM: 8 rows x 2 vectors (16 of 32 registers) on AVX-512; 4 x 2 on AVX2 (8 rows x 2 vectors would need 16 accumulators alone).
    assert.deepEqual(splits(expertCpuGemm(64, 64, 64, undefined, AVX512_UNIT).steps, 'i'), [8, 8]);
    assert.deepEqual(splits(expertCpuGemm(64, 64, 64, undefined, avx2).steps, 'i'), [16, 4]);
    assert.deepEqual(splits(expertCpuGemm(64, 64, 64, undefined, avx2).steps, 'j'), [4, 16]);
    // conv2d: 7 columns x 2 vectors on AVX-512; on AVX2 one vector by 8 or 7 columns (the largest run that divides the row).
    const conv = { n: 1, c: 8, h: 7, w: 28, k: 32, kh: 3, kw: 3, pad: 1 };
    const tile = (params: typeof conv, unit: VectorUnit) => { const t = expertCpuConv2d(params, undefined, unit).steps; return [splits(t, 'k')![0]!, splits(t, 'ow')![0]!]; };
    assert.deepEqual(tile(conv, AVX512_UNIT), [32, 7]);
    assert.deepEqual(tile(conv, avx2), [8, 7]);
    assert.deepEqual(tile({ ...conv, w: 56 }, avx2), [8, 8]);
    assert.deepEqual(tile({ ...conv, w: 7 }, avx2), [8, 7]);
    for (const [kb, owr] of [tile(conv, avx2), tile({ ...conv, w: 56 }, avx2), tile({ ...conv, w: 7 }, avx2)]) assert.ok((kb! / 8) * owr! <= accumulatorBudget(avx2, kb! / 8), 'the accumulators fit beside the operands');
    const p = lowered('conv2d', conv);
    assertSameResults(p, applyTrace(p, expertCpuConv2d(conv, undefined, avx2)));
    const g = lowered('gemm', { m: 64, n: 64, k: 64 });
    assertSameResults(g, applyTrace(g, expertCpuGemm(64, 64, 64, undefined, avx2)));
  });

  it('a row that no run of 5 to 8 columns divides gets padded runs: the last run computes past the edge in its register tile, no update branches, only the write-back tests the edge, and the result is right', () => {
    const avx2: VectorUnit = { lanes: 8, registers: 16 };
    for (const params of [{ n: 1, c: 8, h: 5, w: 13, k: 16, kh: 3, kw: 3, pad: 1 }, { n: 1, c: 8, h: 3, w: 13, k: 16, kh: 1, kw: 1, pad: 0 }]) {
      const p = lowered('conv2d', params);
      const t = expertCpuConv2d(params, undefined, avx2);
      assert.deepEqual(t.steps.find((s) => s.prim === 'split' && s.loop === 'ow'), { prim: 'split', loop: 'ow', factors: [7], tail: 'pad' }, '13 columns as two runs of 7');
      const scheduled = applyTrace(p, t);
      assertSameResults(p, scheduled);
      const c = renderC(lowerForCodegen(scheduled)).source;
      const updates = c.slice(c.indexOf('register tile'), c.search(/\n\s+(#pragma[^\n]*\n\s+)?for \(int Y_local_w/));
      assert.match(updates, /Y_local_r6_c0 = Y_local_r6_c0 \+ /, `${JSON.stringify(params)}: the seventh column is in the tile`);
      assert.doesNotMatch(updates, /\? |if \(/, `${JSON.stringify(params)}: no select or branch in the updates`);
      assert.match(c.slice(c.indexOf('register tile')), /if \(ow_0 \* 7 \+ 6 < 13\)/, 'the write-back stores only the real columns');
    }
  });

  it('the CPU 1x1 conv2d schedules stage an input panel per run of columns (GEMM-like where a vector of columns divides the row, channel-vectorized otherwise), and compute what the unscheduled conv2d computes', () => {
    const avx2: VectorUnit = { lanes: 8, registers: 16 };
    const panel = (c: string) => c.match(/X\.local: (\S+) \*\//)?.[1];
    const tile = (c: string) => c.match(/register tile Y\.local: (\S+) \*\//)?.[1];
    // A row of 16: one vector of 8 columns by 12 output channels (13 accumulators fit beside the vector and a broadcast).
    const rowvec = { n: 1, c: 5, h: 3, w: 16, k: 24, kh: 1, kw: 1, pad: 0 };
    // A row of 7 (no vector of columns): one vector of channels by the 7 columns.
    const chanvec = { ...rowvec, w: 7, k: 16 };
    for (const [params, want] of [[rowvec, { tile: '1x12x1x8', panel: '1x5x1x8' }], [chanvec, { tile: '1x1x7x8', panel: '1x5x1x7' }]] as const) {
      const p = lowered('conv2d', params);
      const scheduled = applyTrace(p, expertCpuConv2d(params, undefined, avx2));
      assertSameResults(p, scheduled);
      const c = renderC(lowerForCodegen(scheduled)).source;
      assert.deepEqual({ tile: tile(c), panel: panel(c) }, want, JSON.stringify(params));
    }
    // Grouped 1x1 layers keep the general channel-vectorized schedule (no panel).
    const grouped = { ...rowvec, c: 8, k: 16, groups: 2 };
    const g = lowered('grouped_conv2d', grouped);
    const gs = applyTrace(g, expertCpuConv2d(grouped, undefined, avx2, 'grouped_conv2d'));
    assertSameResults(g, gs);
    assert.equal(panel(renderC(lowerForCodegen(gs)).source), undefined);
  });

  it('the CPU transposed conv2d schedule splits the stride\'s phases so that the dead taps fold away, and computes what the unscheduled one computes', () => {
    const params = { n: 1, c: 3, h: 4, w: 4, k: 16, kh: 4, kw: 4, stride: 2, pad: 1 };
    const p = lowered('conv2d_transpose', params);
    const scheduled = applyTrace(p, expertCpuConv2d(params, undefined, AVX512_UNIT, 'conv2d_transpose'));
    assertSameResults(p, scheduled);
    const c = renderC(lowerForCodegen(scheduled)).source;
    const body = c.slice(c.indexOf('void kernel'));
    // A tile of 2 rows x 4 column pairs = 16 outputs; per step of (rh.0, rw.0) one of the 2 x 2 taps matches each output's phase: 16 updates, not 64.
    // Each update is one vector statement: the padding guard is the same in every lane, so it selects whole vectors.
    assert.equal(body.match(/\* ls_load16\(&W_packed\[/g)?.length, 16);
    assert.doesNotMatch(body, /ls_fmod\(|ls_fdiv\(/, 'no stride test or division left');
    // The input is a zero-padded copy: no bounds test (a select) left in the updates either.
    const updates = body.slice(body.indexOf('register tile'), body.search(/\n\s+Y\[/));
    assert.match(updates, /X_packed\[/);
    assert.doesNotMatch(updates, /\? /);
    // A stride that does not divide the kernel: the general schedule, still right.
    const odd = { ...params, kh: 3, kw: 3 };
    assertSameResults(lowered('conv2d_transpose', odd), applyTrace(lowered('conv2d_transpose', odd), expertCpuConv2d(odd, undefined, AVX512_UNIT, 'conv2d_transpose')));
  });

  it('the depthwise schedules (CPU rows of vectors, GPU runs of columns) compute what the unscheduled depthwise conv2d computes', () => {
    for (const params of [{ n: 1, c: 5, h: 9, w: 12, multiplier: 2, kh: 3, kw: 3, stride: 1, pad: 1 }, { n: 1, c: 4, h: 11, w: 11, multiplier: 1, kh: 3, kw: 3, stride: 2, pad: 1 }]) {
      const p = lowered('depthwise_conv2d', params);
      assertSameResults(p, applyTrace(p, expertCpuDepthwise(params)));
      assertSameResults(p, applyTrace(p, expertGpuDepthwise(params)));
    }
    // On AVX2 a row of 56 is runs of whole vectors (8 columns), and the tile takes 8 rows instead of 2 x 28 (a partial vector the C vectorizer leaves as a scalar loop).
    const avx2: VectorUnit = { lanes: 8, registers: 16 };
    const mobile = { n: 1, c: 3, h: 16, w: 56, multiplier: 1, kh: 3, kw: 3, stride: 1, pad: 1 };
    const t = expertCpuDepthwise(mobile, undefined, avx2);
    const splitOf = (loop: string) => t.steps.find((s): s is Extract<typeof s, { prim: 'split' }> => s.prim === 'split' && s.loop === loop)?.factors;
    assert.deepEqual([splitOf('oh'), splitOf('ow')], [[8], [8]]);
    const p = lowered('depthwise_conv2d', mobile);
    const scheduled = applyTrace(p, t);
    assertSameResults(p, scheduled);
    assert.match(cCandidate(scheduled, 8).source, /register tile Y\.local: 1x1x8x8/, 'the tile is held in vector registers');
  });

  it('the blocked-layout experts (dense nchw16c, depthwise nchw8c) tile columns by one vector of channels over weights packed channel-innermost, and compute what the unscheduled conv computes', () => {
    for (const params of <Record<string, number>[]>[
      { n: 1, c: 32, h: 7, w: 10, k: 32, kh: 3, kw: 3, pad: 1, residual: 1, act: 1, prepack: 1, layout: 3 },
      { n: 1, c: 16, h: 9, w: 9, k: 48, kh: 3, kw: 3, pad: 1, stride: 2, act: 2, prepack: 1, layout: 3 },
      { n: 1, c: 16, h: 8, w: 12, k: 16, groups: 16, kh: 3, kw: 3, pad: 1, act: 2, prepack: 1, layout: 2 },
      { n: 1, c: 24, h: 9, w: 9, k: 24, groups: 24, kh: 3, kw: 3, pad: 1, stride: 2, prepack: 1, layout: 2 },
    ]) {
      const t = expertCpuBlockedConv(params, undefined, AVX512_UNIT)!;
      assert.ok(t, JSON.stringify(params));
      const p = lowered('conv2d_fused', params);
      const scheduled = applyTrace(p, t);
      assertSameResults(p, scheduled);
      const lanes = params.layout === 3 ? 16 : 8;
      assert.match(cCandidate(scheduled, 16).source, new RegExp(`register tile Y\\.local: 1x1x1x\\d+x${lanes}`), 'columns x one block of channels in registers');
    }
    assert.equal(expertCpuBlockedConv({ n: 1, c: 16, h: 8, w: 8, k: 16, kh: 3, kw: 3, pad: 1, layout: 0 }, undefined, AVX512_UNIT), undefined, 'NCHW has its own experts');
    assert.equal(expertCpuBlockedConv({ n: 1, c: 32, h: 8, w: 8, k: 32, groups: 2, kh: 3, kw: 3, pad: 1, layout: 2 }, undefined, AVX512_UNIT), undefined, 'grouped: the search');
    // The variant with several output-channel blocks per tile: 7 columns x 2 blocks of 16 on a 7x7
    // plane of 64 channels (two tiles of blocks left for the threads), none where one block is all.
    const wide = { n: 1, c: 32, h: 7, w: 7, k: 64, kh: 1, kw: 1, act: 2, residual: 1, prepack: 1, layout: 3 };
    const t = expertCpuBlockedConv(wide, undefined, AVX512_UNIT, 'conv2d_fused', { channelBlocks: 'several' })!;
    const p = lowered('conv2d_fused', wide);
    const scheduled = applyTrace(p, t);
    assertSameResults(p, scheduled);
    assert.match(cCandidate(scheduled, 16).source, /register tile Y\.local: 1x2x1x7x16/);
    assert.equal(expertCpuBlockedConv({ ...wide, k: 16 }, undefined, AVX512_UNIT, 'conv2d_fused', { channelBlocks: 'several' }), undefined);
    assert.equal(expertCpuBlockedConv({ ...wide, k: 32, c: 32, groups: 32 }, undefined, AVX512_UNIT, 'conv2d_fused', { channelBlocks: 'several' }), undefined, 'depthwise: one block');
  });
});
