import { totalmem } from 'node:os';
import { InputError } from '../ir/errors.js';
import { byteSize } from '../ir/dtype.js';
import { Workload, lowerWorkload } from '../ir/ops/index.js';

/** Checking a kernel holds its buffers about three times: the reference's, the kernel's, and the outputs read back. */
const COPIES = 3;
/** Kernels index with 32-bit integers. */
const MAX_ELEMENTS = 2 ** 31 - 1;

const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Refuses shapes whose buffers could not be allocated and checked on a machine with
 * `memoryBytes` of memory, or indexed by a kernel, before anything tries to. Every path that
 * compiles a kernel applies it: the CLI's operator commands, a build manifest's kernels (verified
 * or not) and a farm worker before it compiles a job.
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
