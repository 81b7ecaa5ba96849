import type { Argv } from 'yargs';
import { lowerWorkload } from '../../ir/ops/index.js';
import { printProgram } from '../../ir/print.js';
import { structuralHash } from '../../ir/hash.js';
import { formatFlops } from '../format.js';
import { workloadFromArgv } from '../params.js';

export function showCommand(y: Argv): Argv {
  return y.command(
    'show <op>',
    'Print an operator\'s workload key, FLOP count and lowered loop nest',
    (a) => a
      .positional('op', { type: 'string', describe: 'operator name (see `loopsmith ops`)' })
      .option('json', { type: 'boolean', describe: 'machine-readable output: key, flops, hash, loop nest text' })
      .option('dtype', { type: 'string', default: 'f32', describe: 'element type' })
      .example('$0 show conv2d --n 1 --c 64 --h 56 --w 56 --k 64 --kh 3 --kw 3 --pad 1', 'a ResNet-18 layer')
      .example('$0 show gemm --m 64 --n 64 --k 64', 'a small matrix multiply'),
    (argv) => {
      const w = workloadFromArgv(argv);
      const p = lowerWorkload(w);
      const text = printProgram(p);
      if (argv.json) {
        process.stdout.write(JSON.stringify({ key: w.key, op: w.op.name, params: w.params, flops: w.flops, hash: structuralHash(p), loopNest: text }, null, 2) + '\n');
        return;
      }
      process.stdout.write(`workload  ${w.key}\nflops     ${w.flops} (${formatFlops(w.flops)})\nir hash   ${structuralHash(p)}\n\n${text}\n`);
    },
  );
}
