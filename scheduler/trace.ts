import { GPU_AXES, GpuAxis, MemScope } from '../ir/loop.js';
import { TraceFormatError } from './errors.js';

/**
 * A schedule is a trace: the primitives applied, in order, with their arguments. Loops are named
 * by their variables, which every primitive derives deterministically (`i` splits into `i.0`,
 * `i.1`, ...), so a trace replays onto a freshly lowered program and gives the same IR.
 */
export type TailStrategy = 'guard' | 'requireDivisible' | 'pad';
export const TAIL_STRATEGIES: readonly TailStrategy[] = ['guard', 'requireDivisible', 'pad'];

export type Step =
  | { readonly prim: 'split'; readonly loop: string; readonly factors: readonly number[]; readonly tail: TailStrategy }
  | { readonly prim: 'tile'; readonly loops: readonly string[]; readonly factors: readonly number[]; readonly tail: TailStrategy }
  | { readonly prim: 'reorder'; readonly loops: readonly string[] }
  | { readonly prim: 'fuse'; readonly outer: string; readonly inner: string }
  | { readonly prim: 'vectorize'; readonly loop: string }
  | { readonly prim: 'unroll'; readonly loop: string; readonly factor?: number }
  | { readonly prim: 'parallel'; readonly loop: string }
  | { readonly prim: 'bind'; readonly loop: string; readonly axis: GpuAxis }
  | { readonly prim: 'cacheRead'; readonly buffer: string; readonly scope: Exclude<MemScope, 'global'>; readonly at: string }
  | { readonly prim: 'cacheWrite'; readonly buffer: string; readonly scope: Exclude<MemScope, 'global'>; readonly at: string };

export type Primitive = Step['prim'];
export const PRIMITIVES: readonly Primitive[] = ['split', 'tile', 'reorder', 'fuse', 'vectorize', 'unroll', 'parallel', 'bind', 'cacheRead', 'cacheWrite'];

export const TRACE_VERSION = 1;

export interface Trace {
  readonly version: typeof TRACE_VERSION;
  /** The workload key the trace was written for; replay onto another workload is refused. */
  readonly workload?: string;
  readonly steps: readonly Step[];
}

export function trace(steps: readonly Step[], workload?: string): Trace {
  return workload === undefined ? { version: TRACE_VERSION, steps } : { version: TRACE_VERSION, workload, steps };
}

/**
 * The decisions of a trace: the numbers a search may change without changing its structure
 * (split and tile factors, unroll factors). `withDecision` replaces one and keeps the rest.
 */
export interface Decision {
  readonly step: number;
  readonly field: 'factors' | 'factor';
  readonly value: readonly number[];
}

export function decisions(t: Trace): Decision[] {
  const out: Decision[] = [];
  t.steps.forEach((s, i) => {
    if (s.prim === 'split' || s.prim === 'tile') out.push({ step: i, field: 'factors', value: s.factors });
    if (s.prim === 'unroll' && s.factor !== undefined) out.push({ step: i, field: 'factor', value: [s.factor] });
  });
  return out;
}

export function withDecision(t: Trace, step: number, value: readonly number[]): Trace {
  const steps = t.steps.map((s, i) => {
    if (i !== step) return s;
    if (s.prim === 'split' || s.prim === 'tile') return { ...s, factors: [...value] };
    if (s.prim === 'unroll') return { ...s, factor: value[0]! };
    throw new TraceFormatError(`step ${step} (${s.prim}) has no decision to change`);
  });
  return { ...t, steps };
}

export function traceToJSON(t: Trace): string {
  return JSON.stringify(t, null, 2);
}

// --- parsing: every field is checked, so a malformed file gets one precise line ---

type Json = Record<string, unknown>;

