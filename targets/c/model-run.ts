import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelC } from '../../codegen/model-c.js';
import { RunError } from '../../ir/errors.js';
import { exec } from '../exec.js';
import { compileC, dispose } from './build.js';

/**
 * Compiles a model module with a harness and runs it: load (weights copied and packed once, timed
 * apart), one checked call on the given input, then timed calls of the whole model until
 * `minSeconds` have passed. The same contract as ONNX Runtime's session.run in bench/ort.ts: input
 * in, output out, nothing prepared between calls.
 */
export interface ModelRunOptions {
  readonly cc: string;
  readonly cflags: readonly string[];
  readonly threads: number;
  readonly minSeconds: number;
  readonly warmup?: number;
  readonly timeoutMs?: number;
}

export interface ModelRun {
  readonly output: Float32Array;
  readonly loadSeconds: number;
  /** Per call of the whole model, over `runs` timed calls. */
  readonly medianMs: number;
  readonly minMs: number;
  readonly runs: number;
  /** Each layer's median time inside the model (its inputs as the layers before left them in cache). */
  readonly layerMs: readonly number[];
  readonly compileSeconds: number;
}

function harness(m: ModelC): string {
  const f = m.functions;
  return `
#include <stdio.h>
#include <time.h>
static double ls_now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static float *ls_read(const char *path, size_t floats) {
  float *p = ls_alloc(sizeof(float) * (floats ? floats : 1));
  FILE *f = fopen(path, "rb");
  if (!f || fread(p, sizeof(float), floats, f) != floats) { fprintf(stderr, "cannot read %zu floats from %s\\n", floats, path); exit(3); }
  fclose(f);
  return p;
}
static int ls_cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
int main(int argc, char **argv) {
  if (argc != 6) { fprintf(stderr, "usage: model WEIGHTS INPUT OUTPUT MIN_SECONDS WARMUP\\n"); return 2; }
  float *w = ls_read(argv[1], ${m.weightFloats});
  float *x = ls_read(argv[2], INPUT_FLOATS);
  float *y = ls_alloc(sizeof(float) * OUTPUT_FLOATS);
  for (size_t i = 0; i < OUTPUT_FLOATS; i++) y[i] = __builtin_nanf("");
  double t0 = ls_now();
  ${f.type} *m = ${f.load}(w);
  double load = ls_now() - t0;
  if (!m) { fprintf(stderr, "load failed\\n"); return 4; }
  ${f.run}(m, x, y);
  FILE *o = fopen(argv[3], "wb");
  if (!o || fwrite(y, sizeof(float), OUTPUT_FLOATS, o) != OUTPUT_FLOATS) { fprintf(stderr, "cannot write %s\\n", argv[3]); return 3; }
  fclose(o);
  double min_s = atof(argv[4]);
  int warmup = atoi(argv[5]);
  for (int i = 0; i < warmup; i++) ${f.run}(m, x, y);
  static double times[100000];
  int n = 0;
  double start = ls_now();
  do {
    double a = ls_now();
    ${f.run}(m, x, y);
    times[n++] = ls_now() - a;
  } while (n < 100000 && (n < 3 || ls_now() - start < min_s));
  qsort(times, n, sizeof times[0], ls_cmp);
  /* Per layer: the median over a tenth as many calls (3 to 200), after the whole-model timing; medians,
     as for the whole model, so that a host's hiccup in one call does not land on one layer. */
  enum { LAYERS = ${m.layers} };
  int profiled = n / 10 < 3 ? 3 : n / 10 > 200 ? 200 : n / 10;
  static double runs_[200][LAYERS], column[200];
  for (int i = 0; i < profiled; i++) ${f.profile}(m, x, y, runs_[i]);
  printf("{\\"load\\": %.9f, \\"median\\": %.9f, \\"min\\": %.9f, \\"runs\\": %d, \\"layers\\": [", load, times[n / 2], times[0], n);
  for (int l = 0; l < LAYERS; l++) {
    for (int i = 0; i < profiled; i++) column[i] = runs_[i][l];
    qsort(column, profiled, sizeof column[0], ls_cmp);
    printf("%s%.9f", l ? ", " : "", column[profiled / 2]);
  }
  printf("]}\\n");
  ${f.free}(m);
  return 0;
}
`;
}

