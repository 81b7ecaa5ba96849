#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { InputError } from '../ir/errors.js';
import { opsCommand } from './commands/ops.js';
import { showCommand } from './commands/show.js';
import { runCommand } from './commands/run.js';
import { devicesCommand } from './commands/devices.js';
import { tuneCommand } from './commands/tune.js';
import { emitCommand } from './commands/emit.js';
import { recordsCommand } from './commands/records.js';
import { compareCommand } from './commands/compare.js';
import { buildCommand } from './commands/build.js';
import { reportCommand } from './commands/report.js';
import { workerCommand } from './commands/worker.js';
import { farmCommand } from './commands/farm.js';
import { modelCommand } from './commands/model.js';
import { reportAndExit } from './errors.js';
import { loopsmithVersion } from '../tuner/records.js';
import { loadPlugins, targetOptions } from '../targets/registry.js';
import { joinFlagListValues } from './target-args.js';

/** Options (and positionals) that take several values. */
const LIST_OPTIONS = new Set(['_', 'schedules', 'files']);

/** Positionals: an empty one is each command's to explain (`which op?`). */
const POSITIONALS = new Set(['_', '$0', 'op', 'action', 'files', 'manifest', 'what', 'file']);

const commands = [opsCommand, showCommand, runCommand, tuneCommand, compareCommand, emitCommand, buildCommand, recordsCommand, reportCommand, devicesCommand, workerCommand, farmCommand, modelCommand];

// `loopsmith ops | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  reportAndExit(e, 'standard output');
});

/** What each command's required positional is, for yargs' "Not enough non-option arguments". */
const NEEDS: Readonly<Record<string, string>> = {
  show: 'an operator name (`loopsmith ops` lists them)', run: 'an operator name (`loopsmith ops` lists them)', tune: 'an operator name (`loopsmith ops` lists them)',
  compare: 'an operator name (`loopsmith ops` lists them)', emit: 'an operator name (`loopsmith ops` lists them)', build: 'a kernels manifest (kernels.json)',
  records: 'an action: list, best, export, merge or prune', model: 'an action: import (then an ONNX file)',
};

/**
 * yargs names what it refused; --help says what is legal. Strict mode checks commands first, so
 * an unknown argument, or an unknown "command" after a known one, is the first word's to explain.
 */
function withHelpHint(msg: string): string {
  const first = hideBin(process.argv).find((a) => !a.startsWith('-'));
  const word = /^Unknown commands?: (.*)$/.exec(msg)?.[1];
  if (word !== undefined && !word.split(', ').includes(first ?? '')) return `Unknown argument: ${word}; run \`loopsmith ${first} --help\` for what it takes`;
  if (word !== undefined) return `${msg}; run \`loopsmith --help\` for the commands`;
  if (/^Not enough non-option arguments/.test(msg) && first && NEEDS[first]) return `${first} needs ${NEEDS[first]}; run \`loopsmith ${first} --help\` for what it takes`;
  const missing = /^Missing required arguments?: (.*)$/.exec(msg)?.[1];
  if (missing !== undefined) return `${missing.split(', ').map((m) => `--${m}`).join(', ')} ${missing.includes(',') ? 'are' : 'is'} required; run \`loopsmith ${first ? `${first} ` : ''}--help\` for what it takes`;
  return /^(Unknown arguments?:|Not enough non-option arguments)/.test(msg) ? `${msg}; run \`loopsmith ${first ? `${first} ` : ''}--help\` for what it takes` : msg;
}

/**
 * yargs keeps its options in plain objects: a flag named like an Object.prototype member
 * (`--constructor 1`) crashes its validation, so it is refused first, as any unknown flag is.
 */
function refusePrototypeNames(args: readonly string[]): void {
  for (const a of args) {
    const name = /^--?(?:no-)?([^=]+)/.exec(a)?.[1];
    if (name !== undefined && Object.prototype.hasOwnProperty.call(Object.prototype, name)) {
      throw new InputError(`Unknown argument: ${name}; run \`loopsmith ${args.find((x) => !x.startsWith('-')) ?? ''} --help\` for what it takes`);
    }
  }
}

