import type { Argv } from 'yargs';
import { MeasureSettings, Target } from '../targets/target.js';
import { InputError } from '../ir/errors.js';
import { createTarget, targetDefinition, targetNames, targetOptions } from '../targets/registry.js';

/** Declares the options of every registered target (each target reads its own). */
export function withEveryTargetsOptions<T>(a: Argv<T>): Argv<T> {
  let y = a;
  // No yargs defaults: each target applies its own, so that an option given for another target can be told apart and refused.
  for (const o of targetOptions()) y = y.option(o.name, { type: 'string', describe: o.default !== undefined ? `${o.describe} (default: ${o.default})` : o.describe });
  return y;
}

/** Declares `--target` and every target's options. */
export function withTargetOptions<T>(a: Argv<T>): Argv<T> {
  return withEveryTargetsOptions(a.option('target', { type: 'string', default: 'c', describe: `where to run: ${targetNames().join(', ')}` }));
}

/** Option names that are not operator parameters. */
export function targetArgNames(): string[] {
  return ['target', ...targetOptions().map((o) => o.name)];
}

/**
 * Refuses, in one line, an option of another target given to a command that runs on `target`
 * (`--threads` with `--target webgpu`): silently ignored, it would leave the user believing it
 * took effect.
 */
export function refuseOtherTargetsOptions(argv: Record<string, unknown>, target: string): void {
  const own = new Set(targetDefinition(target).options.map((o) => o.name));
  const foreign = targetOptions().find((o) => argv[o.name] !== undefined && !own.has(o.name));
  if (!foreign) return;
  const owners = targetNames().filter((n) => targetDefinition(n).options.some((o) => o.name === foreign.name));
  const takes = own.size ? `takes ${[...own].map((n) => `--${n}`).join(', ')}` : 'takes no target options';
  throw new InputError(`--${foreign.name} is an option of the ${owners.join(', ')} target${owners.length > 1 ? 's' : ''}, not of ${target}; --target ${target} ${takes}`);
}

/** The target `--target` names, made (not opened) with its options from the command line. */
export function targetFromArgv(argv: Record<string, unknown>, settings: Partial<MeasureSettings> = {}): Target {
  refuseOtherTargetsOptions(argv, String(argv.target));
  const target = createTarget(String(argv.target), { settings, options: argv });
  for (const w of target.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
  return target;
}

/**
 * yargs reads a value that begins with '-' as more flags, so `--cflags "-O2 -march=native"` is
 * rewritten to `--cflags=-O2 -march=native` (one argument) before parsing, for every option whose
 * value is itself a list of flags.
 */
export function joinFlagListValues(args: readonly string[]): string[] {
  const names = new Set(targetOptions().filter((o) => o.flagList).map((o) => `--${o.name}`));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (names.has(a) && i + 1 < args.length) out.push(`${a}=${args[++i]!}`);
    else out.push(a);
  }
  return out;
}
