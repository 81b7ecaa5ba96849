/**
 * Every command measures a kernel's steady state: a kernel whose first calls are slow (planted
 * through the C harness's test hook, as page faults or an allocator settling make them) reads the
 * same in run, compare, tune and the bench pipeline. The planted calls take 5 ms; the kernel itself
 * well under 1 ms, so a figure that counted them would be off by far more than any noise.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workload, lowerWorkload } from '../ir/ops/index.js';
import { CTarget } from '../targets/c/target.js';
import { Pipeline } from '../targets/pipeline.js';
import { warmingRuns } from '../targets/stats.js';
import { permutationPValue } from '../targets/permutation-test.js';
import { cliWith } from './cli.test.js';

const SHAPE = ['gemm', '--m', '128', '--n', '128', '--k', '256'];
/** Six slow calls: the checking call and two warm-ups take three, so three land in the timed runs. */
const PLANTED = { LOOPSMITH_TEST_MODE: '1', LOOPSMITH_TEST_SLOW_START: '6:5' };
/** Half the planted delay: a median above it counted slow calls. */
const STEADY = 2.5e-3;

function planted(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  return cliWith({ timeout: 300_000, env: PLANTED }, ...args);
}

describe('measurement: every command times the steady state', function () {
  this.timeout(600_000);
  const dir = mkdtempSync(join(tmpdir(), 'loopsmith-steady-'));

  it('run', () => {
    const r = planted('run', ...SHAPE, '--json', '--min-time', '0.1');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { stats: { median: number } };
    assert.ok(j.stats.median < STEADY, `run: median ${j.stats.median} s counts the slow first calls`);
  });

  it('compare (short interleaved rounds)', () => {
    const r = planted('compare', ...SHAPE, '--schedules', 'naive', 'naive', '--rounds', '3', '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { rows: { status: string; median: number }[] };
    for (const row of j.rows) assert.ok(row.status === 'ok' && row.median < STEADY, `compare: median ${row.median} s counts the slow first calls`);
  });

  it('tune (every record, and the re-measured best)', () => {
    const records = join(dir, 'records.jsonl');
    const r = planted('tune', ...SHAPE, '--trials', '3', '--strategy', 'random', '--early-abort', 'off', '--min-time', '0.05', '--records', records, '--json');
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(records, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { outcome: { status: string; median?: number } });
    const ok = lines.filter((l) => l.outcome.status === 'ok');
    assert.ok(ok.length > 0);
    for (const l of ok) assert.ok(l.outcome.median! < STEADY, `tune recorded ${l.outcome.median} s`);
  });

  it('the pipeline the benches measure with', async () => {
    const prev = { ...process.env };
    Object.assign(process.env, PLANTED);
    try {
      const w = workload('gemm', { m: 128, n: 128, k: 256 });
      const base = lowerWorkload(w);
      const pipeline = new Pipeline(new CTarget({ minSeconds: 0.05 }));
      const m = await pipeline.measureProgram(base, { key: w.key, unscheduled: base, flops: w.flops });
      assert.equal(m.status, 'ok', m.message);
      assert.ok(m.stats!.median < STEADY, `pipeline: median ${m.stats!.median} s`);
    } finally {
      process.env = prev;
    }
  });
});

describe('measurement: the warming rule and the permutation test', () => {
  it('a first half slower than the rest by more than 10 % is warm-up; noise and a steady kernel are not', () => {
    assert.equal(warmingRuns([5, 5, 5, 1, 1, 1, 1]), 3);
    assert.equal(warmingRuns([1.05, 1, 1.02, 1, 0.98, 1.01]), 0);
    assert.equal(warmingRuns([1, 1, 5, 5]), 0, 'a kernel getting slower is not warming up');
    assert.equal(warmingRuns([5, 1]), 0, 'too few runs to tell');
  });

  it('p-values are exact for small samples and the same on every call for large ones', () => {
    // 3 vs 3 with no overlap: of the 20 relabellings, only the two extremes are as far apart.
    assert.equal(permutationPValue([1, 2, 3], [10, 11, 12]), 2 / 20);
    assert.equal(permutationPValue([1, 2, 3], [1, 2, 3]), 1);
    const a = Array.from({ length: 30 }, (_, i) => 1 + (i % 7) / 10), b = Array.from({ length: 30 }, (_, i) => 1.1 + (i % 5) / 10);
    const p = permutationPValue(a, b);
    assert.equal(permutationPValue(a, b), p);
    assert.ok(p > 0 && p < 1);
  });
});
