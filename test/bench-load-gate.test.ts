import assert from 'node:assert/strict';
import { LoadGate, LoadGateOptions, LoadRefused, loadThresholdFor } from '../bench/load-gate.js';

function gate(loads: number[], o: Partial<LoadGateOptions> = {}) {
  const slept: number[] = [], lines: string[] = [];
  let i = 0;
  const g = new LoadGate({
    threshold: 0.5, maxWaitSeconds: 60, pollSeconds: 10, ignore: false, ...o,
    load: () => loads[Math.min(i++, loads.length - 1)]!,
    sleep: async (ms) => { slept.push(ms); },
    log: (s) => lines.push(s),
  });
  return { g, slept, lines };
}

describe('bench: load gate', () => {
  it('is a quarter of a core per core', () => {
    assert.equal(loadThresholdFor(2), 0.5);
    assert.equal(loadThresholdFor(8), 2);
  });

  it('starts at once on a quiet machine', async () => {
    const { g, slept, lines } = gate([0.1]);
    await g.check('gemm');
    assert.deepEqual(slept, []);
    assert.deepEqual(lines, []);
    assert.deepEqual(g.seen, [{ at: 'gemm', load: 0.1 }]);
    assert.equal(g.underLoad, false);
  });

  it('waits, polling, until the load falls below the threshold, and says so', async () => {
    const { g, slept, lines } = gate([2.5, 1.2, 0.4]);
    await g.check('conv');
    assert.deepEqual(slept, [10_000, 10_000]);
    assert.match(lines[0]!, /load average 2\.50 > 0\.5 before conv; waiting up to 60 s/);
    assert.match(lines.at(-1)!, /0\.40 after 20 s; starting conv/);
    assert.deepEqual(g.seen, [{ at: 'conv', load: 0.4 }]);
  });

  it('refuses with one line after the maximum wait', async () => {
    const { g, slept } = gate([3], { maxWaitSeconds: 30 });
    await assert.rejects(g.check('webgpu'), (e: Error) => e instanceof LoadRefused && !e.message.includes('\n') && /stayed above 0\.5 \(now 3\.00\) for 30 s before webgpu/.test(e.message));
    assert.equal(slept.length, 3);
  });

  it('with --ignore-load measures at once and marks the results', async () => {
    const { g, slept, lines } = gate([4], { ignore: true });
    await g.check('gemm');
    assert.deepEqual(slept, []);
    assert.match(lines[0]!, /measuring anyway \(--ignore-load\)/);
    assert.equal(g.underLoad, true);
  });
});
