/**
 * One C file for many CPUs: a variant per vector ISA level (each rendered for its own vector width
 * and compiled for its ISA through target pragmas, so the file needs no -march), a portable scalar
 * fallback, and a dispatcher that picks the widest variant the CPU supports once, at load time.
 */
import { Program } from '../ir/program.js';
import { lowerForCodegen } from './lower.js';
import { CKernel, renderC, staticDefinition } from './c/render.js';
import { C_RESERVED, cPrelude } from './c/dialect.js';
import { Names } from './cstyle/names.js';
import { OPENMP_NOTE, cHeader, cSignature } from './c/header.js';
import type { Artifacts } from './artifacts.js';

/** The ISA levels a variant may be tuned for, widest first: the dispatcher tries them in this order. */
export const ISA_LEVELS = ['avx512', 'avx2', 'sse', 'neon'] as const;
export type IsaLevel = (typeof ISA_LEVELS)[number];

interface IsaRule {
  readonly lanes: number;
  /** Guards the variant's code: the compilers and architectures that can build it. */
  readonly compiles: string;
  /** The target pragma's feature list; none when the ISA is the architecture's baseline. */
  readonly features?: string;
  /** Run-time test (x86 only); none when compiling it at all implies the CPU has it. */
  readonly supports?: readonly string[];
}

const X86 = '(defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))';

const RULES: Readonly<Record<IsaLevel, IsaRule>> = {
  avx512: { lanes: 16, compiles: X86, features: 'avx512f,avx512vl,avx2,fma', supports: ['avx512f', 'avx512vl', 'avx2', 'fma'] },
  avx2: { lanes: 8, compiles: X86, features: 'avx2,fma', supports: ['avx2', 'fma'] },
  sse: { lanes: 4, compiles: 'defined(__SSE2__)' },
  neon: { lanes: 4, compiles: 'defined(__ARM_NEON)' },
};

export function isIsaLevel(isa: string): isa is IsaLevel {
  return (ISA_LEVELS as readonly string[]).includes(isa);
}

export interface IsaVariant {
  readonly isa: IsaLevel;
  readonly program: Program;
  readonly traceHash: string;
  /** Where it was tuned: the device and the record, for the file's comments. */
  readonly origin: string;
}

export interface IsaDispatchInfo {
  readonly name: string;
  readonly workload: string;
}

/**
 * Generated helpers and vector types all begin with `ls_`, a prefix no other identifier may take
 * (codegen/c/dialect.ts reserves it), so a variant's own copies can be renamed by pattern.
 */
// `ls_v16i` is the vector of ints a compare yields (the max/min masks).
const VECTOR_HELPER = /\bls_(v|load|store|splat|vmax|vmin)(\d+)(i?)\b/g;
const own = (text: string, isa: string) => text.replace(VECTOR_HELPER, `ls_${isa}_$1$2$3`);

function pragmas(features: string): { push: string[]; pop: string[] } {
  return {
    push: ['#if defined(__clang__)', `#pragma clang attribute push (__attribute__((target("${features}"))), apply_to = function)`, '#else', '#pragma GCC push_options', `#pragma GCC target("${features}")`, '#endif'],
    pop: ['#if defined(__clang__)', '#pragma clang attribute pop', '#else', '#pragma GCC pop_options', '#endif'],
  };
}

/** A variant's vector types and helpers under its own names, then its function. */
function section(k: CKernel, isa: IsaLevel, v: IsaVariant): string[] {
  const rule = RULES[isa];
  const helpers = cPrelude(k.vectorWidths).filter((l) => new RegExp(VECTOR_HELPER.source).test(l));
  const { push, pop } = rule.features ? pragmas(rule.features) : { push: [], pop: [] };
  return [
    `/* ${isa}: ${rule.lanes} f32 lanes; schedule ${v.traceHash} (${v.origin}) */`,
    `#if ${rule.compiles}`,
    '#define LS_HAVE_' + isa.toUpperCase() + ' 1',
    ...push,
    ...helpers.map((l) => own(l, isa)),
    staticDefinition(own(k.definition, isa)).trimEnd(),
    ...pop,
    '#endif',
    '',
  ];
}

/**
 * The .c and .h for `variants` (at most one per ISA level) and `fallback` (the scalar kernel).
 * The public function calls through a pointer set by a constructor; `LOOPSMITH_ISA=<level>` in the
 * environment asks for a level (when the CPU has it), and `<name>_variant()` says which one runs.
 */
