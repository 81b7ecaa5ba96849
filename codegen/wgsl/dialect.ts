import { DType, isFloat } from '../../ir/dtype.js';
import { Code, Syntax, atom, literal } from '../cstyle/code.js';
import { Builtin, Dialect, decimalF32 } from '../cstyle/dialect.js';
import { Reserved } from '../cstyle/names.js';

const syntax = new Syntax(true);

/** The builtin parameters every entry point declares. */
export const BUILTIN_PARAMS = { workgroup: 'wid', local: 'lid', index: 'lidx', groups: 'nwg' } as const;

/**
 * WGSL keywords, its reserved words, the predeclared types and functions a kernel uses, and the
 * entry points' builtin parameters.
 */
export const WGSL_RESERVED: Reserved = {
  words: new Set([
    'alias', 'break', 'case', 'const', 'const_assert', 'continue', 'continuing', 'default', 'diagnostic', 'discard', 'else',
    'enable', 'false', 'fn', 'for', 'if', 'let', 'loop', 'override', 'requires', 'return', 'struct', 'switch', 'true', 'var', 'while',
    'NULL', 'Self', 'abstract', 'active', 'alignas', 'alignof', 'as', 'asm', 'asm_fragment', 'async', 'attribute', 'auto', 'await',
    'become', 'cast', 'catch', 'class', 'co_await', 'co_return', 'co_yield', 'coherent', 'column_major', 'common', 'compile',
    'compile_fragment', 'concept', 'const_cast', 'consteval', 'constexpr', 'constinit', 'crate', 'debugger', 'decltype', 'delete',
    'demote', 'demote_to_helper', 'do', 'dynamic_cast', 'enum', 'explicit', 'export', 'extends', 'extern', 'external', 'fallthrough',
    'filter', 'final', 'finally', 'friend', 'from', 'fxgroup', 'get', 'goto', 'groupshared', 'highp', 'impl', 'implements', 'import',
    'inline', 'instanceof', 'interface', 'layout', 'lowp', 'macro', 'macro_rules', 'match', 'mediump', 'meta', 'mod', 'module',
    'move', 'mut', 'mutable', 'namespace', 'new', 'nil', 'noexcept', 'noinline', 'nointerpolation', 'non_coherent', 'noncoherent',
    'noperspective', 'null', 'nullptr', 'of', 'operator', 'package', 'packoffset', 'partition', 'pass', 'patch', 'pixelfragment',
    'precise', 'precision', 'premerge', 'priv', 'protected', 'pub', 'public', 'readonly', 'ref', 'regardless', 'register',
    'reinterpret_cast', 'require', 'resource', 'restrict', 'self', 'set', 'shared', 'sizeof', 'smooth', 'snorm', 'static',
    'static_assert', 'static_cast', 'std', 'subroutine', 'super', 'target', 'template', 'this', 'thread_local', 'throw', 'trait',
    'try', 'type', 'typedef', 'typeid', 'typename', 'typeof', 'union', 'unless', 'unorm', 'unsafe', 'unsized', 'use', 'using',
    'varying', 'virtual', 'volatile', 'wgsl', 'where', 'with', 'writeonly', 'yield',
    'array', 'atomic', 'bool', 'f16', 'f32', 'i32', 'u32', 'ptr', 'vec2', 'vec3', 'vec4',
    'abs', 'bitcast', 'exp', 'max', 'min', 'select', 'sqrt', 'workgroupBarrier',
    ...Object.values(BUILTIN_PARAMS),
  ]),
  // `main_` names the entry points.
  prefixes: ['ls_', 'main_'],
  patterns: [/^(vec[234][ifhu]|mat[234]x[234][fh]?)$/],
};

const BUILTINS: Record<Builtin, (int: boolean, args: readonly Code[]) => Code> = {
  relu: (int, [a]) => syntax.call('max', a!, int ? literal('0i') : literal('0.0f')),
  exp: (_, [a]) => syntax.call('exp', a!),
  sqrt: (_, [a]) => syntax.call('sqrt', a!),
  abs: (_, [a]) => syntax.call('abs', a!),
  min: (_, [a, b]) => syntax.call('min', a!, b!),
  max: (_, [a, b]) => syntax.call('max', a!, b!),
};

export const WGSL_DIALECT: Dialect = {
  syntax,
  reserved: WGSL_RESERVED,
  intLiteral: (v) => literal(`${v}i`),
  // Beyond f32's range a decimal literal would not compile: spell the extremes by their bits.
  floatLiteral: (v) => (Math.abs(v) >= 3.4e38 ? atom(`bitcast<f32>(${v > 0 ? '0x7f7fffffu' : '0xff7fffffu'})`) : literal(decimalF32(v))),
  cast: (to: DType, a) => syntax.call(isFloat(to) ? 'f32' : 'i32', a),
  // select() evaluates both sides; an out-of-range load in the unused one is safe in WebGPU,
  // whose buffer accesses are bounds-checked by the implementation.
  select: (c, t, e) => syntax.call('select', e, t, c),
  builtin: (f, int, ...args) => BUILTINS[f](int, args),
};

export const WGSL_PRELUDE = [
  '// floor division and its remainder: index arithmetic means the same as in the loop IR',
  'fn ls_fdiv(a: i32, b: i32) -> i32 { let q = a / b; if ((a % b != 0) && ((a < 0) != (b < 0))) { return q - 1; } return q; }',
  'fn ls_fmod(a: i32, b: i32) -> i32 { let r = a % b; if ((r != 0) && ((r < 0) != (b < 0))) { return r + b; } return r; }',
  '',
];
