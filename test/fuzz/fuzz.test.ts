import assert from 'node:assert/strict';
import { CBatchRunner } from './c-runner.js';
import { isPrepared, prepare } from './cases.js';
import { FuzzSummary, fuzz } from './fuzz.js';
import { PLANTED_C_DIALECT } from './planted.js';
import { describeSummary } from './report.js';

// 1000 C and 300 WebGPU kernels (2000 C before the farm tests, 1700 before the multi-device ones,
// 1400 before the whole-model tests): clean clones of this suite took 11 minutes with 1400 on the
// 2-core host, and the suite must stay under 12; every run draws a new seed, and `npm run fuzz` runs more.
const C_KERNELS = 1000;
const WEBGPU_KERNELS = 300;
/** The planted-bug search stops at its first find (kernel 31 in one run; its time is the shrinking), so its bound costs nothing. */
const PLANTED_KERNELS = 2000;
/** The planted bug must shrink to about the size of the hand-written issue-14 regression (4 steps). */
const PLANTED_MAX_STEPS = 4;

/** A new seed every run, so CI keeps exploring; the printed seed replays a run. */
const seed = process.env.LOOPSMITH_FUZZ_SEED ? Number(process.env.LOOPSMITH_FUZZ_SEED) : Date.now() % 1_000_000_007;

const headline = (s: FuzzSummary) => describeSummary(s).split('\n').slice(0, 2).map((l) => `      ${l.trim()}`).join('\n');

describe(`differential fuzzing, seed ${seed} (LOOPSMITH_FUZZ_SEED=${seed} replays it; npm run fuzz -- --count 20000 runs longer)`, function () {
  this.timeout(1_800_000);

  before(() => {
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`LOOPSMITH_FUZZ_SEED must be a non-negative integer, got '${process.env.LOOPSMITH_FUZZ_SEED}'`);
  });

  it(`C: ${C_KERNELS} random legal schedules agree with the reference executor`, async () => {
    const s = await fuzz({ count: C_KERNELS, target: 'c', seed });
    console.log(headline(s));
    assert.equal(s.checked, C_KERNELS);
    assert.equal(s.failed, 0, describeSummary(s));
  });

  it(`WebGPU: ${WEBGPU_KERNELS} random legal schedules agree with the reference executor`, async () => {
    const s = await fuzz({ count: WEBGPU_KERNELS, target: 'webgpu', seed });
    console.log(headline(s));
    assert.equal(s.checked, WEBGPU_KERNELS);
    assert.equal(s.failed, 0, describeSummary(s));
  });

  it(`finds a planted renderer bug (a sum that drops the parentheses of a select) within ${PLANTED_KERNELS} kernels and shrinks it to at most ${PLANTED_MAX_STEPS} steps`, async () => {
    const s = await fuzz({ count: PLANTED_KERNELS, target: 'c', seed, dialect: PLANTED_C_DIALECT, stopAfter: 1, shrinkLimit: 1 });
    const found = s.failures[0];
    assert.ok(found?.shrunk, `the planted bug was not found in ${s.checked} kernels (seed ${seed})`);
    const small = found.shrunk.fuzzCase;
    console.log(`      planted bug: first wrong kernel is number ${found.index + 1}; shrunk from ${found.original.steps.length} to ${small.steps.length} steps in ${found.shrunk.tried} variants`);
    assert.equal(found.status, 'wrong_answer', found.message);
    assert.ok(small.steps.length <= PLANTED_MAX_STEPS, describeSummary(s));
    assert.equal(found.shrunk.layer, 'codegen or target');
    assert.match(found.shrunk.regression, /it\('.*', async \(\) => \{[^]*await check\(p, base, w\.key\);\n {2}\}\);$/);
    // The shrunk case is right with the real renderer: the plant is what it caught.
    const p = prepare(small);
    assert.ok(p && isPrepared(p));
    const real = await new CBatchRunner({ inputSeed: 1 + (seed % 100_000) }).check([p]);
    assert.deepEqual(real, [{ status: 'ok' }]);
  });
});
