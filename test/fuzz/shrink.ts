import { findOp } from '../../ir/ops/index.js';
import { Step } from '../../scheduler/trace.js';
import { FuzzCase } from './cases.js';
import { FailureStatus, Verdict } from './verdict.js';
import { smallerParams } from './workloads.js';

/** Verdicts for cases; undefined for a case that is not a legal input (the variant is dropped). */
export type Check = (cases: readonly FuzzCase[]) => Promise<(Verdict | undefined)[]>;

export interface Shrunk {
  readonly fuzzCase: FuzzCase;
  readonly message: string;
  readonly rounds: number;
  readonly tried: number;
}

/** Variants are checked in batches of this many (one compiled unit each); the first that still fails wins. */
const CHUNK = 32;
const MAX_ROUNDS = 60;

const smaller = (v: number, floor: number) => [...new Set([floor, 2, Math.floor(v / 2), v - 1])].filter((x) => x >= floor && x < v).sort((a, b) => a - b);

/** One step made simpler: smaller factors, fewer split levels, shorter reorders. */
function simplerSteps(s: Step): Step[] {
  switch (s.prim) {
    case 'split':
    case 'tile': {
      const out: Step[] = [];
      if (s.prim === 'split' && s.factors.length > 1) s.factors.forEach((_, i) => out.push({ ...s, factors: s.factors.filter((_, j) => j !== i) }));
      s.factors.forEach((f, i) => smaller(f, 1).forEach((x) => out.push({ ...s, factors: s.factors.map((g, j) => (j === i ? x : g)) })));
      return out;
    }
    case 'unroll': return s.factor === undefined ? [] : smaller(s.factor, 2).map((factor) => ({ ...s, factor }));
    case 'reorder': return s.loops.length > 2 ? s.loops.map((_, i) => ({ ...s, loops: s.loops.filter((_, j) => j !== i) })) : [];
    default: return [];
  }
}

/** Simpler cases, most reducing first: chunks of steps dropped (halves, then quarters, ... then single steps), smaller parameters, simpler steps. */
function variants(c: FuzzCase): FuzzCase[] {
  const out: FuzzCase[] = [];
  const n = c.steps.length;
  const sizes: number[] = [];
  for (let k = Math.floor(n / 2); k > 1; k = Math.floor(k / 2)) sizes.push(k);
  if (n) sizes.push(1);
  for (const k of sizes) for (let i = 0; i < n; i += k) out.push({ ...c, steps: [...c.steps.slice(0, i), ...c.steps.slice(i + k)] });
  smallerParams(findOp(c.op), c.params).forEach((params) => out.push({ ...c, params }));
  c.steps.forEach((s, i) => simplerSteps(s).forEach((t) => out.push({ ...c, steps: c.steps.map((x, j) => (j === i ? t : x)) })));
  const seen = new Set<string>();
  return out.filter((v) => {
    const key = JSON.stringify(v);
    return !seen.has(key) && (seen.add(key), true);
  });
}

/**
 * Delta debugging: replaces the case by its first simpler variant that fails with the same status,
 * until none does. Every variant replays from scratch, so the result is a standalone reproduction.
 */
export async function shrink(start: FuzzCase, status: FailureStatus, message: string, check: Check): Promise<Shrunk> {
  let best = start, bestMessage = message, rounds = 0, tried = 0;
  for (let progress = true; progress && rounds < MAX_ROUNDS; rounds++) {
    progress = false;
    const vs = variants(best);
    for (let i = 0; i < vs.length && !progress; i += CHUNK) {
      const chunk = vs.slice(i, i + CHUNK);
      const verdicts = await check(chunk);
      tried += chunk.length;
      const hit = verdicts.findIndex((v) => v?.status === status);
      if (hit >= 0) {
        best = chunk[hit]!;
        bestMessage = (verdicts[hit] as { message: string }).message;
        progress = true;
      }
    }
  }
  return { fuzzCase: best, message: bestMessage, rounds, tried };
}
