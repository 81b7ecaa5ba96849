import assert from 'node:assert/strict';
import { PeerConfig, PeerOutcome, fastestVerified } from '../bench/peer-select.js';

type Fake = Record<string, PeerOutcome>;
const configs = (names: string[], extra: Partial<Record<string, Partial<PeerConfig<string>>>> = {}): PeerConfig<string>[] =>
  names.map((n) => ({ label: n, config: n, ...extra[n] }));

async function select(fake: Fake, cs: PeerConfig<string>[]) {
  const measured: string[] = [];
  const sel = await fastestVerified(cs, async (c) => { measured.push(c); return fake[c]!; });
  return { sel, measured };
}

describe('bench: a peer at its best', () => {
  it('keeps the fastest verified configuration and gives the ratio of the default to it', async () => {
    const { sel, measured } = await select(
      { default: { status: 'ok', gflops: 132 }, SkylakeX: { status: 'ok', gflops: 247 }, Haswell: { status: 'ok', gflops: 130 } },
      configs(['default', 'SkylakeX', 'Haswell'], { default: { isDefault: true } }),
    );
    assert.deepEqual(measured, ['default', 'SkylakeX', 'Haswell']);
    assert.equal(sel.best?.label, 'SkylakeX');
    assert.equal(sel.best?.result.gflops, 247);
    assert.equal(sel.choice.chosen, 'SkylakeX');
    assert.equal(sel.choice.summary, 'SkylakeX (fastest verified of 3 tried; default was 0.53x)');
  });

  it('refuses a faster configuration whose result is wrong, and says so', async () => {
    const { sel } = await select(
      { default: { status: 'ok', gflops: 100 }, Fast: { status: 'wrong_answer', gflops: 500, note: 'wrong answer: C[3]' }, Crashy: { status: 'crash', note: 'SIGILL' } },
      configs(['default', 'Fast', 'Crashy'], { default: { isDefault: true } }),
    );
    assert.equal(sel.best?.label, 'default');
    assert.match(sel.choice.summary, /^default \(fastest verified of 3 tried; Fast wrong answer, Crashy crash\)$/);
    assert.deepEqual(sel.choice.tried.map((t) => t.status), ['ok', 'wrong_answer', 'crash']);
  });

  it('never runs a configuration the machine cannot run, and reports no best when none verified', async () => {
    const { sel, measured } = await select(
      { A: { status: 'wrong_answer' } },
      configs(['A', 'Cooperlake'], { Cooperlake: { skip: 'the CPU lacks avx512_bf16' } }),
    );
    assert.deepEqual(measured, ['A']);
    assert.equal(sel.best, undefined);
    assert.equal(sel.choice.chosen, undefined);
    assert.deepEqual(sel.choice.tried[1], { label: 'Cooperlake', status: 'skipped', note: 'the CPU lacks avx512_bf16' });
    assert.match(sel.choice.summary, /^no configuration verified \(1 tried: A wrong answer\)$/);
  });
});
