/**
 * The one validation layer: every input that crosses a boundary (argv values, schedule files,
 * records lines, build manifests, farm jobs and results, saved models, plugin modules) is parsed by
 * one zod schema of its kind, declared beside the code that owns the kind, so the CLI, the worker,
 * the build step and the library give the same input the same verdict. This module holds what the
 * schemas share: strict objects whose unknown fields name the nearest known one, safe integers,
 * and the rendering of a failure as one line ("kernels[0].shedule: unknown field; did you mean
 * `schedule`?"). Why zod (v4): see docs/design.md, "One validation layer".
 */
import { z } from 'zod';

export { z };

/** Edit distance with adjacent transpositions (`stpes` is one edit from `steps`), for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known word closest to `word`, when it is close enough to be a typo (or differs only in case or separators). */
export function nearest(word: string, known: readonly string[]): string | undefined {
  const plain = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const same = known.find((k) => plain(k) === plain(word));
  if (same) return same;
  let best: string | undefined, bestD = Infinity;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** "did you mean x? " (the name as a user would type it: `prefix` + word) when one known word is close, else ''. */
export function didYouMean(word: string, known: readonly string[], prefix = ''): string {
  const near = nearest(word, known);
  return near ? `did you mean ${prefix}${near}? ` : '';
}

/** "did you mean `x`?" when one known word is close, else the list of known words. */
export function suggestion(word: string, known: readonly string[], what = 'fields'): string {
  const near = nearest(word, known);
  return near ? `did you mean \`${near}\`?` : `${what}: ${known.join(', ')}`;
}

/**
 * An object with exactly these fields: an unknown one is an error that names the nearest known
 * field (a typo must never pass for an absent optional field).
 */
export function fields<S extends z.ZodRawShape>(shape: S): z.ZodObject<S, z.core.$strict> {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return undefined;
      const [first, ...more] = iss.keys;
      const also = more.length ? ` (and ${more.map((k) => `\`${k}\``).join(', ')})` : '';
      return `unknown field \`${first}\`${also}; ${suggestion(first!, known)}`;
    },
  });
}

/** A whole number JSON and JavaScript hold exactly (|n| < 2^53): a larger one was already rounded. */
export const safeInt = z.int();
export const positiveInt = z.int().min(1);
export const nonNegativeInt = z.int().min(0);
/** A finite number (NaN and Infinity do not survive JSON). */
export const finite = z.number();
export const nonEmpty = z.string().min(1);

const WORDS: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'an integer', object: 'an object', array: 'a list', boolean: 'true or false',
  function: 'a function', bigint: 'an integer', null: 'null', undefined: 'nothing',
};

