import assert from 'node:assert/strict';
import { InputError } from '../../ir/errors.js';
import { parseCFlags } from '../../targets/c/flags.js';

describe('C target: --cflags is split like a shell command line', () => {
  const cases: [unknown, string[]][] = [
    ['-O2 -march=native', ['-O2', '-march=native']],
    ['  -O3\t-g  ', ['-O3', '-g']],
    [`-DA="x y" '-DB=p q' -DC=a\\ b`, ['-DA=x y', '-DB=p q', '-DC=a b']],
    [`-DS="say \\"hi\\""`, ['-DS=say "hi"']],
    [`-DE='' ""`, ['-DE=', '']],
    [['-O2 -g', '-Wall'], ['-O2', '-g', '-Wall']],
  ];
  for (const [given, words] of cases) {
    it(JSON.stringify(given), () => assert.deepEqual(parseCFlags(given), words));
  }

  it('an unterminated quote is refused in one line', () => {
    assert.throws(() => parseCFlags(`-O2 '-DX=a`), (e: Error) => e instanceof InputError && /unterminated ' quote/.test(e.message) && !e.message.includes('\n'));
  });
});
