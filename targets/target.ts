/**
 * What every target provides. A target renders scheduled programs, builds and runs them; verifying
 * and timing are the shared pipeline's job (pipeline.ts), so a new target implements only what is
 * specific to its device.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../ir/errors.js';
import { argument, integerText } from '../ir/schema.js';
import type { Buffers } from '../ir/execute.js';
import type { Program } from '../ir/program.js';
import type { Language } from '../codegen/artifacts.js';
import type { Trace } from '../scheduler/trace.js';
import type { SpaceTarget } from '../tuner/space.js';

/** What a candidate must compute: the workload key, its unscheduled program and its FLOPs. */
export interface ReferenceSpec {
  readonly key: string;
  readonly unscheduled: Program;
  readonly flops: number;
}

/** Identity of the device and toolchain a measurement was taken on; `key` keys the records. */
export type Fingerprint = Readonly<Record<string, unknown>> & { readonly key: string };

/** How a target fills its inputs and times its runs: the same meaning on every target. */
export interface MeasureSettings {
  /** Seed of the input data (the reference uses the same). */
  readonly seed: number;
  /** Timing: repeat until this much time was measured (and at least 3 runs). */
  readonly minSeconds: number;
  readonly maxRepeats: number;
  readonly warmup: number;
  /** A run that takes longer is killed and is that candidate's run_timeout: the absolute cap on every run. */
  readonly runTimeoutMs: number;
  /**
   * When the best time so far is known (tuning), a candidate whose checking run took more than this
   * many times the best is verified but not timed further: one sample, marked `earlyAbort`.
   * Infinity disables it.
   */
  readonly earlyAbortFactor: number;
  /** The checking run's limit when a best is known: this many times the best (at least the floor, at most runTimeoutMs). */
  readonly relativeTimeoutFactor: number;
  /** The least any limit derived from a time may be: process start-up, input filling and noise need room. */
  readonly relativeTimeoutFloorMs: number;
  /** Problems up to this many FLOPs are checked against the reference executor, larger ones against the naive loop nest compiled. */
  readonly jsReferenceFlops: number;
  /** The C compiler that builds that naive loop nest. */
  readonly referenceCompiler: string;
  /** The compiled naive loop nest runs once per workload and seed; only a broken machine takes this long. */
  readonly referenceTimeoutMs: number;
  /** Where compiled references are kept between runs ('' or 'off': nowhere). */
  readonly referenceCacheDir: string;
}

const DEFAULT_SETTINGS: Omit<MeasureSettings, 'referenceCacheDir'> = {
  seed: 1, minSeconds: 0.3, maxRepeats: 1000, warmup: 2, runTimeoutMs: 60_000, earlyAbortFactor: 3, relativeTimeoutFactor: 20, relativeTimeoutFloorMs: 2000,
  jsReferenceFlops: 3e7, referenceCompiler: 'cc', referenceTimeoutMs: 30 * 60_000,
};

/** `$XDG_CACHE_HOME/loopsmith/references`, else `~/.cache/loopsmith/references` (read when settings are made, so a test may set it). */
export function defaultReferenceCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? xdg : join(homedir(), '.cache'), 'loopsmith', 'references');
}

/** Settings with defaults for what `given` leaves out (or leaves undefined). */
export function measureSettings(given: Partial<MeasureSettings> = {}, defaults: Partial<MeasureSettings> = {}): MeasureSettings {
  const set = (o: Partial<MeasureSettings>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_SETTINGS, referenceCacheDir: defaultReferenceCacheDir(), ...set(defaults), ...set(given) } as MeasureSettings;
}

/** A rendered kernel, ready to build. */
export interface Candidate {
  readonly program: Program;
  /** The generated code as a person reads it (`loopsmith run --emit` prints it). */
  readonly source: string;
  /** Equal for identical generated code, which is measured once. */
  readonly codeHash: string;
}

/** The code hash a measurement reports for a candidate that never had code (unique per `id`): it names no kernel. */
export function codelessHash(id: string | number | undefined): string {
  return `error-${id}`;
}

/** Does a reported code hash name generated code (not codelessHash's)? */
export function namesCode(hash: string): boolean {
  return !hash.startsWith('error-');
}

