import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INSTALL_ALL, Prerequisite, answers, missingPrerequisites } from './setup/prerequisites.js';

const fake = (name: string, problem?: string): Prerequisite => ({ name, usedBy: `${name}'s tests`, install: `apt-get install ${name}`, probe: () => problem });

describe('test prerequisites', function () {
  this.timeout(120_000);

  it('are silent when everything is present', () => {
    assert.deepEqual(missingPrerequisites([fake('gcc'), fake('make')]), []);
  });

  it('give one line per missing one with its install command, then the command that installs them all', () => {
    const lines = missingPrerequisites([fake('gcc', 'cc not found'), fake('make'), fake('chromium', 'chromium not found')]);
    assert.deepEqual(lines, [
      "missing: gcc, needed by gcc's tests (cc not found); install: apt-get install gcc",
      "missing: chromium, needed by chromium's tests (chromium not found); install: apt-get install chromium",
      `2 test prerequisites are missing; \`${INSTALL_ALL}\` installs them all (as root) and runs the tests`,
    ]);
  });

  it('a program probe tells a missing program from a failing one', () => {
    assert.equal(answers(process.execPath, ['--version'])(), undefined);
    assert.equal(answers('loopsmith-no-such-program', ['--version'])(), 'loopsmith-no-such-program not found');
    assert.equal(answers('sh', ['-c', 'echo broken >&2; exit 3'])(), 'sh -c echo broken >&2; exit 3 failed: broken');
  });

  it('npm test on a machine without them stops before any test, one line each', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const mocha = join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
    // An empty PATH: no compiler, make, g++ or chromium (node itself is started by its full path).
    const r = spawnSync(process.execPath, [mocha, '--config', '.mocharc.json'], { cwd: root, encoding: 'utf8', timeout: 110_000, env: { ...process.env, PATH: mkdtempSync(join(tmpdir(), 'loopsmith-empty-path-')) } });
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 6, r.stderr);
    assert.match(lines[0]!, /^missing: C compiler \(cc\), .*\(cc not found\); install: apt-get install gcc$/);
    assert.match(lines[1]!, /^missing: make, .*; install: apt-get install make$/);
    assert.match(lines[2]!, /^missing: redis-server, .*; install: apt-get install redis-server$/);
    assert.match(lines[3]!, /^missing: oneDNN \(libdnnl-dev\) and g\+\+, .*\(g\+\+ not found\); install: apt-get install g\+\+ libdnnl-dev$/);
    assert.match(lines[4]!, /^missing: chromium, .*; install: apt-get install chromium$/);
    assert.match(lines[5]!, /^5 test prerequisites are missing; `bash \.ci\/run` installs them all/);
    assert.doesNotMatch(r.stdout, /passing|failing/, 'no test ran');
  });
});
