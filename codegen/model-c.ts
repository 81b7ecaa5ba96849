import { GraphLayer, ModelGraph, graphTasks } from '../ir/graph/graph.js';
import { Program } from '../ir/program.js';
import { CKernel, renderC, staticDefinition } from './c/render.js';
import { C_RESERVED, cPrelude } from './c/dialect.js';
import { lowerForCodegen } from './lower.js';
import { Names } from './cstyle/names.js';
import { weightsLayout } from './model-weights.js';

/**
 * One C file for a whole model: each task's kernel (one per distinct workload, shared by the layers
 * of that shape), its prepare function, and the glue a program calls:
 *
 *   NAME_model *NAME_load(const float *weights);   copies the weights, runs every prepare once
 *   void NAME_run(NAME_model *m, const float *input, float *output);
 *   void NAME_free(NAME_model *m);
 *
 * The weights are one block of floats (the file `NAME.weights`, little-endian f32), the model's
 * constants back to back in `constantOrder`. Activations live in one arena; buffers whose lives do
 * not overlap share memory (first fit in layer order), so the working set stays in cache as a
 * framework's arena keeps it.
 */
export interface ModelKernel {
  /** The scheduled program of the task (the layer's workload). */
  readonly program: Program;
  /** Where its schedule came from, for the comment above it. */
  readonly origin: string;
}

export interface ModelC {
  readonly source: string;
  readonly header: string;
  /** The constants in the order of the weights block, with their offsets (floats). */
  readonly constants: readonly { name: string; offset: number; floats: number }[];
  readonly weightFloats: number;
  readonly usesOpenMP: boolean;
  readonly functions: { load: string; run: string; profile: string; free: string; type: string };
  readonly layers: number;
}

const ALIGN = 16; // floats: 64 bytes

