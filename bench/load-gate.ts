/**
 * No measurement shares the machine: before the run and before each section the 1-minute load
 * average must be below a threshold, else the bench waits (polling) and, past a maximum wait,
 * refuses. The load average is a one-minute moving average, so it also holds this bench's own
 * previous section: the gate waits that out too, and each section starts on a machine at rest.
 */
import os from 'node:os';
import { LoopsmithError } from '../ir/errors.js';

/**
 * A quarter of a core per core: 0.5 on 2 cores. A process that keeps one core of two busy half of
 * the time already costs a 2-thread kernel ~25 % of its time; an idle machine sits at 0.0-0.2.
 */
export const loadThresholdFor = (cores: number) => 0.25 * Math.max(1, cores);

export class LoadRefused extends LoopsmithError {}

export interface LoadGateOptions {
  readonly threshold: number;
  readonly maxWaitSeconds: number;
  readonly pollSeconds: number;
  /** Measure regardless; the loads seen are still recorded and the results marked. */
  readonly ignore: boolean;
  readonly load?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: (line: string) => void;
}

export class LoadGate {
  readonly seen: { at: string; load: number }[] = [];
  private readonly load: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: (line: string) => void;

  constructor(readonly options: LoadGateOptions) {
    this.load = options.load ?? (() => os.loadavg()[0]!);
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.log = options.log ?? ((s) => process.stderr.write(s + '\n'));
  }

  /** Did any section start above the threshold (only possible with `ignore`)? */
  get underLoad(): boolean {
    return this.seen.some((s) => s.load > this.options.threshold);
  }

  /** Returns once the machine is quiet; throws LoadRefused after the maximum wait. */
  async check(at: string): Promise<void> {
    const { threshold, maxWaitSeconds, pollSeconds, ignore } = this.options;
    let load = this.load();
    if (ignore) {
      if (load > threshold) this.log(`load: 1-minute load average ${load.toFixed(2)} > ${threshold} before ${at}; measuring anyway (--ignore-load), results are marked "measured under load"`);
      this.seen.push({ at, load });
      return;
    }
    let waited = 0;
    while (load > threshold) {
      if (waited >= maxWaitSeconds) {
        throw new LoadRefused(`the 1-minute load average stayed above ${threshold} (now ${load.toFixed(2)}) for ${maxWaitSeconds} s before ${at}: other work is running; measure on a quiet machine or pass --ignore-load`);
      }
      if (waited === 0) this.log(`load: 1-minute load average ${load.toFixed(2)} > ${threshold} before ${at}; waiting up to ${maxWaitSeconds} s for the machine to be quiet`);
      await this.sleep(pollSeconds * 1000);
      waited += pollSeconds;
      load = this.load();
    }
    if (waited > 0) this.log(`load: ${load.toFixed(2)} after ${waited} s; starting ${at}`);
    this.seen.push({ at, load });
  }
}