/** A value as it appears in a message: JSON, cut short. */
export function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'function') return 'a function';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    // Too deep for JSON.stringify (or circular): String() recurses as deeply, so name the kind.
    s = Array.isArray(v) ? 'a list nested too deeply to show' : 'an object nested too deeply to show';
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `kernels[2].params.m` from a root label and a zod path. */
export function pathOf(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function bound(iss: { origin?: string; inclusive?: boolean }, n: number | bigint, more: boolean): string {
  const kind = iss.origin;
  if (kind === 'array' || kind === 'set') return `must have ${more ? 'at least' : 'at most'} ${n} item${n === 1 ? '' : 's'}`;
  if (kind === 'string') return n === 1 && more ? 'must not be empty' : `must have ${more ? 'at least' : 'at most'} ${n} characters`;
  if (!more && Number(n) === Number.MAX_SAFE_INTEGER) return 'must be a safe integer (below 2^53; larger numbers lose digits)';
  if (more && Number(n) === Number.MIN_SAFE_INTEGER) return 'must be a safe integer (above -2^53; larger numbers lose digits)';
  return `must be ${more ? (iss.inclusive === false ? 'more than' : 'at least') : iss.inclusive === false ? 'less than' : 'at most'} ${n}`;
}

/** zod's own wording: a schema that words its errors itself (an `error` option) is quoted as it is. */
const ZOD_WORDS = /^(Invalid|Too (big|small)|Unrecognized|Expected|Input not)/;

/** One issue in words (without its path). */
function words(iss: z.core.$ZodIssue): string {
  const input = (iss as { input?: unknown }).input;
  if (!ZOD_WORDS.test(iss.message) && iss.code !== 'invalid_union') return iss.message;
  switch (iss.code) {
    case 'invalid_type':
      // zod's own kinds (`nonoptional` for a field of any type) are not words: the field is simply missing.
      if (input === undefined) return WORDS[iss.expected] ? `is required (${WORDS[iss.expected]})` : 'is required';
      return `must be ${WORDS[iss.expected] ?? iss.expected}, got ${shown(input)}`;
    case 'too_small':
      return `${bound(iss, iss.minimum, true)}, got ${shown(Array.isArray(input) ? input.length : input)}${Array.isArray(input) ? ' items' : ''}`;
    case 'too_big':
      return `${bound(iss, iss.maximum, false)}, got ${shown(Array.isArray(input) ? input.length : input)}${Array.isArray(input) ? ' items' : ''}`;
    case 'invalid_value': {
      const legal = iss.values.map((v) => (typeof v === 'string' ? v : shown(v)));
      const near = typeof input === 'string' ? nearest(input, legal) : undefined;
      return `must be ${legal.length === 1 ? legal[0] : `one of ${legal.join(', ')}`}, got ${shown(input)}${near ? `; did you mean \`${near}\`?` : ''}`;
    }
    case 'invalid_union': {
      const d = (iss as { discriminator?: string; options?: unknown[] }).discriminator;
      const options = ((iss as { options?: unknown[] }).options ?? []).map(String);
      if (d && options.length) {
        const got = input && typeof input === 'object' ? (input as Record<string, unknown>)[d] : undefined;
        const near = typeof got === 'string' ? nearest(got, options) : undefined;
        return got === undefined ? `is required (one of ${options.join(', ')})` : `must be one of ${options.join(', ')}, got ${shown(got)}${near ? `; did you mean \`${near}\`?` : ''}`;
      }
      return iss.message.startsWith('Invalid input') ? `does not match any legal form, got ${shown(input)}` : iss.message;
    }
    default:
      return iss.message;
  }
}

/**
 * The failure as one line: the most telling issue (an unknown field first: it usually explains a
 * missing one) with its path, and how many more there are.
 */
export function problemOf(err: z.ZodError, root = ''): string {
  const issues = err.issues;
  const first = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const where = pathOf(root, first.path);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return `${where ? `${where}: ` : ''}${words(first)}${more}`;
}

/** Parses `raw`; a failure is `fail(one line)` (which throws the caller's error class). */
export function parseWith<T>(schema: z.ZodType<T>, raw: unknown, root: string, fail: (message: string) => never): T {
  const r = schema.safeParse(raw, { reportInput: true });
  if (r.success) return r.data;
  return fail(problemOf(r.error, root));
}

/** Parses `raw`; the result, or the one line that says what is wrong. */
export function check<T>(schema: z.ZodType<T>, raw: unknown, root = ''): { ok: true; value: T } | { ok: false; problem: string } {
  const r = schema.safeParse(raw, { reportInput: true });
  return r.success ? { ok: true, value: r.data } : { ok: false, problem: problemOf(r.error, root) };
}

/** JSON text parsed, or the parser's complaint in one line. */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, problem: `is not valid JSON (${(e as Error).message.split('\n')[0]})` };
  }
}

/**
 * Command-line values: text that must read as a number JavaScript holds exactly. Exponents are
 * fine (`1e6`) as long as the value is a safe integer: `--trials 1e99` is refused, not rounded.
 */
// Decimal only: Number() would also read '0x10' as 16 and '0b11' as 3, which operator parameters refuse.
const numberText = z.string().trim().regex(/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i).transform(Number).pipe(z.number());

/** A safe integer of at least `min` (and at most `max`), from command-line text. */
export function integerText(min: number, max = Number.MAX_SAFE_INTEGER): z.ZodType<number, unknown> {
  return z.union([numberText, z.number()]).pipe(z.int().min(min).max(max)) as unknown as z.ZodType<number, unknown>;
}

/** A finite number above `above` (seconds, factors), from command-line text. */
export function numberAbove(above: number): z.ZodType<number, unknown> {
  return z.union([numberText, z.number()]).pipe(z.number().gt(above)) as unknown as z.ZodType<number, unknown>;
}

/**
 * One option's value parsed by `schema`; a failure (or the option given twice) is one line naming
 * the flag, what is legal and what was given. `fail` throws the caller's error class.
 */
export function argument<T>(flag: string, raw: unknown, schema: z.ZodType<T, unknown>, legal: string, fail: (message: string) => never): T {
  if (Array.isArray(raw)) return fail(`--${flag} given more than once (${raw.map((v) => `'${String(v)}'`).join(', ')}); give it once`);
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  return fail(`--${flag} must be ${legal}, got '${String(raw)}'`);
}
