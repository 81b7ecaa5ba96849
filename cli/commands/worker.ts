import type { Argv } from 'yargs';
import { InputError } from '../../ir/errors.js';
import { integerOption } from '../../targets/target.js';
import { farmConnection, secondsOption, withFarmOptions } from '../farm-args.js';
import { refuseOtherTargetsOptions, withTargetOptions } from '../target-args.js';
import { MAX_TIMER_MS, earlyAbortOption, minTimeOption } from '../params.js';

export function workerCommand(y: Argv): Argv {
  return y.command(
    'worker',
    'Serve this machine\'s device to a measurement farm: take measurement jobs from Redis, verify and time them here',
    (a) => withFarmOptions(withTargetOptions(a), true)
      .option('concurrency', { type: 'string', default: '1', describe: 'jobs compiled at once (timing runs one at a time regardless)' })
      .option('min-time', { type: 'string', default: '0.1', describe: 'seconds of timed runs per candidate (at least 3 runs, at most 1000)' })
      .option('early-abort', { type: 'string', default: '3', describe: "a verified candidate whose first run took more than this many times the tuner's best is not timed further ('off': every one in full)" })
      .option('lock-ms', { type: 'string', default: '10000', describe: 'a job whose worker went silent this long goes to another worker of the device' })
      .option('wait', { type: 'boolean', describe: 'wait for an unreachable Redis at the start (one line while it waits) instead of giving up after --connect-timeout' })
      .option('stop-timeout', { type: 'string', default: '10', describe: 'on SIGTERM or Ctrl-C, seconds of Redis not answering after which the worker exits without delivering its jobs in flight or deregistering' })
      .option('test-fingerprint', { type: 'string', hidden: true, describe: 'tests only (LOOPSMITH_TEST_MODE=1): pose as another device' })
      .example('$0 worker --redis redis://127.0.0.1:6379 --target c --threads 1', 'one CPU worker; start one per core to measure in parallel')
      .example('$0 worker --redis redis://farm:6379 --target webgpu', 'the GPU of this machine')
      .epilogue([
        'The worker registers its device (kind, fingerprint, capabilities) with a heartbeat and takes the jobs of its fingerprint\'s queue.',
        'A job is a workload and a trace, never code: the worker validates both, renders the kernel itself, verifies it against the reference',
        'and times it as a local tune would. A worker killed mid-job loses nothing: after --lock-ms another worker of the device takes the job;',
        'a job that takes down two workers is recorded as a crash. SIGTERM (or Ctrl-C) stops it after the jobs in flight; a second one, at once.',
        'Bounds: a Redis that does not answer within --connect-timeout at the start is an error, unless --wait; once running, an outage is waited'
          + ' out with one line. Stopping, the worker finishes its jobs in flight while Redis answers (each has the 60 s compile and run limits);'
          + ' once Redis has not answered for --stop-timeout it exits without deregistering, with one line: a job it could not deliver goes to'
          + ' another worker after --lock-ms, so nothing is lost. README, "Timeouts", lists every bound.',
        'Exit codes: 0 stopped by a signal (also when Redis was gone), 1 Redis unreachable at the start, 2 bad input.',
        'The farm is for a trusted network: anyone who can write to its Redis can make its workers compile schedules of the known operators.',
      ].join('\n')),
    async (argv) => {
      refuseOtherTargetsOptions(argv, String(argv.target));
      const concurrency = integerOption('concurrency', argv.concurrency, 1);
      // BullMQ renews and checks the lock on timers of a fraction of it: past 2^31 - 1 ms they would fire every millisecond.
      const lockMs = integerOption('lock-ms', argv['lock-ms'], 500, MAX_TIMER_MS);
      const stopTimeoutMs = secondsOption('stop-timeout', argv['stop-timeout']);
      const minSeconds = minTimeOption(argv['min-time']);
      const earlyAbortFactor = earlyAbortOption(argv['early-abort']);
      const testFp = argv['test-fingerprint'];
      if (testFp !== undefined && process.env.LOOPSMITH_TEST_MODE !== '1') throw new InputError('--test-fingerprint is for tests only (set LOOPSMITH_TEST_MODE=1)');
      // Loaded when used: BullMQ and ioredis take ~0.3 s to load, which commands without --farm should not pay.
      const { runWorker } = await import('../../targets/farm/worker.js');
      await runWorker({
        ...farmConnection(argv), target: String(argv.target), targetOptions: argv, settings: { minSeconds, earlyAbortFactor }, concurrency, lockMs, wait: argv.wait === true, stopTimeoutMs,
        ...(testFp !== undefined ? { testFingerprint: String(testFp) } : {}),
        say: (line) => process.stderr.write(line + '\n'),
      });
      // BullMQ's and ioredis's timers would keep the process alive a little longer; the work is done.
      process.exit(0);
    },
  );
}