/** `--schedules` with nothing after it: yargs would silently take the defaults. */
function refuseValuelessLists(raw: readonly string[]): void {
  raw.forEach((a, i) => {
    const name = /^--([\w-]+)$/.exec(a)?.[1];
    if (name && LIST_OPTIONS.has(name) && (i + 1 >= raw.length || raw[i + 1]!.startsWith('-'))) throw new InputError(`--${name} needs at least one value; run \`loopsmith ${raw.find((x) => !x.startsWith('-')) ?? ''} --help\` for what it takes`);
  });
}

/** `--json=yes`: a switch takes no value (yargs would read anything but true as false). */
function refuseBooleanValues(raw: readonly string[], booleans: ReadonlySet<string>): void {
  for (const a of raw) {
    const m = /^--(?:no-)?([\w-]+)=(.*)$/.exec(a);
    if (m && booleans.has(m[1]!) && m[2] !== 'true' && m[2] !== 'false') throw new InputError(`--${m[1]} is a switch: give it alone (or --no-${m[1]}), not '${a}'`);
  }
}

async function main(): Promise<void> {
  refusePrototypeNames(hideBin(process.argv));
  // Before the commands are declared: a plugin's targets bring their own options.
  await loadPlugins();
  const raw = hideBin(process.argv);
  let y = yargs(joinFlagListValues(raw))
    .scriptName('loopsmith')
    .usage('$0 <command> [options]\n\nDeclare tensor operators, schedule their loop nests, and generate kernels.')
    .parserConfiguration({ 'parse-numbers': false, 'camel-case-expansion': false, 'duplicate-arguments-array': true })
    // Every command refuses flags and arguments it does not know; operator commands (their flags
    // are the operator's parameters, checked by workloadFromArgv) relax this in operatorCommand.
    .strict()
    .strictCommands()
    .demandCommand(1, 'name a command: run `loopsmith --help` for the list')
    // yargs keeps a flag given twice as a list (duplicate-arguments-array), so that it can be refused
    // here rather than one value silently winning; only list options take several.
    .middleware((argv) => {
      // An option given no value (`--schedule` at the end, `--out ''`) is refused too: read as absent, it would
      // run the unscheduled kernel or write into the current folder. A flag list (--cflags '') may be empty.
      const mayBeEmpty = new Set(targetOptions().filter((o) => o.flagList).map((o) => o.name));
      refuseValuelessLists(raw);
      refuseBooleanValues(raw, new Set((y as unknown as { getOptions(): { boolean: string[] } }).getOptions().boolean));
      for (const [k, v] of Object.entries(argv)) {
        if (Array.isArray(v) && !LIST_OPTIONS.has(k)) throw new InputError(`--${k} given more than once (${v.map((x) => `'${String(x)}'`).join(', ')}); give it once`);
        if (v === '' && !POSITIONALS.has(k) && !mayBeEmpty.has(k)) throw new InputError(`--${k} needs a value (it was given none, or an empty one); run \`loopsmith ${String(argv._[0] ?? '')} --help\` for what it takes`);
      }
    }, true)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      throw err ?? new InputError(withHelpHint(msg.split('\n').filter(Boolean).join('; ')));
    })
    .epilogue('Exit codes: 0 success, 2 bad input or a file-system error (one line on stderr), 1 work that failed on this machine (one line: a kernel that fails verification, a reference that did not finish) or an internal error.\nLOOPSMITH_PLUGINS=a.js,b.js loads modules that register more targets (registerTarget in targets/registry.js).');
  for (const c of commands) y = c(y);
  // loopsmith's own version: yargs' default reads the package.json nearest the working directory, another project's.
  await y.help().version(loopsmithVersion()).parseAsync();
}

main().catch(reportAndExit);