export function isaDispatchArtifacts(variants: readonly IsaVariant[], fallback: { program: Program; traceHash: string }, info: IsaDispatchInfo): Artifacts {
  const name = new Names(C_RESERVED).own(info.name);
  const seen = new Set<string>();
  for (const v of variants) {
    if (seen.has(v.isa)) throw new Error(`two ${v.isa} variants of ${info.workload}; one per ISA level`);
    seen.add(v.isa);
  }
  const ordered = ISA_LEVELS.flatMap((isa) => variants.filter((v) => v.isa === isa));
  // Constant inputs (prepack): each variant has its own prepare function and prepared block, chosen with it.
  const kernels = ordered.map((v) => ({ v, k: renderC(lowerForCodegen(v.program, undefined, { prepare: true }), `${name}_${v.isa}`, { lanes: RULES[v.isa].lanes }) }));
  const scalar = renderC(lowerForCodegen(fallback.program, undefined, { prepare: true }), `${name}_scalar`, { lanes: 1 });
  const params = scalar.params;
  // The prepared block's size is each variant's own; names and roles are the interface.
  const shape = (k: CKernel) => JSON.stringify([k.params.map((q) => [q.name, q.cName, q.role, q.role === 'prepared' ? [] : q.shape]), k.prepare?.params.map((q) => [q.name, q.role])]);
  for (const { v, k } of kernels) {
    if (shape(k) !== shape(scalar)) throw new Error(`the ${v.isa} variant of ${info.workload} has other parameters than the fallback`);
  }
  const signature = cSignature(params);
  const args = params.map((q) => q.cName).join(', ');
  const prep = scalar.prepare;
  const prepSignature = prep ? cSignature(prep.params) : '';
  const prepArgs = prep ? prep.params.map((q) => q.cName).join(', ') : '';
  const floatsOf = (k: CKernel) => k.prepare?.floats ?? 0;
  const usesOpenMP = scalar.usesOpenMP || kernels.some(({ k }) => k.usesOpenMP);
  const banner = [
    `// generated by loopsmith from ${info.workload}`,
    `// variants: ${[...ordered.map((v) => `${v.isa} (schedule ${v.traceHash}, ${v.origin})`), `scalar (schedule ${fallback.traceHash})`].join('; ')}`,
    '// do not edit, regenerate with `loopsmith emit --devices` or `loopsmith build`',
  ];
  const header = cHeader({
    banner, name, workload: info.workload, params: params.filter((q) => q.role !== 'prepared'),
    notes: [
      `Variants for ${[...ordered.map((v) => v.isa), 'a scalar fallback'].join(', ')}: the widest the CPU supports is chosen once,`,
      'when the program loads; set LOOPSMITH_ISA=<level> (or scalar) to ask for another one.',
      ...(prep ? [
        `${prep.params.filter((q) => q.role === 'input').map((q) => q.name).join(', ')} constant (prepack): allocate ${name}_prepared_floats() floats (64-byte aligned; the variant's own size),`,
        `call ${name}_prepare() once after loading them, then pass that block to every ${name}() call.`,
      ] : []),
      'Compile with -O3 and without -march: each variant is built for its own ISA (GCC or Clang).',
      OPENMP_NOTE(usesOpenMP),
    ],
    declarations: [
      ...(prep ? [
        '#include <stddef.h>',
        `/** Floats of the prepared block of the variant that runs. */`,
        `size_t ${name}_prepared_floats(void);`,
        `void ${name}_prepare(${prepSignature});`,
      ] : []),
      `void ${name}(${signature});`,
      `/** The variant that runs: ${[...ordered.map((v) => `"${v.isa}"`), '"scalar"'].join(', ')}. */`,
      `const char *${name}_variant(void);`,
    ],
  });
  const prelude = cPrelude([]).filter((l) => !l.startsWith('#define _POSIX_C_SOURCE'));
  const pick = kernels.map(({ v: { isa }, k }) => {
    const rule = RULES[isa];
    const has = rule.supports ? rule.supports.map((f) => `__builtin_cpu_supports("${f}")`).join(' && ') : '1';
    return [
      `#ifdef LS_HAVE_${isa.toUpperCase()}`,
      `  if (${has}) {`,
      `    if (!best) { best = ${name}_${isa}; best_name = "${isa}";${prep ? ` best_prepare = ${name}_${isa}_prepare; best_floats = ${floatsOf(k)};` : ''} }`,
      `    if (want && strcmp(want, "${isa}") == 0) { ${name}_impl = ${name}_${isa}; ${name}_name = "${isa}";${prep ? ` ${name}_prepare_impl = ${name}_${isa}_prepare; ${name}_floats = ${floatsOf(k)};` : ''} return; }`,
      '  }',
      '#endif',
    ].join('\n');
  });
  const x86 = ordered.some(({ isa }) => RULES[isa].supports);
  const source = [
    ...banner,
    `#include "${name}.h"`,
    ...prelude,
    ...kernels.flatMap(({ v, k }) => section(k, v.isa, v)),
    `/* scalar: portable C, the loop nest as lowered (schedule ${fallback.traceHash}) */`,
    staticDefinition(scalar.definition).trimEnd(),
    '',
    `static void (*${name}_impl)(${signature}) = ${name}_scalar;`,
    `static const char *${name}_name = "scalar";`,
    ...(prep ? [`static void (*${name}_prepare_impl)(${prepSignature}) = ${name}_scalar_prepare;`, `static size_t ${name}_floats = ${floatsOf(scalar)};`] : []),
    '',
    '/* Once, before main: the widest variant this CPU supports, or the one LOOPSMITH_ISA names if it does. */',
    `__attribute__((constructor)) static void ${name}_choose(void) {`,
    `  const char *want = getenv("LOOPSMITH_ISA");`,
    `  void (*best)(${signature}) = 0;`,
    '  const char *best_name = 0;',
    ...(prep ? [`  void (*best_prepare)(${prepSignature}) = 0;`, '  size_t best_floats = 0;'] : []),
    ...(x86 ? ['#if defined(__x86_64__) || defined(__i386__)', '  __builtin_cpu_init();', '#endif'] : []),
    ...pick,
    `  if (want && strcmp(want, "scalar") == 0) return;`,
    `  if (best) { ${name}_impl = best; ${name}_name = best_name;${prep ? ` ${name}_prepare_impl = best_prepare; ${name}_floats = best_floats;` : ''} }`,
    '}',
    '',
    ...(prep ? [
      `size_t ${name}_prepared_floats(void) { return ${name}_floats; }`,
      `void ${name}_prepare(${prepSignature}) { ${name}_prepare_impl(${prepArgs}); }`,
    ] : []),
    `void ${name}(${signature}) { ${name}_impl(${args}); }`,
    `const char *${name}_variant(void) { return ${name}_name; }`,
    '',
  ].join('\n');
  return { [`${name}.h`]: header, [`${name}.c`]: source };
}
