import type { Argv } from 'yargs';
import { LoopsmithError } from '../../ir/errors.js';
import { openTarget, targetNames } from '../../targets/registry.js';
import { withEveryTargetsOptions } from '../target-args.js';

type Report = { available: true; fingerprint: unknown; [k: string]: unknown } | { available: false; reason: string };

export function devicesCommand(y: Argv): Argv {
  return y.command(
    'devices',
    'List the targets on this machine with their capabilities and fingerprints',
    (a) => withEveryTargetsOptions(a.option('json', { type: 'boolean', describe: 'machine-readable output' }))
      .example('$0 devices', 'the CPU (C target) and the WebGPU adapter'),
    async (argv) => {
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
          // Bad options are the user's to fix; a device that is not there is a fact about this machine.
          if (e instanceof LoopsmithError) throw e;
          reports[name] = { available: false, reason: (e as Error).message };
          lines.push(`${name.padEnd(8)} not available: ${(e as Error).message}`);
        }
      }
      process.stdout.write(argv.json ? JSON.stringify(reports, null, 2) + '\n' : lines.join('\n') + '\n');
    },
  );
}
