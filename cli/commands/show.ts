import type { Argv } from 'yargs';
import { operatorCommand } from '../operator-command.js';
import { lowerWorkload } from '../../ir/ops/index.js';
import { printProgram } from '../../ir/print.js';
import { structuralHash } from '../../ir/hash.js';
import { formatFlops } from '../format.js';
import { workloadFromArgv } from '../params.js';
import { loadSchedule } from '../schedule-file.js';
import { applyTrace } from '../../scheduler/apply.js';
import { traceToTypeScript } from '../../scheduler/trace.js';

export function showCommand(y: Argv): Argv {
  return operatorCommand(y, 'show', {
    describe: 'Print an operator\'s workload key, FLOP count and lowered loop nest',
    json: 'machine-readable output: key, flops, hash, loop nest text',
    options: (a) => a
      .option('schedule', { type: 'string', describe: 'a schedule trace (JSON) to apply before printing' })
      .example('$0 show conv2d --n 1 --c 64 --h 56 --w 56 --k 64 --kh 3 --kw 3 --pad 1', 'a ResNet-18 layer')
      .example('$0 show gemm --m 64 --n 64 --k 64', 'a small matrix multiply')
      .example('$0 show gemm --m 64 --n 64 --k 64 --schedule scheduler/fixtures/gemm-cpu-64.json', 'the loop nest after a schedule')
      .epilogue('Operator parameters are given as --<name> <integer>; `loopsmith ops` lists them with their defaults.'),
    handler: (argv) => {
      const w = workloadFromArgv(argv);
      const t = argv.schedule ? loadSchedule(argv.schedule) : undefined;
      const p = t ? applyTrace(lowerWorkload(w), t, { workload: w.key }) : lowerWorkload(w);
      const text = printProgram(p);
      if (argv.json) {
        process.stdout.write(JSON.stringify({ key: w.key, op: w.op.name, params: w.params, flops: w.flops, hash: structuralHash(p), schedule: t ?? null, loopNest: text }, null, 2) + '\n');
        return;
      }
      const sched = t ? `\nschedule (${t.steps.length} steps):\n${traceToTypeScript(t).split('\n').map((l) => `  ${l}`).join('\n')}\n` : '';
      process.stdout.write(`workload  ${w.key}\nflops     ${w.flops} (${formatFlops(w.flops)})\nir hash   ${structuralHash(p)}\n${sched}\n${text}\n`);
    },
  });
}
