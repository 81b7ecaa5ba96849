import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from '../../ir/random.js';
import { QLearner, QNetwork, QNetworkJSON } from '../../tuner/qmodel.js';

describe('tuner: Q-learning value model', () => {
  it('is deterministic for a seed', () => {
    const a = new QNetwork(4, 3, 16, 7), b = new QNetwork(4, 3, 16, 7);
    assert.deepEqual([...a.predict([0.1, 0.2, 0.3, 0.4])], [...b.predict([0.1, 0.2, 0.3, 0.4])]);
  });

  it('fits a simple function', () => {
    const net = new QNetwork(2, 2, 16, 1);
    const r = rng(2);
    const batch = () => Array.from({ length: 32 }, () => {
      const x = [r() * 2 - 1, r() * 2 - 1];
      const action = r() < 0.5 ? 0 : 1;
      return { features: x, action, target: action === 0 ? x[0]! : -x[0]! };
    });
    const first = net.train(batch(), 1e-2);
    let last = first;
    for (let i = 0; i < 400; i++) last = net.train(batch(), 1e-2);
    assert.ok(last < first / 5, `loss ${first} -> ${last}`);
  });

  it('learns which move pays on a chain', () => {
    // States 0..4 on a line; action 1 moves right, 0 moves left; reaching 4 pays 1.
    const q = new QLearner({ inputs: 5, actions: 2, seed: 3, epsilonDecaySteps: 300, learningRate: 1e-2, targetEvery: 20 });
    const onehot = (s: number) => Array.from({ length: 5 }, (_, i) => (i === s ? 1 : -1));
    let s = 0;
    for (let t = 0; t < 1500; t++) {
      const a = q.act(onehot(s), [0, 1]);
      const next = Math.max(0, Math.min(4, s + (a === 1 ? 1 : -1)));
      const done = next === 4;
      q.observe({ features: onehot(s), action: a, reward: done ? 1 : 0, next: onehot(next), valid: !done });
      s = done ? 0 : next;
    }
    const greedyRight = [0, 1, 2, 3].filter((st) => q.rank(onehot(st), [0, 1])[0] === 1).length;
    assert.ok(greedyRight >= 3, `greedy moves right in ${greedyRight} of 4 states`);
    assert.ok(Math.abs(q.epsilon - 0.05) < 1e-9);
  });

  it('only ever picks an allowed action', () => {
    const q = new QLearner({ inputs: 3, actions: 6, seed: 1 });
    for (let i = 0; i < 200; i++) assert.ok([1, 4].includes(q.act([0, 0, 0], [1, 4])));
  });

  it('saves and loads its network', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopsmith-q-'));
    const q = new QLearner({ inputs: 3, actions: 4, seed: 5 });
    q.save(join(dir, 'm.json'));
    const n = QLearner.loadNetwork(join(dir, 'm.json'), 3, 4);
    assert.equal(n.status, 'loaded');
    assert.deepEqual([...(n.status === 'loaded' ? n.network : q.network).predict([0.5, 0, -0.5])], [...q.network.predict([0.5, 0, -0.5])]);
    assert.deepEqual(QLearner.loadNetwork(join(dir, 'missing.json'), 3, 4), { status: 'absent' }, 'no model yet is not a problem');
  });

  it('a mismatched or corrupted model is rejected with one warning naming the file and the problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopsmith-q-'));
    const path = join(dir, 'm.json');
    new QLearner({ inputs: 3, actions: 4, seed: 5 }).save(path);
    const good = JSON.parse(readFileSync(path, 'utf8')) as QNetworkJSON;
    const cases: [string, unknown, RegExp][] = [
      ['other space', undefined, /trained for 3 features and 4 moves; this space has 3 and 5/],
      ['not JSON', '{nope', /is not JSON \(corrupted\)/],
      ['truncated', JSON.stringify(good).slice(0, 100), /is not JSON/],
      ['format', { ...good, format: 2 }, /is not a Q-model \(format: 2 is not 1\)/],
      ['short layer', { ...good, weights: [good.weights[0], good.weights[1], good.weights[2]!.slice(1)] }, /weights that do not match its layer sizes/],
      ['not finite', { ...good, weights: [good.weights[0], good.weights[1], good.weights[2]!.map(() => 'x')] }, /weights\[2\]\[0\]: must be a number, got "x"/],
      ['not a model', [1, 2], /is not a Q-model/],
    ];
    for (const [what, content, pattern] of cases) {
      const file = content === undefined ? path : join(dir, `${what.replace(/ /g, '-')}.json`);
      if (content !== undefined) writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
      const r = QLearner.loadNetwork(file, 3, content === undefined ? 5 : 4);
      assert.equal(r.status, 'rejected', what);
      const warning = r.status === 'rejected' ? r.warning : '';
      assert.match(warning, pattern, what);
      assert.ok(warning.includes(file) && !warning.includes('\n'), `${what}: one line naming the file`);
    }
    mkdirSync(join(dir, 'adir.json'));
    const unreadable = QLearner.loadNetwork(join(dir, 'adir.json'), 3, 4);
    assert.match(unreadable.status === 'rejected' ? unreadable.warning : '', /adir\.json cannot be used \(cannot read saved model .*adir\.json: it is a directory, not a regular file/);
  });
});
