import { DType, isFloat } from '../../ir/dtype.js';
import { Code, Syntax, literal } from '../cstyle/code.js';
import { Builtin, Dialect, decimalF32 } from '../cstyle/dialect.js';
import { Reserved } from '../cstyle/names.js';

const syntax = new Syntax(false);

/**
 * C11 keywords, the library functions a kernel calls (a local of that name would hide them), and
 * the object-like macros of the headers it includes or a GNU mode predefines.
 */
export const C_RESERVED: Reserved = {
  words: new Set([
    'auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double', 'else', 'enum', 'extern', 'float', 'for',
    'goto', 'if', 'inline', 'int', 'long', 'register', 'restrict', 'return', 'short', 'signed', 'sizeof', 'static', 'struct',
    'switch', 'typedef', 'union', 'unsigned', 'void', 'volatile', 'while', 'main',
    'abort', 'abs', 'aligned_alloc', 'expf', 'fabsf', 'free', 'memcpy', 'sqrtf',
    'NULL', 'NAN', 'INFINITY', 'RAND_MAX', 'MB_CUR_MAX', 'EXIT_SUCCESS', 'EXIT_FAILURE', 'errno', 'math_errhandling',
    'linux', 'unix', 'i386',
  ]),
  prefixes: ['ls_'],
  patterns: [/^u?int(8|16|32|64|ptr|max|_least\d+|_fast\d+)_t$/, /^U?INT\w*_(MAX|MIN|C)$/, /^(SIZE|PTRDIFF|SIG_ATOMIC|WCHAR|WINT)_(MAX|MIN)$/, /^(M|FP|HUGE|MATH)_/],
};

const BUILTINS: Record<Builtin, (int: boolean, args: readonly Code[]) => Code> = {
  relu: (_, [a]) => syntax.call('ls_relu', a!),
  exp: (_, [a]) => syntax.call('expf', a!),
  sqrt: (_, [a]) => syntax.call('sqrtf', a!),
  abs: (int, [a]) => syntax.call(int ? 'abs' : 'fabsf', a!),
  min: (int, [a, b]) => (int ? syntax.ternary(syntax.infix('<', a!, b!), a!, b!) : syntax.call('ls_minf', a!, b!)),
  max: (int, [a, b]) => (int ? syntax.ternary(syntax.infix('>', a!, b!), a!, b!) : syntax.call('ls_maxf', a!, b!)),
};

export const C_DIALECT: Dialect = {
  syntax,
  reserved: C_RESERVED,
  intLiteral: (v) => literal(String(v)),
  floatLiteral: (v) => literal(decimalF32(v)),
  cast: (to: DType, a) => syntax.prefix(isFloat(to) ? '(float)' : '(int)', a),
  select: (c, t, e) => syntax.ternary(c, t, e),
  builtin: (f, int, ...args) => BUILTINS[f](int, args),
};

/** Scalar helpers, then per vector width its type and the lane-wise helpers vector statements use. */
export function cPrelude(widths: readonly number[]): string[] {
  return [
    '#define _POSIX_C_SOURCE 200809L /* clock_gettime, for the harness */',
    '#include <stdint.h>',
    '#include <stdlib.h>',
    '#include <string.h>',
    '#include <math.h>',
    '',
    '/* floor division and its remainder: index arithmetic means the same as in the loop IR */',
    'static inline int ls_fdiv(int a, int b) { int q = a / b; return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q; }',
    'static inline int ls_fmod(int a, int b) { int r = a % b; return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }',
    'static inline float ls_relu(float x) { return x > 0.0f ? x : 0.0f; }',
    'static inline float ls_maxf(float a, float b) { return a > b ? a : b; }',
    'static inline float ls_minf(float a, float b) { return a < b ? a : b; }',
    '/* scratch, 64-byte aligned by hand: glibc\'s aligned_alloc leaves a free fragment before each block, so',
    '   for a kernel\'s first calls its packs landed on fresh pages (page faults: a packed conv3d ran 30 %',
    '   slower for five calls); plain malloc reuses the block it freed on the call before */',
    'static inline float *ls_alloc(size_t bytes) { char *p = malloc(bytes + 64); if (!p) abort(); char *a = p + 64 - ((uintptr_t)p & 63); memcpy(a - sizeof p, &p, sizeof p); return (float *)a; }',
    'static inline void ls_free(float *a) { char *p; memcpy(&p, (char *)a - sizeof p, sizeof p); free(p); }',
    ...widths.flatMap(vectorHelpers),
    '',
  ];
}

function vectorHelpers(n: number): string[] {
  const v = `ls_v${n}`;
  return [
    `typedef float ${v} __attribute__((vector_size(${n * 4})));`,
    `static inline ${v} ls_load${n}(const float *p) { ${v} v; memcpy(&v, p, sizeof v); return v; }`,
    `static inline void ls_store${n}(float *p, ${v} v) { memcpy(p, &v, sizeof v); }`,
    `static inline ${v} ls_splat${n}(float x) { return (${v}){ ${Array(n).fill('x').join(', ')} }; }`,
    // Lane-wise max and min as a compare mask and a blend (`a > b ? a : b` lane by lane, NaN and
    // signed zeros as the scalar code has them): one compare and one blend per vector. Written as a
    // loop over lanes, gcc 12 scalarized them at 16 lanes (a compare, min and blend per float, plus
    // shuffles): every ReLU/ReLU6 epilogue of an AVX-512 kernel ran at a fraction of its speed.
    `typedef int ${v}i __attribute__((vector_size(${n * 4})));`,
    `static inline ${v} ls_vmax${n}(${v} a, ${v} b) { ${v}i m = a > b; return (${v})((m & (${v}i)a) | (~m & (${v}i)b)); }`,
    `static inline ${v} ls_vmin${n}(${v} a, ${v} b) { ${v}i m = a < b; return (${v})((m & (${v}i)a) | (~m & (${v}i)b)); }`,
  ];
}
