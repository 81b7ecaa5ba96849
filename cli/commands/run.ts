import type { Argv } from 'yargs';
import { operatorCommand } from '../operator-command.js';
import { lowerWorkload } from '../../ir/ops/index.js';
import { applyTrace } from '../../scheduler/apply.js';
import { Pipeline } from '../../targets/pipeline.js';
import { integerOption } from '../../targets/target.js';
import { loadSchedule } from '../schedule-file.js';
import { minTimeOption, workloadFromArgv } from '../params.js';
import { formatMeasurement } from '../format.js';
import { targetArgNames, targetFromArgv, withTargetOptions } from '../target-args.js';

export function runCommand(y: Argv): Argv {
  return operatorCommand(y, 'run', {
    describe: 'Compile an operator (optionally scheduled), check it against the reference and time it',
    json: 'machine-readable output',
    options: (a) => withTargetOptions(a
      .option('schedule', { type: 'string', describe: 'a schedule trace (JSON); without it the CPU runs the loop nest as lowered and the GPU one invocation per output' })
      .option('emit', { type: 'boolean', describe: 'print the generated kernel source (C or WGSL) instead of running it' })
      .option('seed', { type: 'string', default: '1', describe: 'seed for the input data' })
      .option('min-time', { type: 'string', default: '0.3', describe: 'seconds of timed runs: at least 3 runs, at most 1000 (the cap ends a long --min-time on a fast kernel)' }))
      .example('$0 run gemm --m 512 --n 512 --k 512', 'the naive loop nest, checked and timed')
      .example('$0 run gemm --m 1024 --n 1024 --k 1024 --schedule scheduler/fixtures/gemm-cpu-1024.json --threads 2', 'the expert schedule on two threads')
      .example('$0 run conv2d --n 1 --c 8 --h 16 --w 16 --k 8 --kh 3 --kw 3 --pad 1 --emit', 'print the C source')
      .example('$0 run gemm --m 1024 --n 1024 --k 1024 --target webgpu --schedule scheduler/fixtures/gemm-gpu-registers-1024.json', 'on the WebGPU device')
      .epilogue('Exit codes: 0 when the kernel is correct, 1 when it is not (code generation or compile error, crash, timeout, wrong answer), 2 for bad input.'),
    handler: async (argv) => {
      const name = String(argv.target);
      const w = workloadFromArgv(argv, [...targetArgNames(), 'emit', 'seed', 'min-time']);
      const minTime = minTimeOption(argv['min-time']);
      const seed = integerOption('seed', argv.seed, 0);
      const target = targetFromArgv(argv, { seed, minSeconds: minTime });
      const base = lowerWorkload(w);
      const t = argv.schedule ? loadSchedule(String(argv.schedule)) : target.defaultTrace?.(base, w.key);
      const p = t ? applyTrace(base, t, { workload: w.key }) : base;
      if (argv.emit) {
        process.stdout.write(target.candidate(p).source);
        return;
      }
      const pipeline = new Pipeline(target);
      try {
        await target.open();
        if (!argv.json) process.stderr.write(`compiling and checking ${w.key} on ${target.description}...\n`);
        const m = await pipeline.measureProgram(p, { key: w.key, unscheduled: base, flops: w.flops });
        if (argv.json) {
          const threads = target.spaceTarget.style === 'cpu' ? { threads: target.spaceTarget.threads } : {};
          process.stdout.write(JSON.stringify({ workload: w.key, target: name, fingerprint: target.fingerprint, ...threads, schedule: t ?? null, ...m }, null, 2) + '\n');
        } else {
          process.stdout.write(formatMeasurement(w.key, m) + '\n');
        }
        if (m.status !== 'ok') process.exitCode = 1;
      } finally {
        await target.close();
      }
    },
  });
}
