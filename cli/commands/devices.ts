import type { Argv } from 'yargs';
import { InputError } from '../../ir/errors.js';
import { openTarget, targetNames } from '../../targets/registry.js';
import { OPEN_TIMEOUT_MS } from '../../targets/webgpu/process.js';
import { withEveryTargetsOptions } from '../target-args.js';
import { farmConnection, withFarmOptions } from '../farm-args.js';

type Report = { available: true; fingerprint: unknown; [k: string]: unknown } | { available: false; reason: string };

export function devicesCommand(y: Argv): Argv {
  return y.command(
    'devices',
    'List the targets on this machine with their capabilities and fingerprints',
    (a) => withFarmOptions(withEveryTargetsOptions(a.option('json', { type: 'boolean', describe: 'machine-readable output' })))
      .example('$0 devices', 'the CPU (C target) and the WebGPU adapter')
      .example('$0 devices --farm redis://127.0.0.1:6379', 'the devices of a measurement farm and their workers')
      .epilogue(`A WebGPU device that does not open within ${OPEN_TIMEOUT_MS / 1000} s (a hung driver) is listed as not available. With --farm, a Redis`
        + ' that does not answer within --connect-timeout is one line and exit 1. README, "Timeouts", lists every bound.'),
    async (argv) => {
      if (argv.farm !== undefined) {
        // Loaded when used: BullMQ and ioredis take ~0.3 s to load, which commands without --farm should not pay.
        const { farmDevices } = await import('../../targets/farm/devices.js');
        const ds = await farmDevices(farmConnection(argv));
        const lines = ds.flatMap((d) => [
          ...[...d.summary, `fingerprint ${d.fingerprint}`].map((l, i) => `${(i === 0 ? d.kind : '').padEnd(8)} ${l}`),
          `${''.padEnd(8)} ${d.workers.length} worker${d.workers.length === 1 ? '' : 's'}: ${d.workers.map((w) => `${w.worker} (heartbeat ${(w.seenMsAgo / 1000).toFixed(1)} s ago)`).join(', ')}`,
        ]);
        process.stdout.write(argv.json ? JSON.stringify(ds.map(({ record, ...d }) => ({ ...d, fingerprintFields: record.fingerprint })), null, 2) + '\n' : (lines.length ? lines.join('\n') : 'the farm has no live workers') + '\n');
        process.exit(0);
      }
      const reports: Record<string, Report> = {};
      const lines: string[] = [];
      for (const name of targetNames()) {
        try {
          const t = await openTarget(name, { options: argv });
          try {
            reports[name] = { available: true, fingerprint: t.fingerprint, ...t.capabilities };
            lines.push(...[...t.summary, `fingerprint ${t.fingerprint.key}`].map((l, i) => `${(i === 0 ? name : '').padEnd(8)} ${l}`));
          } finally {
            await t.close();
          }
        } catch (e) {
          // Bad options are the user's to fix; a device that is not there (or does not open) is a fact about this machine.
          if (e instanceof InputError) throw e;
          reports[name] = { available: false, reason: (e as Error).message };
          lines.push(`${name.padEnd(8)} not available: ${(e as Error).message}`);
        }
      }
      process.stdout.write(argv.json ? JSON.stringify(reports, null, 2) + '\n' : lines.join('\n') + '\n');
    },
  );
}
