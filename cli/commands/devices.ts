import type { Argv } from 'yargs';
import { CpuTarget } from '../../targets/c/target.js';
import { WebGpuTarget } from '../../targets/webgpu/target.js';

export function devicesCommand(y: Argv): Argv {
  return y.command(
    'devices',
    'List the targets on this machine with their capabilities and fingerprints',
    (a) => a.option('json', { type: 'boolean', describe: 'machine-readable output' })
      .option('cc', { type: 'string', default: 'cc', describe: 'C compiler to describe' })
      .example('$0 devices', 'the CPU (C target) and the WebGPU adapter'),
    async (argv) => {
      const cpu = new CpuTarget({ cc: String(argv.cc) });
      const gpu = new WebGpuTarget();
      let webgpu: Record<string, unknown>;
      try {
        const caps = await gpu.open();
        webgpu = { available: true, fingerprint: gpu.fingerprint, capabilities: caps };
      } catch (e) {
        webgpu = { available: false, reason: (e as Error).message };
      } finally {
        await gpu.close();
      }
      const c = { fingerprint: cpu.fingerprint, capabilities: cpu.cpu, compiler: cpu.compiler, cflags: cpu.cflags };
      if (argv.json) {
        process.stdout.write(JSON.stringify({ c, webgpu }, null, 2) + '\n');
        return;
      }
      const cc = cpu.cpu;
      const lines = [
        `c        ${cc.model}: ${cc.cores} cores, ${cc.isa} (${cc.vectorBits}-bit, ${cc.f32Lanes} f32 lanes), caches L1d ${kb(cc.cacheBytes.l1d)} L2 ${kb(cc.cacheBytes.l2)} L3 ${kb(cc.cacheBytes.l3)}`,
        `         compiler ${cpu.compiler.versionLine}; flags ${cpu.cflags.join(' ')}`,
        `         fingerprint ${cpu.fingerprint.key}`,
      ];
      if (webgpu.available) {
        const g = gpu.caps, l = g.limits;
        lines.push(
          `webgpu   ${g.description} (${g.vendor}/${g.architecture}), Dawn via npm webgpu ${g.dawnVersion}`,
          `         workgroup ≤ ${l.maxComputeWorkgroupSizeX}x${l.maxComputeWorkgroupSizeY}x${l.maxComputeWorkgroupSizeZ}, ${l.maxComputeInvocationsPerWorkgroup} invocations, ${l.maxComputeWorkgroupStorageSize} B workgroup memory; timestamps ${g.hasTimestamps ? 'yes' : 'no'}${g.subgroupSizes ? `; subgroups ${g.subgroupSizes.min}-${g.subgroupSizes.max}` : ''}`,
          `         fingerprint ${gpu.fingerprint.key}`,
        );
      } else {
        lines.push(`webgpu   not available: ${String(webgpu.reason)}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    },
  );
}

const kb = (n?: number) => (n === undefined ? '?' : n >= 1 << 20 ? `${n >> 20} MiB` : `${n >> 10} KiB`);
