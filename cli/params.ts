import { totalmem } from 'node:os';
import { InputError } from '../ir/errors.js';
import { byteSize } from '../ir/dtype.js';
import { Workload, lowerWorkload, workload } from '../ir/ops/index.js';

/** Options every op-taking command understands; everything else is an op parameter. */
const COMMON = new Set(['_', '$0', 'op', 'json', 'dtype', 'schedule', 'help', 'version']);

/** Checking a kernel holds its buffers about three times: the reference's, the kernel's, and the outputs read back. */
const COPIES = 3;
/** Kernels index with 32-bit integers. */
const MAX_ELEMENTS = 2 ** 31 - 1;

const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Refuses shapes whose buffers could not be allocated and checked on a machine with
 * `memoryBytes` of memory, or indexed by a kernel, before anything tries to.
 */
export function checkBuffersFit(w: Workload, memoryBytes = totalmem()): void {
  const buffers = lowerWorkload(w).buffers.filter((b) => b.scope === 'global');
  const elements = buffers.map((b) => b.shape.reduce((a, n) => a * n, 1));
  const huge = buffers.findIndex((_, i) => elements[i]! > MAX_ELEMENTS);
  if (huge >= 0) throw new InputError(`${w.key}: buffer ${buffers[huge]!.name} has ${elements[huge]!.toExponential(2)} elements; kernels index with 32-bit integers, so at most ${MAX_ELEMENTS}`);
  const bytes = buffers.reduce((sum, b, i) => sum + elements[i]! * byteSize(b.dtype), 0);
  if (bytes * COPIES > memoryBytes) {
    const each = buffers.map((b, i) => `${b.name} ${gb(elements[i]! * byteSize(b.dtype))}`).join(', ');
    throw new InputError(`${w.key}: the buffers need ${gb(bytes)} (${each}); checking a kernel holds them ${COPIES} times and this machine has ${gb(memoryBytes)} of memory`);
  }
}

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
