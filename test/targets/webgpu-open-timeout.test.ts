import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunError } from '../../ir/errors.js';
import { DeviceProcess } from '../../targets/webgpu/process.js';

const NEVER_OPENS = fileURLToPath(new URL('./webgpu-never-opens.js', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('WebGPU device process: opening is bounded', () => {
  it('a device that does not open in time is a RunError (one line), and its process is killed', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'loopsmith-gpu-open-')), 'pid');
    process.env.LOOPSMITH_TEST_PIDFILE = pidFile;
    try {
      const started = Date.now();
      await assert.rejects(new DeviceProcess(500, NEVER_OPENS).open(), (e: Error) => {
        assert.ok(e instanceof RunError, String(e));
        assert.match(e.message, /^the WebGPU device did not open within 0\.5 s \(a hung GPU driver\?\); its process was killed$/);
        return true;
      });
      assert.ok(Date.now() - started < 5000, 'gave up at the bound');
      assert.ok(existsSync(pidFile), 'the stand-in started');
      const pid = Number(readFileSync(pidFile, 'utf8'));
      for (let i = 0; i < 40 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(alive(pid), false, 'the device process is gone');
    } finally {
      delete process.env.LOOPSMITH_TEST_PIDFILE;
    }
  });
});
