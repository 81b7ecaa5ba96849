/** The workloads of the search bench (issue 11, item 5), by the id `--workloads` takes. */
import { Workload, workload } from '../../ir/ops/index.js';
import { InputError } from '../../ir/errors.js';
import { CONV_SUITE } from '../conv-layers.js';

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

// Issue 26's operators beyond conv2d: each against oneDNN (NC(D)HW in and out).
DEFINITIONS['conv1d256'] = () => ({ target: 'c', workload: workload('conv1d', { n: 1, c: 256, w: 4096, k: 256, kw: 3, pad: 1 }) });
DEFINITIONS['conv3d64'] = () => ({ target: 'c', workload: workload('conv3d', { n: 1, c: 64, d: 8, h: 28, w: 28, k: 64, kd: 3, kh: 3, kw: 3, pad: 1 }) });
DEFINITIONS['conv3dt64'] = () => ({ target: 'c', workload: workload('conv3d_transpose', { n: 1, c: 64, d: 4, h: 14, w: 14, k: 32, kd: 4, kh: 4, kw: 4, stride: 2, pad: 1 }) });
DEFINITIONS['avgpool'] = () => ({ target: 'c', workload: workload('avg_pool2d', { n: 1, c: 64, h: 112, w: 112, kh: 3, kw: 3, stride: 2, pad: 1 }) });
// Every layer of the conv suite, by its label made an id ("yolo-c8").
const suiteId = (label: string) => label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/-$/, '');
for (const l of CONV_SUITE) DEFINITIONS[suiteId(l.label)] = () => ({ target: 'c', workload: workload(l.op, l.params) });

/** The list, the default of `--workloads`; `gemm512` (and `conv64`) serve quick runs. */
export const DEFAULT_WORKLOADS = ['gemm1024', 'gemm768x3072x768', 'conv256', 'conv64', 'dw144', 'wgemm1024', 'wconv64'] as const;
/** `--workloads convs` (issue 26): the conv suite, then conv1d, conv3d, conv3d_transpose and a pooling layer. */
export const CONV_WORKLOADS: readonly string[] = [...CONV_SUITE.map((l) => suiteId(l.label)), 'conv1d256', 'conv3d64', 'conv3dt64', 'avgpool'];
export const WORKLOAD_IDS = Object.keys(DEFINITIONS);

export function searchWorkloads(ids: readonly string[]): SearchWorkload[] {
  const expanded = ids.flatMap((id) => (id === 'convs' ? CONV_WORKLOADS : [id]));
  const unknown = expanded.filter((id) => !DEFINITIONS[id]);
  if (unknown.length || !ids.length) throw new InputError(`--workloads takes a comma list of ${WORKLOAD_IDS.join(', ')}, or convs (${CONV_WORKLOADS.length} of them); got '${ids.join(',')}'`);
  return expanded.map((id) => ({ id, ...DEFINITIONS[id]!() }));
}
