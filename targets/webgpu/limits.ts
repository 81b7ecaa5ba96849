import { WgslKernel } from '../../codegen/wgsl/render.js';
import { GpuCapabilities } from './device.js';

/** Private arrays live in registers or spill to per-invocation scratch; beyond this, no GPU runs them well. */
const MAX_PRIVATE_BYTES = 16384;

/** The device's limits a kernel breaks, checked before anything is compiled. */
export function limitViolations(k: WgslKernel, caps: GpuCapabilities): string[] {
  const l = caps.limits;
  const out: string[] = [];
  for (const e of k.entries) {
    const [x, y, z] = e.workgroupSize;
    if (x > l.maxComputeWorkgroupSizeX || y > l.maxComputeWorkgroupSizeY || z > l.maxComputeWorkgroupSizeZ) out.push(`${e.name}: workgroup size ${x}x${y}x${z} exceeds the device's ${l.maxComputeWorkgroupSizeX}x${l.maxComputeWorkgroupSizeY}x${l.maxComputeWorkgroupSizeZ}`);
    if (x * y * z > l.maxComputeInvocationsPerWorkgroup) out.push(`${e.name}: ${x * y * z} invocations per workgroup, the device allows ${l.maxComputeInvocationsPerWorkgroup}`);
    if (e.dispatch.some((d) => d > l.maxComputeWorkgroupsPerDimension)) out.push(`${e.name}: dispatch ${e.dispatch.join('x')} exceeds ${l.maxComputeWorkgroupsPerDimension} workgroups per dimension`);
    if (e.workgroupBytes > l.maxComputeWorkgroupStorageSize) out.push(`${e.name}: ${e.workgroupBytes} bytes of workgroup memory, the device allows ${l.maxComputeWorkgroupStorageSize}`);
    if (e.privateBytes > MAX_PRIVATE_BYTES) out.push(`${e.name}: ${e.privateBytes} bytes of private scratch per invocation (at most ${MAX_PRIVATE_BYTES})`);
  }
  for (const b of k.bindings) if (b.elements * 4 > l.maxStorageBufferBindingSize) out.push(`buffer ${b.name} is ${b.elements * 4} bytes, the device binds at most ${l.maxStorageBufferBindingSize}`);
  if (k.bindings.length > l.maxStorageBuffersPerShaderStage) out.push(`${k.bindings.length} storage buffers, the device allows ${l.maxStorageBuffersPerShaderStage}`);
  return out;
}
