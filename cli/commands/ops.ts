import type { Argv } from 'yargs';
import { OPS } from '../../ir/ops/index.js';
import { table } from '../format.js';

export function opsCommand(y: Argv): Argv {
  return y.command(
    'ops',
    'List the operators with their parameters',
    (a) => a.option('json', { type: 'boolean', describe: 'machine-readable output' })
      .example('$0 ops', 'every operator, its parameters and defaults'),
    (argv) => {
      if (argv.json) {
        const data = OPS.map((o) => ({ name: o.name, family: o.family, summary: o.summary, params: o.params, example: o.example }));
        process.stdout.write(JSON.stringify(data, null, 2) + '\n');
        return;
      }
      const rows = OPS.map((o) => [
        o.name,
        o.params.map((p) => (p.default === undefined ? `--${p.name}` : `[--${p.name} ${p.default}]`)).join(' '),
      ]);
      process.stdout.write(table(['op', 'parameters ([optional default])'], rows) + '\n\n');
      for (const o of OPS) process.stdout.write(`  ${o.name.padEnd(18)} ${o.summary}\n`);
    },
  );
}
