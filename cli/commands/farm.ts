import type { Argv } from 'yargs';
import { InputError } from '../../ir/errors.js';
import { didYouMean } from '../../ir/schema.js';
import { farmConnection, withFarmOptions } from '../farm-args.js';
import { table } from '../format.js';

const FARM_ACTIONS = ['status'] as const;

export function farmCommand(y: Argv): Argv {
  return y.command(
    'farm [what]',
    'The measurement farm: `farm status` shows each device\'s queue, jobs in flight and throughput',
    (a) => withFarmOptions(a.positional('what', { type: 'string', describe: `what to show: ${FARM_ACTIONS.join(', ')}` }), true)
      .option('json', { type: 'boolean', describe: 'machine-readable output' })
      .example('$0 farm status --farm redis://127.0.0.1:6379', 'queues per device fingerprint')
      .epilogue([
        '`loopsmith devices --farm URL` lists the devices and their workers; `loopsmith worker` adds one; `loopsmith tune ... --farm URL` tunes through them.',
        'A Redis that does not answer within --connect-timeout (at the start, and for each query) is one line and exit 1.'
          + ' README, "Timeouts", lists every bound.',
      ].join('\n')),
    async (argv) => {
      if (argv.what === undefined) throw new InputError(`farm needs an action: ${FARM_ACTIONS.join(', ')} (loopsmith farm status --farm URL)`);
      const what = String(argv.what);
      if (!(FARM_ACTIONS as readonly string[]).includes(what)) throw new InputError(`unknown farm action '${what}'; ${didYouMean(what, FARM_ACTIONS)}actions: ${FARM_ACTIONS.join(', ')}`);
      // Loaded when used: BullMQ and ioredis take ~0.3 s to load, which commands without --farm should not pay.
      const { farmStatus } = await import('../../targets/farm/devices.js');
      const rows = await farmStatus(farmConnection(argv));
      if (argv.json) {
        process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        process.exit(0);
      }
      const cells = rows.map((r) => [r.fingerprint, String(r.workers), String(r.waiting), String(r.active), String(r.completed), String(r.failed), r.perSecond.toFixed(2)]);
      process.stdout.write((rows.length ? table(['device fingerprint', 'workers', 'waiting', 'in flight', 'done', 'failed', 'jobs/s (1 min)'], cells) : 'the farm has no device queues yet: start a worker (loopsmith worker --redis URL)') + '\n');
      process.exit(0);
    },
  );
}
