import { Program } from '../ir/program.js';
import { printProgram } from '../ir/print.js';
import { planRegisterTiles } from './registers.js';
import { simplifyProgram } from './simplify.js';
import { expandUnrolled } from './unroll.js';
import { dropUnitLoops } from './unit-loops.js';
import { unswitchCopies } from './unswitch.js';
import { PreparedBuffer, splitPrepare } from './prepare.js';

/** What the shared lowering hands to a renderer. */
export interface Lowered {
  readonly program: Program;
  /** Local tiles whose rows the renderer should keep in registers. */
  readonly registerTiles: ReadonlySet<string>;
  /**
   * The work on constant inputs that runs once, at load (codegen/prepare.ts), when the caller
   * asked for the split and the program has constants: `program` then reads `prepared` as inputs.
   */
  readonly prepare?: PrepareStage;
}

export interface PrepareStage {
  readonly lowered: Lowered;
  readonly prepared: readonly PreparedBuffer[];
  readonly floats: number;
}

export interface LowerOptions {
  /**
   * Hoist packs of constant inputs into a prepare stage. The C renderer takes it; WGSL does not yet
   * (the GPU spaces pack per workgroup, never whole buffers), and its kernels keep every pack.
   */
  readonly prepare?: boolean;
}

export interface Pass {
  readonly name: string;
  readonly run: (p: Program, state: { registerTiles: Set<string> }) => Program;
}

/**
 * The shared lowering, a linear list of named passes (Halide-style): each takes and returns a
 * verified program, so each can be tested and its output printed on its own.
 */
export const PASSES: readonly Pass[] = [
  { name: 'drop-unit-loops', run: (p) => dropUnitLoops(p) },
  { name: 'simplify-indices', run: (p) => simplifyProgram(p) },
  {
    name: 'register-tiles',
    run: (p, st) => {
      const r = planRegisterTiles(p);
      r.tiles.forEach((t) => st.registerTiles.add(t));
      return r.program;
    },
  },
  { name: 'expand-unrolled', run: (p) => expandUnrolled(p) },
  // Unrolled copies carry constants into indices and tail guards: fold them, drop guards that
  // are now provably true and statements whose guards are provably false.
  { name: 'prune-guards', run: (p) => simplifyProgram(p) },
  { name: 'unswitch-copies', run: (p) => unswitchCopies(p) },
];

export function lowerForCodegen(p: Program, log?: (pass: string, text: string) => void, opts: LowerOptions = {}): Lowered {
  if (!opts.prepare) return lowerOne(p, log);
  const split = splitPrepare(p);
  const lowered = lowerOne(split.program, log);
  if (!split.prepare) return lowered;
  return { ...lowered, prepare: { lowered: lowerOne(split.prepare), prepared: split.prepared, floats: split.floats } };
}

function lowerOne(p: Program, log?: (pass: string, text: string) => void): Lowered {
  const state = { registerTiles: new Set<string>() };
  let cur = p;
  for (const pass of PASSES) {
    cur = pass.run(cur, state);
    log?.(pass.name, printProgram(cur));
  }
  return { program: cur, registerTiles: state.registerTiles };
}
