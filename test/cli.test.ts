import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  return cliWithin(60_000, ...args);
}

/** `cli` killed after `ms`: for inputs that could make it hang (a FIFO), so a hang fails quickly (exit code null). */
export function cliWithin(ms: number, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  return cliWith({ timeout: ms }, ...args);
}

/** `cli` with variables added to the environment (a plugin list, a test hook) and its own timeout. */
export function cliWith(o: { timeout: number; env?: Record<string, string> }, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: o.timeout, ...(o.env ? { env: { ...process.env, ...o.env } } : {}) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Bad input: exit code 2, exactly one line on stderr, no stack trace. */
export function assertBadInput(r: ReturnType<typeof cli>, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/, 'no stack trace');
  assert.match(lines[0]!, pattern);
}

describe('cli: ops and show', () => {
  it('ops lists every operator with its parameters', () => {
    const r = cli('ops');
    assert.equal(r.code, 0, r.stderr);
    for (const op of ['gemm', 'batch_matmul', 'gemv', 'bilinear', 'conv1d', 'conv2d', 'conv3d', 'depthwise_conv2d', 'grouped_conv2d', 'dilated_conv2d', 'conv2d_transpose', 'max_pool2d', 'avg_pool2d', 'gemm_bias_relu', 'conv2d_bias_relu']) {
      assert.match(r.stdout, new RegExp(`^${op} `, 'm'));
    }
    const json = JSON.parse(cli('ops', '--json').stdout) as { name: string }[];
    assert.ok(json.some((o) => o.name === 'conv3d_transpose'));
  });

  it('show prints the key, FLOP count and loop nest', () => {
    const r = cli('show', 'conv2d', '--n', '1', '--c', '64', '--h', '56', '--w', '56', '--k', '64', '--kh', '3', '--kw', '3', '--pad', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /workload {2}conv2d\(c=64,dilation=1,groups=1,h=56,k=64,kh=3,kw=3,n=1,pad=1,stride=1,w=56\):f32/);
    assert.match(r.stdout, /flops {5}231211008/);
    assert.match(r.stdout, /for rc in 0\.\.64: {2}\/\/ reduce/);
    const j = JSON.parse(cli('show', 'gemm', '--m', '8', '--n', '8', '--k', '8', '--json').stdout) as { flops: number };
    assert.equal(j.flops, 1024);
  });

  const bad: [string[], RegExp][] = [
    [['show', 'nosuchop'], /unknown op 'nosuchop'; known ops: gemm/],
    [['show', 'gemm', '--m', '4'], /gemm needs --n, --k/],
    [['show', 'gemm', '--m', '4', '--n', '-2', '--k', '4'], /--n must be at least 1/],
    [['show', 'gemm', '--m', '4', '--n', 'x', '--k', '4'], /--n must be an integer/],
    [['show', 'conv2d', '--n', '1', '--c', '6', '--h', '8', '--w', '8', '--k', '8', '--kh', '3', '--kw', '3', '--groups', '4'], /not divisible by groups=4/],
    [['show', 'gemm', '--m', '4', '--n', '4', '--k', '4', '--dtype', 'f64'], /unknown dtype 'f64'/],
    [['show', 'gemm', '--m', '4', '--n', '4', '--k', '4', '--bogus', '1'], /no parameter 'bogus'/],
    [['nosuchcommand'], /Unknown command/i],
  ];
  for (const [args, pattern] of bad) {
    it(`bad input: ${args.join(' ')}`, () => assertBadInput(cli(...args), pattern));
  }
});
