import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadGate } from '../bench/load-gate.js';
import { writeSearchFiles } from '../bench/search/files.js';
import { SearchBenchResult, SearchRun, WorkloadResult } from '../bench/search/result.js';
import { searchBench } from '../bench/search/run.js';
import { speedTargets } from '../bench/search/speed-targets.js';
import { searchTables } from '../bench/search/tables.js';
import { workload } from '../ir/ops/index.js';

const CONFIGS = [
  { strategy: 'random', model: 'on', label: 'random' },
  { strategy: 'random', model: 'off', label: 'random-nomodel' },
  { strategy: 'flex', model: 'on', label: 'flex' },
  { strategy: 'flex', model: 'off', label: 'flex-nomodel' },
] as const;

const nondecreasing = (xs: readonly number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);

describe('search bench', function () {
  this.timeout(300_000);

  it('runs each configuration from fresh records and keeps curves by trial and by second, rates, peers, tables and files', async () => {
    const gate = new LoadGate({ threshold: 0.5, maxWaitSeconds: 0, pollSeconds: 1, ignore: true, log: () => {} });
    const r = await searchBench({
      workloads: [{ id: 'gemm64', target: 'c', workload: workload('gemm', { m: 64, n: 64, k: 64 }) }], configs: CONFIGS, seeds: 1, trials: 6,
      startingPoints: 8, threads: 1, minSeconds: 0.01, quickPeers: true, command: 'bench-search --trials 6', commandFor: (id) => `bench-search --trials 6 --workloads ${id}`, gate, log: () => {},
    });
    const back = JSON.parse(JSON.stringify(r)) as SearchBenchResult;
    assert.equal(back.workloads.length, 1);
    const w = back.workloads[0]!;
    assert.deepEqual(w.runs.map((x) => x.config), CONFIGS.map((c) => c.label));
    for (const run of w.runs) {
      assert.equal(run.trials, 6);
      assert.equal(run.byTrial.best.length, 6, `${run.config}: a best per trial`);
      assert.equal(run.byTrial.seconds.length, 6, `${run.config}: a time per trial`);
      assert.ok(nondecreasing(run.byTrial.best) && nondecreasing(run.byTrial.seconds), `${run.config}: curves never go back`);
      assert.ok(run.byTrial.seconds[0]! > 0 && run.byTrial.seconds[5]! <= run.searchSeconds && run.searchSeconds <= run.totalSeconds);
      assert.equal(run.fromRecords, 0, `${run.config}: cold start, nothing from another run's records`);
      assert.ok(run.measured > 0 && run.candidatesPerSecond > 0);
      assert.ok(run.final && run.final.gflops > 0 && run.final.remeasured, `${run.config}: the best re-measured`);
      assert.equal(run.model, run.config.endsWith('-nomodel') ? 'off' : 'on');
      if (run.model === 'off') assert.equal(run.passedOver, 0);
    }
    const expert = w.peers.find((p) => p.kind === 'expert');
    assert.equal(expert?.status, 'ok', 'the expert CPU GEMM measured through the pipeline');
    const blas = w.peers.find((p) => p.kind === 'peer');
    assert.ok(blas && /OpenBLAS|cblas/.test(blas.name + (blas.note ?? '')), 'the OpenBLAS peer, measured or why not');
    assert.equal(back.settings.trials, 6);
    assert.deepEqual(back.settings.horizon, { c: 6 });
    assert.ok(back.targets.length > 0 && back.targets.every((t) => t.met === undefined && /not run/.test(t.note ?? '')), 'no speed target workload was run');

    const text = searchTables(r);
    assert.match(text, /command: bench-search --trials 6 --workloads gemm64/);
    for (const c of CONFIGS) assert.match(text, new RegExp(`^${c.label} `, 'm'));
    assert.match(text, /Speed targets/);
    assert.match(text, /not run here .*wgemm1024/);
    const dir = mkdtempSync(join(tmpdir(), 'loopsmith-sbench-'));
    const files = writeSearchFiles(dir, r);
    assert.match(files[0]!, /search-.*\.json$/);
    assert.equal((JSON.parse(readFileSync(files[0]!, 'utf8')) as SearchBenchResult).workloads[0]!.runs.length, 4);
    const seconds = readFileSync(join(dir, 'search-gemm64-by-seconds.csv'), 'utf8').split('\n');
    assert.equal(seconds[0], 'seconds,random,random-nomodel,flex,flex-nomodel');
    assert.equal(readFileSync(join(dir, 'search-gemm64-by-trial.csv'), 'utf8').split('\n').length, 1 + 6 + 1);
    assert.match(readFileSync(join(dir, 'search-gemm64-seconds.svg'), 'utf8'), /seconds since the tune began/);
  });

  it('computes each speed target from the runs and peers: ratio, threshold, met or not', () => {
    const run = (config: string, strategy: 'flex' | 'random', gflops: number, cps: number): SearchRun => ({
      config, strategy, model: 'on', seed: 1, byTrial: { best: [gflops / 2, gflops], seconds: [30, 150] }, trials: 2, measured: 2, fromRecords: 0,
      searchSeconds: 150, totalSeconds: 160, candidatesPerSecond: cps, earlyAborts: 0, passedOver: 0, failures: {}, stoppedBy: 'time', started: [],
      final: { gflops, median: 1, spread: 0, remeasured: true },
    });
    const w = (id: string, key: string, runs: SearchRun[], peer?: number): WorkloadResult => ({
      id, key, target: 'c', device: 'test CPU', command: 'x', runs,
      peers: [{ kind: 'expert', name: 'expert CPU GEMM', status: 'ok', gflops: 50 }, ...(peer ? [{ kind: 'peer' as const, name: 'OpenBLAS', status: 'ok', gflops: peer }] : [])],
    });
    const r = {
      format: 1 as const, date: 'd', command: 'c', loopsmith: { version: '0' }, machine: { cpu: 'test', summary: [] },
      settings: { timeBudgetSeconds: 180, trials: Infinity, horizon: { c: 360 }, seeds: 1, configs: [CONFIGS[0], CONFIGS[2]], startingPoints: 8, threads: 1, minSeconds: 0.1, remeasure: 3 },
      load: { threshold: 0.5, seen: [], underLoad: false },
      workloads: [
        w('gemm1024', 'gemm(k=1024,m=1024,n=1024,transA=0,transB=0):f32', [run('flex', 'flex', 96, 3), run('random', 'random', 80, 1)], 100),
        w('conv64', 'conv2d(c=64,h=56,k=64,kh=3,kw=3,n=1,pad=1,w=56):f32', [run('flex', 'flex', 110, 2), run('random', 'random', 100, 2)]),
      ],
    };
    const t = speedTargets(r);
    const blas = t.find((x) => x.workload === 'gemm1024' && /OpenBLAS/.test(x.what))!;
    assert.equal(blas.ratio, 0.96);
    assert.equal(blas.met, true, '0.96 >= 0.95');
    const rate = t.find((x) => x.workload === 'gemm1024' && x.unit === '/s')!;
    assert.equal(rate.ratio, 2, 'median of the runs (3 and 1)');
    assert.equal(rate.met, true);
    const flex = t.find((x) => x.workload === 'conv64' && x.what.startsWith('flex'))!;
    assert.ok(Math.abs(flex.ratio! - 1.1) < 1e-12);
    assert.equal(flex.met, false, '1.1 < 1.2');
    assert.match(t.find((x) => x.workload === 'conv64' && x.what.startsWith('q'))!.note!, /needs --strategies with q/);
    assert.match(t.find((x) => x.workload === 'wgemm1024')!.note!, /not run/);
  });
});
