import { ArgsOf, PrimitiveDef, StepOf } from '../primitive.js';
import { BIND, PARALLEL, UNROLL, VECTORIZE } from './annotate.js';
import { CACHE_READ, CACHE_WRITE } from './cache.js';
import { FUSE } from './fuse.js';
import { LAYOUT } from './layout.js';
import { REORDER } from './reorder.js';
import { SPLIT } from './split.js';
import { TILE } from './tile.js';

/**
 * Every schedule primitive, once. The order is part of the interface: parse errors list the
 * primitives in it, and the seeded random traces of the property tests draw from it.
 */
export const REGISTRY = [SPLIT, TILE, REORDER, FUSE, VECTORIZE, UNROLL, PARALLEL, BIND, CACHE_READ, CACHE_WRITE, LAYOUT] as const;

type Registered = (typeof REGISTRY)[number];

/** One step of a trace: the union of the registered primitives' steps. */
export type Step = StepOf<Registered>;
export type Primitive = Step['prim'];
type StepFor<P extends Primitive> = Extract<Step, { readonly prim: P }>;
/** The arguments of the builder method `s.<prim>(...)`. */
export type BuilderArgs<P extends Primitive> = ArgsOf<Extract<Registered, { readonly prim: P }>>;

export const PRIMITIVES: readonly Primitive[] = REGISTRY.map((d) => d.prim);

const BY_PRIM = new Map<string, Registered>(REGISTRY.map((d) => [d.prim, d]));

export function definition<P extends Primitive>(prim: P): PrimitiveDef<StepFor<P>, BuilderArgs<P>> {
  // The map forgets which definition belongs to which name; REGISTRY's construction guarantees it.
  return BY_PRIM.get(prim) as unknown as PrimitiveDef<StepFor<P>, BuilderArgs<P>>;
}
