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