function field<T>(o: Json, name: string, where: string, check: (v: unknown) => v is T, expected: string): T {
  const v = o[name];
  if (!check(v)) throw new TraceFormatError(`${where}: field '${name}' must be ${expected}, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isInteger(x));
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every(isStr);
const oneOf = <T extends string>(xs: readonly T[]) => (v: unknown): v is T => typeof v === 'string' && (xs as readonly string[]).includes(v);

const FIELDS: Record<Primitive, readonly string[]> = {
  split: ['loop', 'factors', 'tail'], tile: ['loops', 'factors', 'tail'], reorder: ['loops'], fuse: ['outer', 'inner'],
  vectorize: ['loop'], unroll: ['loop', 'factor'], parallel: ['loop'], bind: ['loop', 'axis'],
  cacheRead: ['buffer', 'scope', 'at'], cacheWrite: ['buffer', 'scope', 'at'],
};

function parseStep(raw: unknown, i: number): Step {
  const where = `step ${i}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TraceFormatError(`${where} is not an object`);
  const o = raw as Json;
  const prim = field(o, 'prim', where, oneOf(PRIMITIVES), `one of ${PRIMITIVES.join(', ')}`);
  const w = `${where} (${prim})`;
  const extra = Object.keys(o).filter((k) => k !== 'prim' && !FIELDS[prim].includes(k));
  if (extra.length) throw new TraceFormatError(`${w}: unknown field '${extra[0]}'; ${prim} takes ${FIELDS[prim].join(', ')}`);
  const tail = () => field(o, 'tail', w, oneOf(TAIL_STRATEGIES), `one of ${TAIL_STRATEGIES.join(', ')}`);
  const scope = () => field(o, 'scope', w, oneOf(['local', 'workgroup'] as const), 'local or workgroup');
  switch (prim) {
    case 'split':
      return { prim, loop: field(o, 'loop', w, isStr, 'a loop name'), factors: field(o, 'factors', w, isIntList, 'a list of integers'), tail: tail() };
    case 'tile':
      return { prim, loops: field(o, 'loops', w, isStrList, 'a list of loop names'), factors: field(o, 'factors', w, isIntList, 'a list of integers'), tail: tail() };
    case 'reorder':
      return { prim, loops: field(o, 'loops', w, isStrList, 'a list of loop names') };
    case 'fuse':
      return { prim, outer: field(o, 'outer', w, isStr, 'a loop name'), inner: field(o, 'inner', w, isStr, 'a loop name') };
    case 'vectorize':
    case 'parallel':
      return { prim, loop: field(o, 'loop', w, isStr, 'a loop name') };
    case 'unroll':
      return o.factor === undefined
        ? { prim, loop: field(o, 'loop', w, isStr, 'a loop name') }
        : { prim, loop: field(o, 'loop', w, isStr, 'a loop name'), factor: field(o, 'factor', w, isPosInt, 'a positive integer') };
    case 'bind':
      return { prim, loop: field(o, 'loop', w, isStr, 'a loop name'), axis: field(o, 'axis', w, oneOf(GPU_AXES), `one of ${GPU_AXES.join(', ')}`) };
    case 'cacheRead':
    case 'cacheWrite':
      return { prim, buffer: field(o, 'buffer', w, isStr, 'a buffer name'), scope: scope(), at: field(o, 'at', w, isStr, 'a loop name') };
  }
}

/** Parses a trace from JSON text; a malformed one raises TraceFormatError with one line. */
export function parseTrace(text: string): Trace {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TraceFormatError(`schedule is not valid JSON (${(e as Error).message})`);
  }
  // A bare list of steps is accepted too: it is what people write by hand.
  if (Array.isArray(raw)) raw = { version: TRACE_VERSION, steps: raw };
  if (typeof raw !== 'object' || raw === null) throw new TraceFormatError('schedule must be a JSON object {"version": 1, "steps": [...]}');
  const o = raw as Json;
  if (o.version !== TRACE_VERSION) throw new TraceFormatError(`schedule version ${JSON.stringify(o.version)} is not supported; this loopsmith reads version ${TRACE_VERSION}`);
  if (!Array.isArray(o.steps)) throw new TraceFormatError('schedule has no "steps" list');
  if (o.workload !== undefined && typeof o.workload !== 'string') throw new TraceFormatError('schedule field "workload" must be a workload key string');
  const steps = o.steps.map(parseStep);
  return trace(steps, o.workload as string | undefined);
}

const q = (s: string) => JSON.stringify(s);

/** The trace as TypeScript calls on a schedule builder, for reading and for pasting into code. */
export function traceToTypeScript(t: Trace): string {
  const line = (s: Step): string => {
    switch (s.prim) {
      case 'split': return `s.split(${q(s.loop)}, [${s.factors.join(', ')}], ${q(s.tail)});`;
      case 'tile': return `s.tile([${s.loops.map(q).join(', ')}], [${s.factors.join(', ')}], ${q(s.tail)});`;
      case 'reorder': return `s.reorder([${s.loops.map(q).join(', ')}]);`;
      case 'fuse': return `s.fuse(${q(s.outer)}, ${q(s.inner)});`;
      case 'vectorize': case 'parallel': return `s.${s.prim}(${q(s.loop)});`;
      case 'unroll': return s.factor === undefined ? `s.unroll(${q(s.loop)});` : `s.unroll(${q(s.loop)}, ${s.factor});`;
      case 'bind': return `s.bind(${q(s.loop)}, ${q(s.axis)});`;
      case 'cacheRead': case 'cacheWrite': return `s.${s.prim}(${q(s.buffer)}, ${q(s.scope)}, ${q(s.at)});`;
    }
  };
  const head = t.workload ? `// schedule for ${t.workload}\n` : '';
  return head + t.steps.map(line).join('\n');
}
