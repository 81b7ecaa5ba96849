import { InputError } from '../ir/errors.js';
import { Workload, workload } from '../ir/ops/index.js';

/** Options every op-taking command understands; everything else is an op parameter. */
const COMMON = new Set(['_', '$0', 'op', 'json', 'dtype', 'schedule', 'help', 'version']);

/** Reads `--m 64 --n 64 ...` from parsed argv into a validated workload. */
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
  return workload(op, raw, String(argv.dtype ?? 'f32'));
}
