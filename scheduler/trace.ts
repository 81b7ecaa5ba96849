import { fields, nonEmpty, parseJsonText, parseWith, shown, z } from '../ir/schema.js';
import { TraceFormatError } from './errors.js';
import { PRIMITIVES, REGISTRY, Step, definition } from './primitives/index.js';

/**
 * A schedule is a trace: the primitives applied, in order, with their arguments. Loops are named
 * by their variables, which every primitive derives deterministically (`i` splits into `i.0`,
 * `i.1`, ...), so a trace replays onto a freshly lowered program and gives the same IR.
 */
export { PRIMITIVES };
export type { Primitive, Step } from './primitives/index.js';
export { TAIL_STRATEGIES, type TailStrategy } from './primitives/split.js';

export const TRACE_VERSION = 1;

/**
 * Replay cost grows with the depth of the nest and every split deepens it (1,000 chained splits
 * take over a minute); the tuner's and the expert schedules have a few dozen steps at most.
 */
export const MAX_TRACE_STEPS = 256;

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
  readonly field: string;
  readonly value: readonly number[];
}

export function decisions(t: Trace): Decision[] {
  const out: Decision[] = [];
  t.steps.forEach((s, i) => {
    const slot = definition(s.prim).decision;
    const value = slot?.get(s);
    if (slot && value) out.push({ step: i, field: slot.field, value });
  });
  return out;
}

export function withDecision(t: Trace, step: number, value: readonly number[]): Trace {
  const steps = t.steps.map((s, i) => {
    if (i !== step) return s;
    const slot = definition(s.prim).decision;
    if (!slot) throw new TraceFormatError(`step ${step} (${s.prim}) has no decision to change`);
    return slot.set(s, value);
  });
  return { ...t, steps };
}

export function traceToJSON(t: Trace): string {
  return JSON.stringify(t, null, 2);
}

/** One step of a trace: its `prim` picks the primitive's schema (scheduler/primitive.ts). */
// The registry's schemas, as the tuple zod's union wants; each gives its own step type.
const STEP = z.discriminatedUnion('prim', REGISTRY.map((d) => d.schema) as unknown as [z.ZodObject, ...z.ZodObject[]]) as unknown as z.ZodType<Step>;

/** A trace as JSON: `{"version": 1, "workload"?: key, "steps": [...]}`, every step checked. */
export const TRACE_SCHEMA: z.ZodType<Trace> = fields({
  version: z.literal(TRACE_VERSION, { error: (iss) => (iss.input === undefined ? `is required (${TRACE_VERSION})` : `${shown(iss.input)} is not supported; this loopsmith reads version ${TRACE_VERSION}`) }),
  workload: nonEmpty.optional(),
  steps: z.array(STEP).max(MAX_TRACE_STEPS, { error: (iss) => `at most ${MAX_TRACE_STEPS} steps are allowed, got ${Array.isArray(iss.input) ? iss.input.length : '?'}` }),
}).transform((t) => trace(t.steps, t.workload));

/** A trace from parsed JSON; a malformed one raises TraceFormatError with one line. */
export function traceFromJson(raw: unknown): Trace {
  if (Array.isArray(raw)) throw new TraceFormatError('a schedule is an object {"version": 1, "steps": [...]}, not a list');
  return parseWith(TRACE_SCHEMA, raw, '', (m) => {
    // A step's problem names its primitive too: "steps[2] (split).factors: ...".
    const named = m.replace(/^steps\[(\d+)\]/, (at, i: string) => {
      const prim = (raw as { steps?: { prim?: unknown }[] }).steps?.[Number(i)]?.prim;
      return typeof prim === 'string' && (PRIMITIVES as readonly string[]).includes(prim) ? `${at} (${prim})` : at;
    });
    // "schedule steps[0] (split): ..." for a field's problem, "schedule: unknown field ..." for the object's own.
    throw new TraceFormatError(`schedule${/^(steps|version|workload)\b/.test(named) ? ' ' : ': '}${named}`);
  });
}

/** Parses a trace from JSON text; a malformed one raises TraceFormatError with one line. */
export function parseTrace(text: string): Trace {
  const json = parseJsonText(text);
  if (!json.ok) throw new TraceFormatError(`schedule ${json.problem}`);
  return traceFromJson(json.value);
}

/** Builder arguments are strings, numbers and lists of them, printed as JSON with spaced lists. */
const literal = (v: unknown): string => (Array.isArray(v) ? `[${v.map(literal).join(', ')}]` : JSON.stringify(v));

/**
 * The trace as calls on a `Schedule` builder (scheduler/schedule.ts), for reading and for pasting
 * into code: each line is `s.<prim>(...)` with the arguments the primitive's `args` gives.
 */
export function traceToTypeScript(t: Trace): string {
  const line = (s: Step) => `s.${s.prim}(${definition(s.prim).args(s).map(literal).join(', ')});`;
  const head = t.workload ? `// schedule for ${t.workload}\n` : '';
  return head + t.steps.map(line).join('\n');
}
