import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { RecordStore, TuningRecord, recordId } from '../tuner/records.js';
import { MeasureStatus } from '../targets/measurement.js';
import { cli } from './cli.test.js';

/** FLOPs of the fixtures' workload: a record's GFLOP/s must be these over its median. */
const FLOPS = 2 * 64 * 64 * 64;

function rec(trial: number, strategy: string, gflops: number, status: MeasureStatus = 'ok'): TuningRecord {
  return {
    format: 1, id: recordId(strategy, String(trial)), workload: { key: 'gemm(k=64,m=64,n=64,transA=0,transB=0):f32', op: 'gemm', params: { m: 64, n: 64, k: 64 }, dtype: 'f32' },
    target: { kind: 'c', fingerprint: { key: 'cpu:test' } }, trace: { version: 1, steps: [] }, traceHash: `${strategy}${trial}`,
    outcome: { status, gflops, median: FLOPS / gflops / 1e9 }, strategy, seed: 1, trial, timestamp: new Date(0).toISOString(), loopsmith: 'test',
  };
}

describe('cli: report', function () {
  this.timeout(120_000);

  it('writes a self-contained HTML report whose plots render in headless Chromium', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopsmith-report-'));
    const db = new RecordStore(join(dir, 'r.jsonl'));
    for (let t = 0; t < 40; t++) {
      db.append(rec(t, 'random', 10 + (t % 7) * 3));
      db.append(rec(t, 'flex', 10 + t, t % 9 === 0 ? 'wrong_answer' : 'ok'));
    }
    const html = join(dir, 'report.html');
    const r = cli('report', '--records', db.path, '--out', html);
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(html, 'utf8');
    assert.equal((text.match(/<svg/g) ?? []).length, 2, 'a curve and a scatter');
    assert.doesNotMatch(text, /<script|https?:\/\/(?!www\.w3\.org|vega\.github\.io)/, 'self-contained: no scripts, nothing fetched');
    const png = join(dir, 'shot.png');
    const shot = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${join(dir, 'profile')}`, `--screenshot=${png}`, '--window-size=1300,1000', `file://${html}`], { encoding: 'utf8', timeout: 90_000 });
    assert.equal(shot.status, 0, `chromium: ${shot.stderr}`);
    const img = PNG.sync.read(readFileSync(png));
    // The plots' lines and points use Vega's default palette: count pixels of its first two colours.
    let blue = 0, orange = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      const [r0, g, b] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
      if (Math.abs(r0 - 0x4c) < 30 && Math.abs(g - 0x78) < 30 && Math.abs(b - 0xa8) < 30) blue++;
      if (Math.abs(r0 - 0xf5) < 30 && Math.abs(g - 0x85) < 30 && Math.abs(b - 0x18) < 40) orange++;
    }
    assert.ok(blue > 200 && orange > 200, `plot pixels: ${blue} blue, ${orange} orange`);
  });
});