const up = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export function renderModelC(g: ModelGraph, kernels: ReadonlyMap<string, ModelKernel>, opts: { name: string; lanes: number; banner: string[] }): ModelC {
  const names = new Names(C_RESERVED);
  const base = names.own(opts.name);
  const fn = { load: `${base}_load`, run: `${base}_run`, profile: `${base}_run_profiled`, free: `${base}_free`, type: `${base}_model` };
  const rendered = new Map<string, { k: CKernel; origin: string }>();
  for (const [t, { workload }] of graphTasks(g).entries()) {
    const mk = kernels.get(workload.key);
    if (!mk) throw new Error(`no kernel for ${workload.key}`);
    const k = renderC(lowerForCodegen(mk.program, undefined, { prepare: true }), `${base}_t${t}`, { lanes: opts.lanes });
    rendered.set(workload.key, { k, origin: mk.origin });
  }
  const widths = [...new Set([...rendered.values()].flatMap((r) => r.k.vectorWidths))].sort((a, b) => a - b);

  const weights = weightsLayout(g);
  const constOffset = weights.offset;
  const constants = weights.constants;
  const wFloats = weights.floats;

  // Prepared blocks, one per layer whose kernel has a prepare function.
  const prepOffset = new Map<GraphLayer, number>();
  let pFloats = 0;
  for (const l of g.layers) {
    const prep = rendered.get(l.workload.key)!.k.prepare;
    if (!prep) continue;
    prepOffset.set(l, pFloats);
    pFloats += up(Math.max(prep.floats, 1));
  }

  const arena = planArena(g);
  const tensorExpr = (name: string) => (name === g.input.name ? 'input' : name === g.output.name ? 'output' : `m->acts + ${arena.offset.get(name)}`);
  const argFor = (l: GraphLayer, p: { name: string; role: string }, prepared: string) => {
    if (p.role === 'prepared') return prepared;
    if (p.role === 'output') return tensorExpr(l.output);
    const src = l.inputs[p.name];
    if (!src) throw new Error(`layer ${l.name}: no source for ${p.name}`);
    return 'tensor' in src ? tensorExpr(src.tensor) : `m->weights + ${constOffset.get(src.constant)}`;
  };

  const loads: string[] = [], calls: string[] = [];
  g.layers.forEach((l, i) => {
    const { k } = rendered.get(l.workload.key)!;
    const prepared = prepOffset.has(l) ? `m->prepared + ${prepOffset.get(l)}` : '0';
    // The prepare function writes the block (its one non-input parameter) from the constants.
    if (k.prepare) loads.push(`  ${k.prepare.functionName}(${k.prepare.params.map((p) => (p.role === 'input' ? argFor(l, p, prepared) : prepared)).join(', ')});`);
    calls.push(`  /* ${i}: ${l.name.replace(/\*\//g, '* /')} */`, `  LS_LAYER(${i}, ${k.functionName}(${k.params.map((p) => argFor(l, p, prepared)).join(', ')}));`);
  });

  const upper = base.toUpperCase();
  const header = [
    ...opts.banner.map((b) => `// ${b}`),
    `#ifndef LOOPSMITH_${upper}_H`, `#define LOOPSMITH_${upper}_H`, '',
    '/*',
    ` * ${g.name}: ${g.layers.length} layers, ${rendered.size} distinct kernels.`,
    ` * input  ${g.input.name}: float[${g.input.shape.join('][')}] (NCHW, row-major)`,
    ` * output float[${g.output.shape.join('][')}]`,
    ` * ${fn.load}(weights) copies the ${wFloats} floats of ${base}.weights (little-endian f32) and packs them once;`,
    ` * ${fn.run}() may then be called any number of times (not concurrently on one model).`,
    ' * Compile with -O3 -march=native -fopenmp on the machine it was tuned for.',
    ' */',
    `#define ${upper}_INPUT_FLOATS ${count(g.input.shape)}`,
    `#define ${upper}_OUTPUT_FLOATS ${count(g.output.shape)}`,
    `#define ${upper}_WEIGHT_FLOATS ${wFloats}`,
    `typedef struct ${fn.type} ${fn.type};`,
    `${fn.type} *${fn.load}(const float *weights);`,
    `void ${fn.run}(${fn.type} *m, const float *input, float *output);`,
    `/* As ${fn.run}, adding each layer's seconds to layer_seconds[0 .. ${upper}_LAYERS - 1]. */`,
    `#define ${upper}_LAYERS ${g.layers.length}`,
    `void ${fn.profile}(${fn.type} *m, const float *input, float *output, double *layer_seconds);`,
    `void ${fn.free}(${fn.type} *m);`,
    '', `#endif /* LOOPSMITH_${upper}_H */`, '',
  ].join('\n');

  const source = [
    ...opts.banner.map((b) => `// ${b}`),
    ...cPrelude(widths),
    `#include "${base}.h"`, '',
    ...[...rendered.values()].flatMap(({ k, origin }) => [`/* ${k.functionName}: ${origin.replace(/\*\//g, '* /')} */`, staticDefinition(k.definition), '']),
    `struct ${fn.type} { float *weights, *prepared, *acts; };`, '',
    `${fn.type} *${fn.load}(const float *weights) {`,
    `  ${fn.type} *m = malloc(sizeof *m);`,
    '  if (!m) return 0;',
    `  m->weights = ls_alloc(sizeof(float) * ${Math.max(wFloats, 1)});`,
    `  memcpy(m->weights, weights, sizeof(float) * ${wFloats});`,
    `  m->prepared = ls_alloc(sizeof(float) * ${Math.max(pFloats, 1)});`,
    `  m->acts = ls_alloc(sizeof(float) * ${Math.max(arena.floats, 1)});`,
    ...loads,
    '  return m;',
    '}', '',
    '#include <time.h>',
    'static double ls_clock(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }',
    '#define LS_LAYER(i, call) do { double t0_ = t ? ls_clock() : 0; call; if (t) t[i] += ls_clock() - t0_; } while (0)',
    `static void ${base}_layers(${fn.type} *m, const float *input, float *output, double *t) {`,
    ...calls,
    '}', '',
    `void ${fn.run}(${fn.type} *m, const float *input, float *output) { ${base}_layers(m, input, output, 0); }`, '',
    `void ${fn.profile}(${fn.type} *m, const float *input, float *output, double *layer_seconds) { ${base}_layers(m, input, output, layer_seconds); }`, '',
    `void ${fn.free}(${fn.type} *m) {`,
    '  if (!m) return;',
    '  ls_free(m->weights); ls_free(m->prepared); ls_free(m->acts); free(m);',
    '}', '',
  ].join('\n');
  return { source, header, constants, weightFloats: wFloats, layers: g.layers.length, usesOpenMP: [...rendered.values()].some((r) => r.k.usesOpenMP), functions: fn };
}

/**
 * Offsets of the intermediate tensors in one arena: a tensor lives from the layer that writes it to
 * the last layer that reads it; each takes the first gap that fits among those alive.
 */
export function planArena(g: ModelGraph): { offset: Map<string, number>; floats: number } {
  const last = new Map<string, number>();
  g.layers.forEach((l, i) => {
    for (const src of Object.values(l.inputs)) if ('tensor' in src) last.set(src.tensor, i);
  });
  const offset = new Map<string, number>();
  const live: { name: string; start: number; end: number; until: number }[] = [];
  let floats = 0;
  g.layers.forEach((l, i) => {
    // Inputs read by this layer for the last time stay alive through it: a kernel's output must not
    // overlap what it reads.
    for (let j = live.length - 1; j >= 0; j--) if (live[j]!.until < i) live.splice(j, 1);
    if (l.output === g.output.name) return;
    const size = up(g.tensors.get(l.output)!);
    live.sort((a, b) => a.start - b.start);
    let at = 0;
    for (const b of live) {
      if (b.start - at >= size) break;
      at = Math.max(at, b.end);
    }
    offset.set(l.output, at);
    live.push({ name: l.output, start: at, end: at + size, until: last.get(l.output) ?? i });
    floats = Math.max(floats, at + size);
  });
  return { offset, floats };
}

const count = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
