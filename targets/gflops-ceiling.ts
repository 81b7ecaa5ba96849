/**
 * The most GFLOP/s a measurement of a device could honestly show, from its fingerprint alone. No
 * peak is measured outside the benches (bench/peak.ts), so this is a theoretical bound that no real
 * kernel reaches: every core the kernel ran on (its threads) retiring its widest FMAs on every
 * pipe at every cycle of a 6 GHz clock. It depends on nothing but the record, so a records file is
 * judged alike on every machine.
 *
 * Why not this machine's clock from /proc/cpuinfo: "cpu MHz" is the current or nominal clock, not
 * the boost one. On the AVX-512 EPYC of the README's bench it reads 2096 MHz, which at 64 FLOP/cycle
 * bounds one thread at 134 GFLOP/s, while its FMA peak measures 209 (3.3 GHz): a bound from it would
 * call real kernels impossible. No shipping CPU runs much above 6 GHz.
 */
import { fingerprintThreads } from './compiler.js';

export const CEILING_CLOCK_GHZ = 6;

/**
 * FLOP per cycle and core at most, per vector ISA level: f32 lanes x 2 (an FMA counts two) x FMA
 * pipes. x86 cores issue at most two vector FMAs a cycle; 'sse' covers AVX CPUs without AVX2 (the
 * compiler may still use 256-bit vectors); Arm cores issue up to four 128-bit FMAs a cycle (Apple),
 * or two 512-bit SVE ones (A64FX).
 */
const FLOP_PER_CYCLE: Readonly<Record<string, number>> = { avx512: 16 * 2 * 2, avx2: 8 * 2 * 2, sse: 8 * 2 * 2, neon: 4 * 2 * 4 };
const SVE_FLOP_PER_CYCLE = 16 * 2 * 2;

/**
 * The bound for a record's device, or undefined when none is known: WebGPU devices (no peak is
 * known without measuring one) and CPUs whose vector unit loopsmith does not know.
 */
export function gflopsCeiling(kind: string, fp: Readonly<Record<string, unknown>>): number | undefined {
  if (kind !== 'c') return undefined;
  const isa = typeof fp.isa === 'string' ? fp.isa : '';
  const flags = Array.isArray(fp.flags) ? fp.flags : [];
  const perCycle = isa === 'neon' && flags.some((f) => f === 'sve' || f === 'sve2') ? SVE_FLOP_PER_CYCLE : FLOP_PER_CYCLE[isa];
  return perCycle === undefined ? undefined : fingerprintThreads(fp) * perCycle * CEILING_CLOCK_GHZ;
}