/** A candidate that never ran: the device's limits or the compiler said no. */
export interface BuildFailure {
  readonly status: 'rejected' | 'compile_error' | 'compile_timeout';
  readonly message: string;
  readonly compileSeconds?: number;
}

export type Built<B> = { readonly status: 'ok'; readonly artifact: B; readonly compileSeconds?: number } | BuildFailure;

/**
 * One run on the target's own inputs (from the seed): the outputs for the checker, how long the one
 * kernel call that produced them took (`checkSeconds`, cold: first touch, start-up) and, when timed,
 * the times. A target that cannot tell `checkSeconds` leaves it out; its candidates are then never
 * stopped early and their timed runs get the absolute cap.
 */
export type RunResult =
  | {
    readonly status: 'ok'; readonly outputs: Buffers; readonly checkSeconds?: number; readonly times?: readonly number[]; readonly clock?: 'gpu-timestamps' | 'wall-clock';
    /** Timed runs counted as warm-up after all, because the kernel was still getting faster (targets/stats.ts warmingRuns). */
    readonly warmingRuns?: number;
    /** How long the kernel's prepare function took, run once before the checked call (constant inputs). */
    readonly prepareSeconds?: number;
  }
  | { readonly status: 'compile_error' | 'compile_timeout' | 'crash' | 'run_timeout'; readonly message: string };

/** What the pipeline decides for one run: a target honours it instead of reading its settings. */
export interface RunOptions {
  /** Kill the kernel after this long (a run_timeout); at most the settings' runTimeoutMs. */
  readonly timeoutMs: number;
}

export interface Target<C extends Candidate = Candidate, B = unknown> {
  /** The registry name, also the records' target kind. */
  readonly name: string;
  readonly settings: MeasureSettings;
  /** Brings the device up; everything below but `candidate` and `defaultTrace` may need it first. */
  open(): Promise<void>;
  readonly fingerprint: Fingerprint;
  /** The device in a few words, for progress lines ("compiling and checking ... on <description>"). */
  readonly description: string;
  /** What `loopsmith devices` prints: capabilities as JSON and as a few text lines. */
  readonly capabilities: Readonly<Record<string, unknown>>;
  readonly summary: readonly string[];
  readonly spaceTarget: SpaceTarget;
  /** What the user should know about the options given (more threads than cores): one line each. */
  readonly warnings?: readonly string[];
  /** Is `other` (a stored fingerprint) a device whose records may stand in for this one's? */
  compatible(other: Readonly<Record<string, unknown>>): boolean;
  /** The schedule a program gets when none is given, where running it as lowered would be wrong for the device (a GPU would run it in one invocation). */
  defaultTrace?(unscheduled: Program, workload: string): Trace;
  /** Renders a scheduled program; an exception here is a code generator bug (the pipeline's codegen_error). */
  candidate(p: Program): C;
  /** Builds a batch the way the device builds fastest (the C compiler runs once per core). */
  build(cs: readonly C[]): Promise<Built<B>[]>;
  run(c: C, artifact: B, time: boolean, opts: RunOptions): Promise<RunResult>;
  release(artifact: B): Promise<void>;
  /** Ends what the target started (device processes), so that this process can exit. */
  close(): Promise<void>;
}

/** One option a target takes on the command line (`--threads 2`). */
export interface TargetOption {
  readonly name: string;
  readonly describe: string;
  readonly default?: string;
  /** Its value is itself a list of flags (`--cflags "-O2 -march=native"`), so it may begin with '-'. */
  readonly flagList?: true;
}

/** A registry entry: how to make a target from the command line or from code. */
export interface TargetDefinition {
  readonly name: string;
  readonly options: readonly TargetOption[];
  /** What `loopsmith emit` writes for this target. */
  readonly languages: readonly Language[];
  /** Checks `options` (strings from the command line or values from code) and makes the target, not yet opened. */
  create(settings: Partial<MeasureSettings>, options: Readonly<Record<string, unknown>>): Target;
}

/** An option that must be a safe integer of at least `min` (and at most `max`); the message names the flag. */
export function integerOption(name: string, value: unknown, min: number, max?: number): number {
  const legal = max === undefined ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  return argument(name, value, integerText(min, max), legal, (m) => {
    throw new InputError(m);
  });
}
