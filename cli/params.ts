import { InputError } from '../ir/errors.js';
import { argument, nearest, numberAbove, z } from '../ir/schema.js';
import { Workload, findOp, workload } from '../ir/ops/index.js';
import { checkBuffersFit } from '../targets/workload-fits.js';

export { checkBuffersFit };

/** Options every op-taking command understands; everything else is an op parameter. */
const COMMON = new Set(['_', '$0', 'op', 'json', 'dtype', 'schedule', 'help', 'version']);

/** Reads `--m 64 --n 64 ...` from parsed argv into a validated workload that fits this machine. */
export function workloadFromArgv(argv: Record<string, unknown>, extraCommon: readonly string[] = []): Workload {
  const op = typeof argv.op === 'string' ? argv.op : '';
  if (!op) throw new InputError('which op? run `loopsmith ops` to list them');
  const raw: Record<string, unknown> = {};
  const params = findOp(op).params.map((p) => p.name);
  // The command's own options, for "did you mean" on a misspelt one (`--recods` is no operator parameter either).
  const options = [...COMMON, ...extraCommon].filter((k) => !['_', '$0', 'op'].includes(k));
  for (const [k, v] of Object.entries(argv)) {
    if (COMMON.has(k) || extraCommon.includes(k)) continue;
    const option = params.includes(k) || nearest(k, params) ? undefined : nearest(k, options);
    if (option) throw new InputError(`unknown option --${k}; did you mean --${option}? (${op}'s parameters are: ${params.join(', ')}; \`loopsmith ${String((argv._ as unknown[] | undefined)?.[0] ?? '')} --help\` lists the options)`);
    if (Array.isArray(v)) throw new InputError(`--${k} given more than once`);
    if (typeof v === 'boolean') throw new InputError(`--${k} needs a value, e.g. --${k} 64`);
    raw[k] = v;
  }
  const w = workload(op, raw, String(argv.dtype ?? 'f32'));
  checkBuffersFit(w);
  return w;
}

const fail = (m: string): never => {
  throw new InputError(m);
};

/** `--min-time S`: a positive number of seconds of timed runs per candidate. */
export function minTimeOption(v: unknown): number {
  return argument('min-time', v, numberAbove(0), 'a positive number of seconds', fail);
}

/** `--early-abort F`: a factor of at least 1 (below 1 it would stop kernels faster than the best), or 'off'. */
export function earlyAbortOption(v: unknown): number {
  if (String(v) === 'off') return Infinity;
  return argument('early-abort', v, numberAbove(0).pipe(z.number().min(1)), "a factor of at least 1 or 'off'", fail);
}

/** The longest wait a timer can hold (Node's setTimeout: 2^31 - 1 ms); a longer one fires at once, over and over. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `--NAME S`: a positive number of seconds. */
export function secondsOption(name: string, v: unknown): number {
  return argument(name, v, numberAbove(0), 'a positive number of seconds', fail);
}

/** `--NAME S`: a positive number of seconds that a timer waits, so at most MAX_TIMER_MS (about 24.8 days). */
export function timerSecondsOption(name: string, v: unknown): number {
  const max = Math.floor(MAX_TIMER_MS / 1000);
  return argument(name, v, numberAbove(0).pipe(z.number().max(max)), `a positive number of seconds, at most ${max} (24.8 days, the longest timer)`, fail);
}
