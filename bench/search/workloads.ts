/** The workloads of the search bench (issue 11, item 5), by the id `--workloads` takes. */
import { Workload, workload } from '../../ir/ops/index.js';
import { InputError } from '../../ir/errors.js';

export type BenchTargetKind = 'c' | 'webgpu';

export interface SearchWorkload {
  readonly id: string;
  readonly target: BenchTargetKind;
  readonly workload: Workload;
}

const conv = (c: number, hw: number, k: number) => ({ n: 1, c, h: hw, w: hw, k, kh: 3, kw: 3, pad: 1 });

const DEFINITIONS: Record<string, () => Omit<SearchWorkload, 'id'>> = {
  gemm1024: () => ({ target: 'c', workload: workload('gemm', { m: 1024, n: 1024, k: 1024 }) }),
  gemm768x3072x768: () => ({ target: 'c', workload: workload('gemm', { m: 768, n: 3072, k: 768 }) }),
  conv256: () => ({ target: 'c', workload: workload('conv2d', conv(256, 28, 512)) }),
  conv64: () => ({ target: 'c', workload: workload('conv2d', conv(64, 56, 64)) }),
  dw144: () => ({ target: 'c', workload: workload('depthwise_conv2d', { n: 1, c: 144, h: 56, w: 56, kh: 3, kw: 3, pad: 1 }) }),
  wgemm1024: () => ({ target: 'webgpu', workload: workload('gemm', { m: 1024, n: 1024, k: 1024 }) }),
  wconv64: () => ({ target: 'webgpu', workload: workload('conv2d', conv(64, 56, 64)) }),
  // Small enough for a run of a few minutes.
  gemm512: () => ({ target: 'c', workload: workload('gemm', { m: 512, n: 512, k: 512 }) }),
};

/** The list, the default of `--workloads`; `gemm512` (and `conv64`) serve quick runs. */
export const DEFAULT_WORKLOADS = ['gemm1024', 'gemm768x3072x768', 'conv256', 'conv64', 'dw144', 'wgemm1024', 'wconv64'] as const;
export const WORKLOAD_IDS = Object.keys(DEFINITIONS);

export function searchWorkloads(ids: readonly string[]): SearchWorkload[] {
  const unknown = ids.filter((id) => !DEFINITIONS[id]);
  if (unknown.length || !ids.length) throw new InputError(`--workloads takes a comma list of ${WORKLOAD_IDS.join(', ')}; got '${ids.join(',')}'`);
  return ids.map((id) => ({ id, ...DEFINITIONS[id]!() }));
}
