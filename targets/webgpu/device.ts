import { createRequire } from 'node:module';
import { create, globals } from 'webgpu';
import { KERNEL_LIMITS } from '../../codegen/wgsl/requirements.js';

/** What the tuner and the limit checks need to know about a WebGPU device. */
export interface GpuCapabilities {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly dawnVersion: string;
  readonly features: readonly string[];
  readonly hasTimestamps: boolean;
  readonly subgroupSizes?: { readonly min: number; readonly max: number };
  readonly limits: {
    readonly maxComputeWorkgroupSizeX: number;
    readonly maxComputeWorkgroupSizeY: number;
    readonly maxComputeWorkgroupSizeZ: number;
    readonly maxComputeInvocationsPerWorkgroup: number;
    readonly maxComputeWorkgroupStorageSize: number;
    readonly maxComputeWorkgroupsPerDimension: number;
    readonly maxStorageBufferBindingSize: number;
    readonly maxStorageBuffersPerShaderStage: number;
  };
}

export interface OpenDevice {
  readonly device: GPUDevice;
  readonly caps: GpuCapabilities;
}

// dawn.node's GPU object must outlive every call made through it: kept here for the whole process.
let gpu: GPU | undefined;

const LIMIT_NAMES = KERNEL_LIMITS;

function dawnVersion(): string {
  try {
    return (createRequire(import.meta.url)('webgpu/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Opens the first adapter with its full compute limits and, when it has them, timestamp queries
 * (with Dawn's timestamp quantization off, so short kernels are not rounded to coarse ticks).
 */
export async function openDevice(): Promise<OpenDevice> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  Object.assign(globalThis, globals);
  gpu ??= create(['disable-dawn-features=timestamp_quantization']);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error('no WebGPU adapter found: on Linux without a GPU install Mesa lavapipe (see README, "WebGPU without a GPU")');
  }
  const hasTimestamps = adapter.features.has('timestamp-query');
  const requiredFeatures: GPUFeatureName[] = hasTimestamps ? ['timestamp-query'] : [];
  const requiredLimits: Record<string, number> = {};
  for (const n of LIMIT_NAMES) requiredLimits[n] = adapter.limits[n];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const info = adapter.info;
  const limits = Object.fromEntries(LIMIT_NAMES.map((n) => [n, device.limits[n]])) as unknown as GpuCapabilities['limits'];
  const sub = info as unknown as { subgroupMinSize?: number; subgroupMaxSize?: number };
  const caps: GpuCapabilities = {
    vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
    dawnVersion: dawnVersion(), features: [...adapter.features].sort(), hasTimestamps, limits,
    ...(adapter.features.has('subgroups') && sub.subgroupMinSize ? { subgroupSizes: { min: sub.subgroupMinSize, max: sub.subgroupMaxSize ?? sub.subgroupMinSize } } : {}),
  };
  return { device, caps };
}
