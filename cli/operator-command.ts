import type { ArgumentsCamelCase, Argv } from 'yargs';
import { InputError } from '../ir/errors.js';

/** What every command on one operator instance takes besides the operator's own `--<param> N`. */
export type OperatorArgs = { op: string | undefined; json: boolean | undefined; dtype: string };

export interface OperatorCommand<T> {
  readonly describe: string;
  /** What `--json` makes of the output. */
  readonly json: string;
  readonly options: (a: Argv<OperatorArgs>) => Argv<T>;
  readonly handler: (argv: ArgumentsCamelCase<T>) => void | Promise<void>;
}

/**
 * Declares `loopsmith <name> <op> ...`, a command on one operator instance, with --json and --dtype.
 * Its unknown flags are the operator's parameters (workloadFromArgv refuses the ones the operator
 * lacks), so yargs' strict mode is off here and only extra words are refused.
 */
export function operatorCommand<T>(y: Argv, name: string, c: OperatorCommand<T>): Argv {
  return y.command(`${name} <op>`, c.describe, (a) => c.options(a
    .strict(false)
    .strictCommands(false)
    .positional('op', { type: 'string', describe: 'operator name (see `loopsmith ops`)' })
    .option('json', { type: 'boolean', describe: c.json })
    .option('dtype', { type: 'string', default: 'f32', describe: 'element type' })
    .check((argv) => {
      const extra = argv._.slice(1);
      if (extra.length) throw new InputError(`unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((x) => `'${x}'`).join(', ')}: \`loopsmith ${name}\` takes one operator name, then --options (see \`loopsmith ${name} --help\`)`);
      return true;
    })), c.handler);
}
