import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Workload } from '../../ir/ops/index.js';
import type { Target } from '../../targets/target.js';
import { TargetEvaluator } from '../../tuner/evaluate.js';
import { RecordStore } from '../../tuner/records.js';
import { tune } from '../../tuner/tune.js';

const RUNNER = fileURLToPath(new URL('./run-device-module.js', import.meta.url));

/** A short random tune of `w` on each target (seeds 1, 2, ...) into `db`; their fingerprint keys, in order. */
export async function tuneEach(w: Workload, targets: readonly Target[], db: RecordStore, trials: number): Promise<string[]> {
  const keys: string[] = [];
  let seed = 1;
  for (const t of targets) {
    await t.open();
    const ev = new TargetEvaluator(t);
    try {
      await tune(w, ev, { strategy: 'random', trials, seed: seed++, records: db, version: 'test', remeasure: false });
    } finally {
      await ev.close();
    }
    keys.push(t.fingerprint.key);
  }
  return keys;
}

export interface ModuleRun { variant: string; match: string; device: string | null; reason: string; ok: boolean; message: string }

/** Runs an emitted module (as JS) on this machine's Dawn adapter for each case, in a child process (run-device-module.ts). */
export function runModule(js: string, op: string, params: Record<string, number>, cases: unknown[]): { adapter: Record<string, string>; results: ModuleRun[] } {
  const r = spawnSync(process.execPath, [RUNNER, js, JSON.stringify({ op, params }), JSON.stringify(cases)], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { adapter: Record<string, string>; results: ModuleRun[] };
}
