/**
 * The moves between neighbouring points. Each space has a fixed list of them (the Q-model's
 * output layer has one unit per entry), built by its rules in rule order.
 */
export type Action =
  /** Moves the smallest prime factor of level `from` of an axis to level `to`. */
  | { readonly kind: 'move'; readonly axis: string; readonly from: number; readonly to: number }
  /** Swaps positions `at` and `at + 1` of the searched part of the loop order. */
  | { readonly kind: 'swap'; readonly at: number }
  | { readonly kind: 'unroll'; readonly delta: 1 | -1 }
  | { readonly kind: 'toggle'; readonly switch: 'vectorize' | 'parallel' }
  /** Cycles staging the output in registers: none, around the register tile, around the reductions too. */
  | { readonly kind: 'cacheWrite' }
  /** Toggles staging one input (packed on the CPU, in workgroup memory on the GPU). */
  | { readonly kind: 'cacheRead'; readonly input: string }
  /** CPU: toggles packing one input before the nest, blocked along the vector axis. */
  | { readonly kind: 'pack'; readonly input: string };

export type ActionKind = Action['kind'];
