/**
 * What a CPU's vector unit offers a register tile: f32 lanes per vector register and how many
 * vector registers there are (16 on AVX2 and SSE, 32 on AVX-512 and NEON). A tile whose
 * accumulators, operand vectors and broadcast do not fit spills on every step: on AVX2 the
 * AVX-512-sized tiles ran at a third of their speed.
 */
export interface VectorUnit {
  readonly lanes: number;
  readonly registers: number;
}

/** The vector unit the fixtures and tests were written for: AVX-512. */
export const AVX512_UNIT: VectorUnit = { lanes: 16, registers: 32 };

/** Registers of a target that reports only its lanes: 16-lane (512-bit) ISAs have 32, narrower x86 ones 16. */
export function vectorUnitFor(lanes: number, registers?: number): VectorUnit {
  return { lanes: Math.max(1, lanes), registers: registers ?? (lanes >= 16 ? 32 : 16) };
}

/**
 * The most accumulators a tile of `vectors` operand vectors per step may hold: the accumulators,
 * the operand vectors, one broadcast and one register to spare (the compiler's own, measured: a tile
 * that fills every register still spills).
 */
export function accumulatorBudget(unit: VectorUnit, vectors: number): number {
  return unit.registers - vectors - 2;
}
