/**
 * What the primitives need to know about the target. The targets fill it from their capabilities;
 * the defaults suit any CPU with up to 512-bit vectors.
 */
export interface ScheduleContext {
  /** Longest loop that `vectorize` accepts: a few vectors' worth of lanes. */
  readonly maxVectorLanes: number;
  /** Longest loop that `unroll` expands fully. */
  readonly maxUnroll: number;
  /** Largest scratch buffer (elements) a cache may allocate. */
  readonly maxCacheElements: number;
}

export const DEFAULT_CONTEXT: ScheduleContext = { maxVectorLanes: 64, maxUnroll: 64, maxCacheElements: 1 << 22 };
