import { max, mean, median, min, quantile, standardDeviation } from 'simple-statistics';

export interface TimingStats {
  readonly runs: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly p20: number;
  readonly p80: number;
  readonly mean: number;
  readonly stddev: number;
  /** (p80 - p20) / median: the noise of this measurement, as a fraction. */
  readonly spread: number;
}

export function timingStats(times: readonly number[]): TimingStats {
  const xs = [...times];
  const med = median(xs);
  const p20 = quantile(xs, 0.2), p80 = quantile(xs, 0.8);
  return {
    runs: xs.length, median: med, min: min(xs), max: max(xs), p20, p80, mean: mean(xs),
    stddev: xs.length > 1 ? standardDeviation(xs) : 0, spread: med > 0 ? (p80 - p20) / med : 0,
  };
}

/**
 * A kernel whose first timed runs are slower than the rest by more than this (medians of the first
 * half and the rest) is still warming up: that half is counted as warm-up and timing goes on.
 */
export const WARMING_RATIO = 1.1;
/** Timing goes on for a kernel still warming up until this many times min-seconds were spent timing. */
export const MAX_TIMING_FACTOR = 5;

/**
 * How many leading runs of `times` were still warm-up (0 when steady): the first half when its
 * median is more than WARMING_RATIO x the rest's. The C twin is `ls_time` (targets/c/timing-loop.ts).
 */
export function warmingRuns(times: readonly number[]): number {
  if (times.length < 3) return 0;
  const half = Math.floor(times.length / 2);
  return median(times.slice(0, half)) > WARMING_RATIO * median(times.slice(half)) ? half : 0;
}
