import { Compute } from '../te.js';

export interface ParamSpec {
  readonly name: string;
  readonly doc: string;
  /** Absent: the parameter is required. */
  readonly default?: number;
  /** Smallest legal value: 1 for sizes, 0 for padding and flags. */
  readonly min: number;
  /** When present, the only legal values (flags are [0, 1]). */
  readonly choices?: readonly number[];
  /** Names the CLI and files may give instead of the numbers of `choices` (`--layout nhwc`), in the same order. */
  readonly choiceNames?: readonly string[];
  /**
   * Left out of the workload key at its default: a parameter added after records were written
   * (prepack) keeps the keys, and so the records, of every workload that does not set it.
   */
  readonly keyOnlyWhenSet?: true;
}

export type Params = Readonly<Record<string, number>>;

export interface OpSpec {
  readonly name: string;
  readonly summary: string;
  readonly family: 'linear' | 'conv' | 'pool';
  readonly params: readonly ParamSpec[];
  /** Shape relations the parameters must satisfy; a message naming the problem, or undefined. */
  readonly check?: (p: Params) => string | undefined;
  readonly build: (p: Params) => Compute;
  /** Useful floating-point operations (a multiply-add counts 2), for GFLOP/s. */
  readonly flops: (p: Params) => number;
  /** A small instance, for tests and examples. */
  readonly example: Params;
}

export const size = (name: string, doc: string, dflt?: number): ParamSpec =>
  dflt === undefined ? { name, doc, min: 1 } : { name, doc, min: 1, default: dflt };
export const offset = (name: string, doc: string, dflt = 0): ParamSpec => ({ name, doc, min: 0, default: dflt });
export const flag = (name: string, doc: string): ParamSpec => ({ name, doc, min: 0, default: 0, choices: [0, 1] });

/**
 * `prepack 1`: the named inputs (a layer's weights) are constant, filled once and kept, as a model
 * holds them after loading. Whatever a schedule computes from them alone (a blocked copy of the
 * weights) is hoisted into the kernel's prepare function, run once before the calls that are timed
 * (codegen/prepare.ts). With 0 (the default) every call starts from the inputs as given.
 */
export const prepack = (weights: string): ParamSpec => ({
  name: 'prepack', doc: `1: ${weights} constant, packed once by the kernel's prepare function outside the timed calls (as at a model's load); 0: packed on every call`,
  min: 0, default: 0, choices: [0, 1], keyOnlyWhenSet: true,
});
