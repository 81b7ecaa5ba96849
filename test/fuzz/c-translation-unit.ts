import { CKernel } from '../../codegen/c/render.js';
import { cPrelude } from '../../codegen/c/dialect.js';
import { HARNESS_HELPERS, prepareCall } from '../../targets/c/harness.js';

/** A rendered kernel and where each of its parameters sits among the program's buffers (the input seeds depend on it). */
export interface CJob {
  readonly kernel: CKernel;
  readonly positions: readonly number[];
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Global buffers sized and aligned as the C target's harness allocates them (64-byte multiples),
 * with an inaccessible page one vector (64 bytes) after that: a kernel that writes or reads further
 * faults while it runs, so the crash is charged to it and not to a later kernel whose memory it
 * corrupted. The slack is for gcc: at -O3 it loads whole vectors past a guarded element (see
 * docs/design.md), which the heap of the real harness never notices.
 */
const GUARDED = `#include <sys/mman.h>
static size_t ls_span(size_t n) { return (n * sizeof(float) + 63) / 64 * 64; }
static size_t ls_pages(size_t n) { return (ls_span(n) + 64 + 4095) / 4096 * 4096; }
static float *ls_guarded(size_t n) {
  char *base = mmap(0, ls_pages(n) + 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) { fprintf(stderr, "out of memory\\n"); exit(4); }
  mprotect(base, 4096, PROT_NONE);
  mprotect(base + 4096 + ls_pages(n), 4096, PROT_NONE);
  return (float *)(base + 4096 + ls_pages(n) - 64 - ls_span(n));
}
static void ls_unguard(float *p, size_t n) {
  munmap((char *)p + 64 + ls_span(n) - ls_pages(n) - 4096, ls_pages(n) + 2 * 4096);
}`;

/**
 * A kernel as the table of the harness sees it: a call through a uniform signature, its buffers'
 * sizes, and each input's position (its seed); -1 marks an output. The kernel itself is kept out of
 * line, so it is compiled once, as it would be on its own.
 */
function entry(j: CJob, i: number): string {
  const ps = j.kernel.params;
  const prepare = prepareCall(j.kernel, (k) => `b[${k}]`);
  return [
    ...(j.kernel.prepare ? [`__attribute__((noinline)) ${j.kernel.prepare.signature};`] : []),
    `__attribute__((noinline)) ${j.kernel.signature};`,
    `static void ls_call${i}(float **b) { ${prepare ? `${prepare}; ` : ''}${j.kernel.functionName}(${ps.map((_, k) => `b[${k}]`).join(', ')}); }`,
    `static const size_t ls_sizes${i}[] = { ${ps.map((p) => Math.max(1, size(p.shape))).join(', ')} };`,
    // -2: the prepared block, NaN until prepare fills it, not an output.
    `static const int ls_pos${i}[] = { ${ps.map((p, k) => (p.role === 'input' ? j.positions[k]! : p.role === 'prepared' ? -2 : -1)).join(', ')} };`,
  ].join('\n');
}

/**
 * One C file holding every kernel (each function named apart by the renderer) and a main that runs
 * kernels `first`.. in order on the inputs of `seed`, appending after each one its number and its
 * outputs to the output file and flushing: when a kernel crashes, the file says which one it was.
 *
 * usage: fuzz <seed> <output-file> <first>
 */
export function translationUnit(jobs: readonly CJob[]): string {
  const widths = [...new Set(jobs.flatMap((j) => j.kernel.vectorWidths))].sort((a, b) => a - b);
  const most = Math.max(...jobs.map((j) => j.kernel.params.length));
  const table = jobs.map((j, i) => `{ ls_call${i}, ${j.kernel.params.length}, ls_sizes${i}, ls_pos${i} }`);
  return [
    '#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, next to the prelude\'s _POSIX_C_SOURCE */',
    ...cPrelude(widths),
    HARNESS_HELPERS,
    GUARDED,
    ...jobs.map(entry),
    ...jobs.map((j) => j.kernel.definition),
    'typedef struct { void (*call)(float **); int buffers; const size_t *sizes; const int *pos; } ls_kernel;',
    `static const ls_kernel ls_kernels[${jobs.length}] = {\n  ${table.join(',\n  ')}\n};`,
    'int main(int argc, char **argv) {',
    '  if (argc != 4) { fprintf(stderr, "usage: %s seed out first\\n", argv[0]); return 2; }',
    '  unsigned long long seed = strtoull(argv[1], 0, 10);',
    '  FILE *out = fopen(argv[2], "wb");',
    '  if (!out) { perror("output"); return 3; }',
    `  for (uint32_t i = (uint32_t)atol(argv[3]); i < ${jobs.length}; i++) {`,
    '    const ls_kernel *k = &ls_kernels[i];',
    `    float *b[${most}];`,
    '    for (int q = 0; q < k->buffers; q++) {',
    '      b[q] = ls_guarded(k->sizes[q]);',
    '      if (k->pos[q] >= 0) ls_fill(b[q], k->sizes[q], (uint32_t)(seed * 7919ull + (unsigned long long)k->pos[q]));',
    '      else ls_nan(b[q], k->sizes[q]);',
    '    }',
    '    k->call(b);',
    '    fwrite(&i, sizeof i, 1, out);',
    '    for (int q = 0; q < k->buffers; q++) if (k->pos[q] == -1) fwrite(b[q], sizeof(float), k->sizes[q], out);',
    '    fflush(out);',
    '    for (int q = 0; q < k->buffers; q++) ls_unguard(b[q], k->sizes[q]);',
    '  }',
    '  return fclose(out) == 0 ? 0 : 3;',
    '}',
    '',
  ].join('\n');
}
