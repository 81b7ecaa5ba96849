import { CKernel } from '../../codegen/c/render.js';
import { TIMING_LOOP_C } from './timing-loop.js';

/** Buffers, the input generator and the clock: shared by every harness (the fuzzer's runs many kernels in one program). */
export const HARNESS_HELPERS = `#include <stdio.h>
#include <time.h>

static float *ls_buffer(size_t n) {
  float *p = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
  if (!p) { fprintf(stderr, "out of memory\\n"); exit(4); }
  return p;
}
static void ls_fill(float *p, size_t n, uint32_t a) {
  for (size_t i = 0; i < n; i++) {
    a += 0x6d2b79f5u;
    uint32_t t = a;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    p[i] = (float)((double)(t ^ (t >> 14)) / 4294967296.0 * 2.0 - 1.0);
  }
}
static void ls_nan(float *p, size_t n) { for (size_t i = 0; i < n; i++) p[i] = NAN; }
static double ls_now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
${TIMING_LOOP_C}`;

/**
 * The measuring program linked with a kernel: fills the inputs from a seed with the same
 * generator as the reference executor (mulberry32, seed*7919 + buffer position), fills outputs
 * with NaN, runs the kernel once and writes every output to a file for the checker, then, when
 * asked, times repeated runs after a warm-up (`ls_time`, timing-loop.ts). It prints JSON: the
 * seconds of that first call (`check`, which the pipeline uses to stop hopeless candidates early),
 * the timed runs (`times`) and how many more were counted as warm-up (`warming`).
 *
 * usage: kernel <seed> <output-file> <min-seconds> <max-repeats> <warmup>   (min-seconds 0: no timing)
 */
export function harnessSource(k: CKernel, positions: readonly number[]): string {
  const size = (shape: readonly number[]) => Math.max(1, shape.reduce((a, b) => a * b, 1));
  const alloc = k.params.map((p) => `  ${p.cName} = ls_buffer(${size(p.shape)});`);
  // Outputs and the prepared block start as NaN: an element the kernel (or prepare) never writes shows.
  const fill = k.params.map((p, i) =>
    p.role === 'input' ? `  ls_fill(${p.cName}, ${size(p.shape)}, (uint32_t)(seed * 7919ull + ${positions[i]}ull));` : `  ls_nan(${p.cName}, ${size(p.shape)});`);
  const call = `${k.functionName}(${k.params.map((p) => p.cName).join(', ')})`;
  const prepare = prepareCall(k, (i) => k.params[i]!.cName);
  const globals = k.params.map((p) => `static float *${p.cName};`);
  const slow = plantedSlowStart();
  const write = k.params.filter((p) => p.role === 'output').map((p) => `  if (fwrite(${p.cName}, sizeof(float), ${size(p.shape)}, out) != ${size(p.shape)}) return 3;`);
  return `
${HARNESS_HELPERS}
#ifdef __GLIBC__
#include <malloc.h>
#endif

${globals.join('\n')}
static void ls_call(void *ctx) { (void)ctx;${slow} ${call}; }

int main(int argc, char **argv) {
  if (argc != 6) { fprintf(stderr, "usage: %s seed out min-seconds max-repeats warmup\\n", argv[0]); return 2; }
  /* A kernel's heap scratch (packed inputs: megabytes) would come from fresh mmap pages on each of its
     first calls, until glibc raises its thresholds: ~15 ms of page faults per call for a 5.6 MB pack on
     a cloud VM, which made a 10 ms conv2d time at 27 ms in a short measurement and look hopeless to
     early abort. A process that calls the kernel in a loop gets the steady state by itself; the
     harness starts there: the heap keeps its pages, pre-faulted once for this kernel's scratch. */
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  /* glibc caps the mmap threshold at 32 MB: larger scratch (weights of a 1024-channel 3x3 conv
     packed: 38 MB) would be fresh pages on every call, 90 ms of faults against 8 ms of work. An
     application with such kernels wants the same setting (docs/design.md, "Harness steady state"). */
  mallopt(M_MMAP_MAX, 0);
#endif
  { size_t ls_scratch = ${k.heapScratchBytes}; if (ls_scratch) { char *ls_p = malloc(ls_scratch); if (ls_p) { memset(ls_p, 1, ls_scratch); free(ls_p); } } }
  unsigned long long seed = strtoull(argv[1], 0, 10);
  double min_seconds = atof(argv[3]);
  long max_repeats = atol(argv[4]), warmup = atol(argv[5]);
${alloc.join('\n')}
${fill.join('\n')}
  double ls_prepare_t0 = ls_now();
  ${prepare ?? ''};
  double ls_prepare = ls_now() - ls_prepare_t0;
  double ls_check_t0 = ls_now();
  ${call};
  double ls_check = ls_now() - ls_check_t0;
  FILE *out = fopen(argv[2], "wb");
  if (!out) { perror("output"); return 3; }
${write.join('\n')}
  fclose(out);
  printf("{\\"check\\":%.9f${prepare ? ',\\"prepare\\":%.9f' : ''}", ls_check${prepare ? ', ls_prepare' : ''});
  if (min_seconds <= 0) { printf("}\\n"); return 0; }
  int status = ls_time(ls_call, 0, min_seconds, max_repeats, warmup);
  printf("}\\n");
  return status;
}
`;
}

/**
 * The call of the kernel's prepare function, run once after the inputs are filled; `arg(i)` is how
 * the harness names the kernel's parameter i (the prepare function takes the constants and the
 * prepared block, which the kernel takes too). Undefined when the kernel has none.
 */
export function prepareCall(k: CKernel, arg: (kernelParam: number) => string): string | undefined {
  if (!k.prepare) return undefined;
  const args = k.prepare.params.map((q) => {
    const i = k.params.findIndex((x) => x.name === q.name);
    if (i < 0) throw new Error(`prepare parameter ${q.name} is not a parameter of ${k.functionName}`);
    return arg(i);
  });
  return `${k.prepare.functionName}(${args.join(', ')})`;
}

/**
 * Tests only (LOOPSMITH_TEST_MODE=1 and LOOPSMITH_TEST_SLOW_START=<calls>:<ms>): the first <calls>
 * calls in a process spend <ms> more, as a kernel that pays page faults or an allocator settling
 * does, so a test can check that every command measures the steady state.
 */
function plantedSlowStart(): string {
  const m = /^(\d+):(\d+(?:\.\d+)?)$/.exec(process.env.LOOPSMITH_TEST_SLOW_START ?? '');
  if (process.env.LOOPSMITH_TEST_MODE !== '1' || !m) return '';
  return ` static long ls_calls; if (ls_calls++ < ${m[1]}) { double ls_t0 = ls_now(); while (ls_now() - ls_t0 < ${Number(m[2]) / 1000}) {} }`;
}
