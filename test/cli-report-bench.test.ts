import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBenchResult } from '../cli/bench-results.js';
import { benchFixture } from './bench-fixture.js';
import { assertBadInput, cli } from './cli.test.js';

describe('cli: report --bench', function () {
  this.timeout(60_000);

  it('draws a fraction-of-peak bar chart per section of a bench result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopsmith-report-bench-'));
    const file = writeBenchResult(dir, benchFixture());
    const html = join(dir, 'bench.html');
    const r = cli('report', '--bench', file, '--out', html);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*bench\.html \(6 bench rows\)/);
    const text = readFileSync(html, 'utf8');
    assert.equal((text.match(/<svg/g) ?? []).length, 3, 'one chart per section');
    assert.equal((text.match(/aria-roledescription="bar"/g) ?? []).length, 5, 'a bar per verified row');
    assert.match(text, /measured under load/);
    assert.match(text, /core SkylakeX \(fastest verified of 2 tried; default \(Haswell\) was 0\.55x\)/);
    assert.match(text, /not plotted: loopsmith expert schedule \(wrong_answer\)/);
    assert.doesNotMatch(text, /<script/);
  });

  it('a file that is not a bench result is bad input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopsmith-report-bench-'));
    const f = join(dir, 'x.json');
    writeFileSync(f, '{"format": 1}');
    assertBadInput(cli('report', '--bench', f, '--out', join(dir, 'o.html')), /is not a loopsmith bench result/);
  });
});
