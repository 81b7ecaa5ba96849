/** A target's registry name ('c', 'webgpu', ...): open, so a new target needs no change here. */
export type TargetKind = string;
/** Which rule set builds the space: CPU-style (threads, vectors, register tiles) or GPU-style (binding, workgroups). */
export type SpaceStyle = 'cpu' | 'gpu';

/** What the space needs to know about the target: read from its capabilities. */
export interface SpaceTarget {
  readonly kind: TargetKind;
  readonly style: SpaceStyle;
  /** CPU: f32 lanes of a vector register; register tiles prefer multiples of it. */
  readonly lanes: number;
  /** CPU: vector registers (16 on AVX2, 32 on AVX-512); unset: inferred from the lanes (scheduler/vector-unit.ts). */
  readonly vectorRegisters?: number;
  /** CPU: threads the kernel may use (a parallel loop only pays with more than one). */
  readonly threads: number;
  /** GPU limits. */
  readonly maxInvocations: number;
  readonly maxWorkgroupDim: readonly [number, number, number];
  readonly maxWorkgroupBytes: number;
}
