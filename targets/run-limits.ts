/**
 * How long the pipeline lets a run take. Without a best time (run, compare, benches) every run gets
 * the absolute cap. While tuning, the checking run gets a limit relative to the best so far, and
 * the timed run one derived from the checking run's own time: a hopeless kernel costs seconds,
 * not the minute of the cap.
 */
import { MAX_TIMING_FACTOR } from './stats.js';
import { MeasureSettings } from './target.js';

/** A run's time limit, and when it is derived from a time, why (appended to a run_timeout's message). */
export interface RunLimit {
  readonly timeoutMs: number;
  readonly why?: string;
}

type Limits = Pick<MeasureSettings, 'runTimeoutMs' | 'relativeTimeoutFactor' | 'relativeTimeoutFloorMs' | 'warmup' | 'minSeconds' | 'maxRepeats'>;

/** Warm runs can be slower than the cold checking run (another process takes the core): room for that. */
export const TIMED_RUN_SAFETY = 4;

const secs = (s: number) => (s >= 1 ? `${+s.toPrecision(3)} s` : s >= 1e-3 ? `${+(s * 1e3).toPrecision(3)} ms` : `${+(s * 1e6).toPrecision(3)} us`);

/** min(cap, max(floor, factor x best)); the cap alone when no best is known. */
export function checkRunLimit(s: Limits, bestSeconds: number | undefined): RunLimit {
  const relative = bestSeconds === undefined ? Infinity : Math.max(s.relativeTimeoutFloorMs, s.relativeTimeoutFactor * bestSeconds * 1000);
  if (!(relative < s.runTimeoutMs)) return { timeoutMs: s.runTimeoutMs };
  return {
    timeoutMs: Math.ceil(relative),
    why: `the limit was relative to the best so far (${s.relativeTimeoutFactor} x ${secs(bestSeconds!)}, at least ${secs(s.relativeTimeoutFloorMs / 1000)}, `
      + `at most the ${secs(s.runTimeoutMs / 1000)} cap): this kernel is far slower than the best`,
  };
}

/**
 * The timed run repeats the checking call, the warm-up and the repeats the harness makes (at least
 * 3, until minSeconds, at most maxRepeats): floor + safety x that at the checking run's speed.
 */
export function timedRunLimit(s: Limits, checkSeconds: number | undefined): RunLimit {
  if (checkSeconds === undefined) return { timeoutMs: s.runTimeoutMs };
  const t = checkSeconds;
  // A kernel still getting faster is timed for up to MAX_TIMING_FACTOR x minSeconds (stats.ts).
  const expected = (1 + s.warmup) * t + Math.min(s.maxRepeats * t, Math.max(MAX_TIMING_FACTOR * s.minSeconds + t, 3 * t));
  const derived = s.relativeTimeoutFloorMs + TIMED_RUN_SAFETY * expected * 1000;
  if (!(derived < s.runTimeoutMs)) return { timeoutMs: s.runTimeoutMs };
  return {
    timeoutMs: Math.ceil(derived),
    why: `the limit was derived from its own checking run (${secs(t)}: ${secs(s.relativeTimeoutFloorMs / 1000)} + ${TIMED_RUN_SAFETY} x its expected warm-up and repeats, `
      + `at most the ${secs(s.runTimeoutMs / 1000)} cap)`,
  };
}
