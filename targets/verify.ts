import { Buffers } from '../ir/execute.js';
import { collectLoops } from '../ir/loop.js';
import { Program } from '../ir/program.js';

export interface Comparison {
  readonly ok: boolean;
  readonly maxError: number;
  readonly tolerance: number;
  readonly message: string;
}

/**
 * Tolerance for fp32 results of reductions of length `n`: summation order changes the result by
 * about sqrt(n) roundings of the output's scale. A kernel that drops or repeats one term of a
 * reduction is off by ~1/sqrt(n) of the scale, far above this.
 */
export function toleranceFor(reductionLength: number): number {
  return 1e-6 * Math.max(16, 4 * Math.sqrt(Math.max(1, reductionLength)));
}

/** Compares outputs elementwise, relative to |want| plus the output's mean magnitude. */
export function compareOutputs(got: Buffers, want: Buffers, reductionLength: number): Comparison {
  const tolerance = toleranceFor(reductionLength);
  let worst = 0;
  let where = '';
  for (const [name, w] of Object.entries(want)) {
    const g = got[name];
    if (!g || g.length !== w.length) return { ok: false, maxError: Infinity, tolerance, message: `output ${name} is missing or has the wrong size` };
    let scale = 0;
    for (let i = 0; i < w.length; i++) scale += Math.abs(w[i]!);
    scale = scale / Math.max(1, w.length) || 1;
    for (let i = 0; i < w.length; i++) {
      const err = Math.abs(g[i]! - w[i]!) / (Math.abs(w[i]!) + scale);
      if (!(err <= worst)) {
        worst = Number.isNaN(err) ? Infinity : err;
        where = `${name}[${i}] = ${g[i]}, expected ${w[i]}`;
        if (worst === Infinity) break;
      }
    }
  }
  const ok = worst <= tolerance;
  return { ok, maxError: worst, tolerance, message: ok ? '' : `wrong answer: ${where} (relative error ${worst.toExponential(2)} > ${tolerance.toExponential(2)})` };
}

/** Length of the longest reduction in a program: product of its reduction loops' extents. */
export function reductionLength(p: Program): number {
  return collectLoops(p.body).filter((l) => l.axis === 'reduce').reduce((a, l) => a * l.extent, 1);
}
