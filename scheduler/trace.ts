import { TraceFormatError } from './errors.js';
import { StepFields } from './primitive.js';
import { PRIMITIVES, Step, definition } from './primitives/index.js';

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

function parseStep(raw: unknown, i: number): Step {
  const where = `step ${i}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TraceFormatError(`${where} is not an object`);
  const o = raw as Record<string, unknown>;
  const def = definition(new StepFields(o, where).oneOf('prim', PRIMITIVES));
  const extra = Object.keys(o).filter((k) => k !== 'prim' && !(def.fields as readonly string[]).includes(k));
  if (extra.length) throw new TraceFormatError(`${where} (${def.prim}): unknown field '${extra[0]}'; ${def.prim} takes ${def.fields.join(', ')}`);
  return def.parse(new StepFields(o, `${where} (${def.prim})`));
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
  const o = raw as Record<string, unknown>;
  if (o.version !== TRACE_VERSION) throw new TraceFormatError(`schedule version ${JSON.stringify(o.version)} is not supported; this loopsmith reads version ${TRACE_VERSION}`);
  if (!Array.isArray(o.steps)) throw new TraceFormatError('schedule has no "steps" list');
  if (o.steps.length > MAX_TRACE_STEPS) throw new TraceFormatError(`schedule has ${o.steps.length} steps; at most ${MAX_TRACE_STEPS} are allowed`);
  if (o.workload !== undefined && typeof o.workload !== 'string') throw new TraceFormatError('schedule field "workload" must be a workload key string');
  const steps = o.steps.map(parseStep);
  return trace(steps, o.workload as string | undefined);
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
