import { WgslKernel } from './render.js';

/** The WebGPU limits a compute kernel depends on, by their GPUSupportedLimits names. */
export const KERNEL_LIMITS = [
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxStorageBuffersPerShaderStage',
] as const;

export type KernelLimit = (typeof KERNEL_LIMITS)[number];

/**
 * The least value of each limit the kernel needs: what a device must have been created with
 * (`requiredLimits`) to run it, and what an emitted module checks before it picks a variant.
 */
export function kernelRequirements(k: WgslKernel): Record<KernelLimit, number> {
  const most = (xs: readonly number[]) => Math.max(0, ...xs);
  return {
    maxComputeWorkgroupSizeX: most(k.entries.map((e) => e.workgroupSize[0])),
    maxComputeWorkgroupSizeY: most(k.entries.map((e) => e.workgroupSize[1])),
    maxComputeWorkgroupSizeZ: most(k.entries.map((e) => e.workgroupSize[2])),
    maxComputeInvocationsPerWorkgroup: most(k.entries.map((e) => e.workgroupSize[0] * e.workgroupSize[1] * e.workgroupSize[2])),
    maxComputeWorkgroupStorageSize: most(k.entries.map((e) => e.workgroupBytes)),
    maxComputeWorkgroupsPerDimension: most(k.entries.flatMap((e) => e.dispatch)),
    maxStorageBufferBindingSize: most(k.bindings.map((b) => b.elements * 4)),
    maxStorageBuffersPerShaderStage: k.bindings.length,
  };
}
