import assert from 'node:assert/strict';
import { InputError } from '../ir/errors.js';
import { execute, randomInputs } from '../ir/execute.js';
import { OPS, OpSpec, Params, lowerWorkload, workload } from '../ir/ops/index.js';
import { NAIVE_OPS } from './naive-ops.js';

/**
 * Every operator, lowered to loop IR and run by the reference executor, must agree with an
 * independent hand-written naive implementation (test/naive-ops.ts) on the op's example and on
 * several small random parameter sets.
 */

/** mulberry32, written out here so the parameter draws do not depend on loopsmith's own PRNG. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const randInt = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** The non-trivial settings random draws must cover, for the ops that have these parameters. */
const FEATURES = ['stride', 'pad', 'dilation', 'groups', 'layout'] as const;
type Feature = (typeof FEATURES)[number];
// A layout counts as covered once a blocked one (nchw8c, nchw16c) is drawn: the widest change.
const nonTrivial = (f: Feature, v: number) => (f === 'layout' ? v >= 2 : f === 'pad' ? v > 0 : v > 1);
const BLOCKS: Record<number, number> = { 2: 8, 3: 16 };

/** Random valid-looking small values; `force` makes one feature non-trivial. */
function randomParams(op: OpSpec, r: () => number, force: Feature | undefined): Record<string, number> {
  const names = new Set(op.params.map((p) => p.name));
  const out: Record<string, number> = {};
  const three = op.name.startsWith('conv3d');
  const groups = names.has('groups') ? (force === 'groups' ? randInt(r, 2, 3) : randInt(r, 1, 3)) : 1;
  for (const spec of op.params) {
    const nm = spec.name;
    let v: number;
    if (nm === 'layout' && force === 'layout') v = randInt(r, 2, 3);
    else if (spec.choices) v = spec.choices[randInt(r, 0, spec.choices.length - 1)]!;
    else if (op.family === 'linear') v = randInt(r, 1, 6);
    else {
      switch (nm) {
        case 'n': v = randInt(r, 1, 2); break;
        case 'groups': v = groups; break;
        case 'c': v = op.name === 'depthwise_conv2d' || op.family === 'pool' ? randInt(r, 1, 3) : groups * randInt(r, 1, 2); break;
        case 'k': v = groups * randInt(r, 1, 3); break;
        case 'multiplier': v = randInt(r, 1, 3); break;
        case 'd': case 'h': case 'w': v = three ? randInt(r, 1, 5) : randInt(r, 1, 9); break;
        case 'kd': case 'kh': case 'kw': v = three ? randInt(r, 1, 2) : randInt(r, 1, 3); break;
        case 'stride': v = force === 'stride' ? randInt(r, 2, 3) : randInt(r, 1, 3); break;
        case 'pad': v = force === 'pad' ? randInt(r, 1, 2) : randInt(r, 0, 2); break;
        case 'dilation': v = force === 'dilation' ? randInt(r, 2, 3) : randInt(r, 1, 3); break;
        default: throw new Error(`test: no random range for ${op.name} parameter '${nm}'; add one to randomParams`);
      }
    }
    out[nm] = v;
  }
  // Blocked layouts need whole blocks of channels: scale the drawn counts by the block.
  const block = Math.max(BLOCKS[out.layout ?? 0] ?? 1, BLOCKS[out.from ?? 0] ?? 1, BLOCKS[(out.xlayout ?? 0) - 1] ?? 1);
  for (const nm of ['c', 'k'] as const) if (out[nm] !== undefined) out[nm] *= block;
  return out;
}


interface Case { label: string; params: Params; seed: number }

const MIN_RANDOM = 6;