/** The module's source with its header inlined: one translation unit with the harness. */
export function modelProgram(m: ModelC): string {
  const base = m.functions.load.replace(/_load$/, '');
  const upper = base.toUpperCase();
  return m.source.replace(`#include "${base}.h"`, m.header)
    + `\n#define INPUT_FLOATS ((size_t)${upper}_INPUT_FLOATS)\n#define OUTPUT_FLOATS ((size_t)${upper}_OUTPUT_FLOATS)\n` + harness(m);
}

/** A model module compiled with its harness: run it as often as wanted, then dispose of it. */
export interface CompiledModel {
  run(weights: Float32Array, input: Float32Array, o: Pick<ModelRunOptions, 'threads' | 'minSeconds' | 'warmup' | 'timeoutMs'>): Promise<ModelRun>;
  dispose(): Promise<void>;
}

export async function compileModel(m: ModelC, o: Pick<ModelRunOptions, 'cc' | 'cflags'>): Promise<CompiledModel> {
  const bin = await compileC(modelProgram(m), { cc: o.cc, cflags: o.cflags, openmp: m.usesOpenMP, timeoutMs: 300_000 });
  if (bin.status !== 'ok') {
    await dispose(bin);
    throw new RunError(`the model module did not compile: ${bin.message}`);
  }
  return {
    run: async (weights, input, r) => ({ ...await runBinary(bin.binary, weights, input, r), compileSeconds: bin.seconds }),
    dispose: () => dispose(bin),
  };
}

async function runBinary(binary: string, weights: Float32Array, input: Float32Array, o: Pick<ModelRunOptions, 'threads' | 'minSeconds' | 'warmup' | 'timeoutMs'>): Promise<Omit<ModelRun, 'compileSeconds'>> {
  const dir = await mkdtemp(join(tmpdir(), 'loopsmith-model-'));
  try {
    const paths = { w: join(dir, 'weights'), x: join(dir, 'input'), y: join(dir, 'output') };
    await writeFile(paths.w, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength));
    await writeFile(paths.x, new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
    // Threads wait actively between layers, as ONNX Runtime's pool spins: a model is a run of
    // parallel regions back to back, and waking sleeping threads for each costs more than a small layer.
    const env = { ...process.env, OMP_NUM_THREADS: String(o.threads), OMP_WAIT_POLICY: 'active', OMP_PROC_BIND: 'close' };
    const r = await exec(binary, [paths.w, paths.x, paths.y, String(o.minSeconds), String(o.warmup ?? 3)], { timeoutMs: o.timeoutMs ?? 600_000, env });
    if (r.timedOut) throw new RunError(`the model did not finish in ${(o.timeoutMs ?? 600_000) / 1000} s`);
    if (r.code !== 0) throw new RunError(`the model module failed (exit ${r.code}): ${(r.error ?? r.stderr).trim().split('\n')[0]}`);
    const t = JSON.parse(r.stdout.trim().split('\n').pop()!) as { load: number; median: number; min: number; runs: number; layers: number[] };
    const raw = await readFile(paths.y);
    const output = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    return { output, loadSeconds: t.load, medianMs: t.median * 1e3, minMs: t.min * 1e3, runs: t.runs, layerMs: t.layers.map((s) => s * 1e3) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Compile, run once (a checked call and timed calls), dispose. */
export async function runModel(m: ModelC, weights: Float32Array, input: Float32Array, o: ModelRunOptions): Promise<ModelRun> {
  const c = await compileModel(m, o);
  try {
    return await c.run(weights, input, o);
  } finally {
    await c.dispose();
  }
}
