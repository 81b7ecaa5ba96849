import type { CParam } from './render.js';

/** The kernel's parameter list: what it reads const, every buffer restrict (callers pass non-overlapping buffers). */
export function cSignature(params: readonly CParam[]): string {
  return params.map((q) => `${q.role === 'output' ? '' : 'const '}float *restrict ${q.cName}`).join(', ');
}

export interface HeaderParts {
  readonly banner: readonly string[];
  readonly name: string;
  readonly workload: string;
  readonly params: readonly CParam[];
  /** Lines of the doc comment after the buffers: how to build and call it. */
  readonly notes: readonly string[];
  readonly declarations: readonly string[];
}

/** An emitted kernel's .h: include guard, a doc comment with the buffers and notes, the declarations. */
export function cHeader(h: HeaderParts): string {
  const guard = `LOOPSMITH_${h.name.toUpperCase()}_H`;
  return [
    ...h.banner,
    `#ifndef ${guard}`,
    `#define ${guard}`,
    '',
    '/*',
    ` * ${h.workload}`,
    ' * Buffers (caller-allocated, non-overlapping):',
    ...h.params.map((q) => ` *   ${q.role === 'output' ? 'out' : 'in '} ${q.name}: float[${q.shape.join('][')}] (row-major, ${q.shape.reduce((x, y) => x * y, 1)} floats)`),
    ...h.notes.map((l) => ` * ${l}`),
    ' */',
    ...h.declarations,
    '',
    `#endif /* ${guard} */`,
    '',
  ].join('\n');
}

export const OPENMP_NOTE = (usesOpenMP: boolean) => (usesOpenMP ? 'Parallel loops use OpenMP: compile with -fopenmp (without it they run serially).' : 'No dependency beyond libc and libm.');