/** The example plus at least MIN_RANDOM distinct valid random sets, covering every feature the op has. */
function casesFor(op: OpSpec, opIndex: number): { cases: Case[]; covered: Feature[]; features: Feature[] } {
  const names = new Set(op.params.map((p) => p.name));
  const features = FEATURES.filter((f) => names.has(f));
  const r = mulberry32(0x5eed + 101 * opIndex);
  const cases: Case[] = [{ label: 'example', params: op.example, seed: 1 }];
  const seen = new Set<string>([workload(op.name, op.example).key]);
  const covered = new Set<Feature>();
  let random = 0;
  for (let attempt = 0; attempt < 5000 && (random < MIN_RANDOM || covered.size < features.length); attempt++) {
    const missing = features.filter((f) => !covered.has(f));
    const force = missing.length ? missing[attempt % missing.length] : features.length && r() < 0.5 ? features[randInt(r, 0, features.length - 1)] : undefined;
    const raw = randomParams(op, r, force);
    let key: string;
    try {
      key = workload(op.name, raw).key;
    } catch (e) {
      if (e instanceof InputError) continue;
      throw e;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    for (const f of features) if (nonTrivial(f, raw[f]!)) covered.add(f);
    random++;
    cases.push({ label: `random #${random}`, params: raw, seed: 1000 + 17 * opIndex + random });
  }
  return { cases, covered: [...covered], features };
}

const tol = (want: number) => 1e-4 * (1 + Math.abs(want));

function unflatten(shape: readonly number[], flat: number): number[] {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]!);
    flat = Math.floor(flat / shape[d]!);
  }
  return idx;
}

function checkAgainstNaive(op: OpSpec, params: Params, seed: number): void {
  const naive = NAIVE_OPS[op.name];
  assert.ok(naive, `no naive implementation for ${op.name}`);
  const w = workload(op.name, params);
  const program = lowerWorkload(w);
  const inputs = randomInputs(program, seed);
  const bufs = execute(program, inputs);
  const outs = program.buffers.filter((b) => b.role === 'output');
  assert.equal(outs.length, 1, `${op.name}: expected exactly one output buffer, got ${outs.map((b) => b.name).join(', ')}`);
  const out = outs[0]!;
  const got = bufs[out.name]!;
  const want = naive(w.params, inputs);
  const where = `${op.name} ${JSON.stringify(w.params)}`;
  assert.deepEqual([...out.shape], want.shape, `${where}: output shape`);
  assert.equal(got.length, want.data.length, `${where}: output length`);
  for (let i = 0; i < got.length; i++) {
    const a = got[i]!, b = want.data[i]!;
    // Equal (including equal infinities), or both finite and within tolerance; NaN never passes.
    const ok = a === b || (Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= tol(b));
    if (!ok) {
      assert.fail(`${where}: first mismatch at flat index ${i} (${out.name}[${unflatten(out.shape, i).join(', ')}]): ` +
        `loopsmith ${a}, naive ${b} (|diff| ${Math.abs(a - b)} > ${tol(b)})`);
    }
  }
}

describe('ops reference: loopsmith vs naive implementations', () => {
  it('has a naive implementation for every op in OPS, and none for ops that do not exist', () => {
    const opNames = OPS.map((o) => o.name);
    const missing = opNames.filter((n) => !(n in NAIVE_OPS));
    assert.deepEqual(missing, [], `ops without a naive implementation in test/naive-ops.ts: ${missing.join(', ')}`);
    const stale = Object.keys(NAIVE_OPS).filter((n) => !opNames.includes(n));
    assert.deepEqual(stale, [], `naive implementations for unknown ops: ${stale.join(', ')}`);
  });

  OPS.forEach((op, opIndex) => {
    describe(op.name, () => {
      const { cases, covered, features } = casesFor(op, opIndex);

      it(`draws the example plus >= ${MIN_RANDOM} valid random parameter sets covering ${features.join(', ') || 'its shapes'}`, () => {
        assert.ok(cases.length >= 1 + MIN_RANDOM, `${op.name}: only ${cases.length - 1} valid random parameter sets`);
        assert.deepEqual([...covered].sort(), [...features].sort(), `${op.name}: random sets did not cover every feature`);
      });

      for (const c of cases) {
        it(`${c.label} ${JSON.stringify(c.params)}`, () => checkAgainstNaive(op, c.params, c.seed));
      }
    });
  });
});
