import type { ArgumentsCamelCase, Argv } from 'yargs';

/** What every command on one operator instance takes besides the operator's own `--<param> N`. */
export type OperatorArgs = { op: string | undefined; json: boolean | undefined; dtype: string };

export interface OperatorCommand<T> {
  readonly describe: string;
  /** What `--json` makes of the output. */
  readonly json: string;
  readonly options: (a: Argv<OperatorArgs>) => Argv<T>;
  readonly handler: (argv: ArgumentsCamelCase<T>) => void | Promise<void>;
}

/** Declares `loopsmith <name> <op> ...`, a command on one operator instance, with --json and --dtype. */
export function operatorCommand<T>(y: Argv, name: string, c: OperatorCommand<T>): Argv {
  return y.command(`${name} <op>`, c.describe, (a) => c.options(a
    .positional('op', { type: 'string', describe: 'operator name (see `loopsmith ops`)' })
    .option('json', { type: 'boolean', describe: c.json })
    .option('dtype', { type: 'string', default: 'f32', describe: 'element type' })), c.handler);
}
