import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli } from './cli.test.js';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);

/**
 * A terminal's Ctrl-C: SIGINT to the whole process group, so the device process, the compiler and
 * the kernel get it too. The tuner runs detached, as the leader of its own group.
 */
async function interruptedTune(args: string[], records: string, after: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let ended = false;
  void exited.then(() => { ended = true; });
  while (!ended && lines(records).length < after) await sleep(100);
  assert.ok(!ended, `the tune ended before it measured ${after} candidates: ${stderr}`);
  process.kill(-child.pid!, 'SIGINT');
  const code = await exited;
  return { code, stdout, stderr };
}

for (const target of ['webgpu', 'c']) {
  describe(`cli: Ctrl-C during tune --target ${target}`, function () {
    this.timeout(300_000);

    it('stops after the candidate in flight, records no crash, says it did not re-measure, and resumes', async () => {
      const records = join(mkdtempSync(join(tmpdir(), 'loopsmith-interrupt-')), 'records.jsonl');
      const args = ['tune', 'gemm', '--m', '64', '--n', '64', '--k', '64', '--target', target, '--records', records, '--min-time', '0.05'];
      const r = await interruptedTune([...args, '--trials', '500'], records, 3);
      assert.equal(r.code, 130, r.stderr);
      const recorded = lines(records).map((l) => JSON.parse(l) as { trial: number; outcome: { status: string } });
      assert.deepEqual(recorded.filter((x) => x.outcome.status === 'crash' || x.outcome.status === 'run_timeout'), [], 'no failure caused by the interrupt');
      assert.match(r.stdout, /stopped by interrupted/);
      assert.match(r.stdout, /not re-measured/);
      assert.doesNotMatch(r.stdout, /\(re-measured/);

      // Rejected points leave no record, so the last recorded trial says how far the run got.
      const done = Math.max(...recorded.map((x) => x.trial)) + 1;
      const again = cli(...args, '--trials', String(done + 2), '--json');
      assert.equal(again.code, 0, again.stderr);
      const j = JSON.parse(again.stdout) as { resumed: number; measured: number; best: { remeasured: { status: string } | null } };
      assert.equal(j.resumed, done, 'continues from every recorded trial');
      assert.ok(j.measured <= 2, `measures only the new trials, measured ${j.measured}`);
      assert.equal(j.best.remeasured?.status, 'ok', 'the best record measured again');
    });
  });
}
