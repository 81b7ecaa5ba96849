/** Element types. Only f32 is lowered end to end today; the others keep the types honest. */
export const DTYPES = ['f32', 'f16', 'i32', 'u32'] as const;
export type DType = (typeof DTYPES)[number];

export function isDType(s: string): s is DType {
  return (DTYPES as readonly string[]).includes(s);
}

export function isFloat(d: DType): boolean {
  return d === 'f32' || d === 'f16';
}

export function byteSize(d: DType): number {
  return d === 'f16' ? 2 : 4;
}
