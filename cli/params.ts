import { InputError } from '../ir/errors.js';
import { Workload, workload } from '../ir/ops/index.js';
import { checkBuffersFit } from '../targets/workload-fits.js';

export { checkBuffersFit };

/** Options every op-taking command understands; everything else is an op parameter. */
const COMMON = new Set(['_', '$0', 'op', 'json', 'dtype', 'schedule', 'help', 'version']);

/** Reads `--m 64 --n 64 ...` from parsed argv into a validated workload that fits this machine. */
export function workloadFromArgv(argv: Record<string, unknown>, extraCommon: readonly string[] = []): Workload {
  const op = typeof argv.op === 'string' ? argv.op : '';
  if (!op) throw new InputError('which op? run `loopsmith ops` to list them');
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(argv)) {
    if (COMMON.has(k) || extraCommon.includes(k)) continue;
    if (Array.isArray(v)) throw new InputError(`--${k} given more than once`);
    if (typeof v === 'boolean') throw new InputError(`--${k} needs a value, e.g. --${k} 64`);
    raw[k] = v;
  }
  const w = workload(op, raw, String(argv.dtype ?? 'f32'));
  checkBuffersFit(w);
  return w;
}

/** `--min-time S`: a positive number of seconds of timed runs per candidate. */
export function minTimeOption(v: unknown): number {
  const t = Number(v);
  if (!(t > 0)) throw new InputError(`--min-time must be a positive number of seconds, got '${String(v)}'`);
  return t;
}

/** `--early-abort F`: a factor of at least 1 (below 1 it would stop kernels faster than the best), or 'off'. */
export function earlyAbortOption(v: unknown): number {
  if (String(v) === 'off') return Infinity;
  const f = Number(v);
  if (!(Number.isFinite(f) && f >= 1)) throw new InputError(`--early-abort must be a factor of at least 1 or 'off', got '${String(v)}'`);
  return f;
}
