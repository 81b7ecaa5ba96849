/** Identifiers a dialect keeps for itself: keywords, library names, generated helpers. */
export interface Reserved {
  readonly words: ReadonlySet<string>;
  /** Prefixes of generated identifiers (`ls_` helpers, entry points). */
  readonly prefixes: readonly string[];
  /** Families of names a header or the language keeps (macros such as `INT32_MAX`). */
  readonly patterns: readonly RegExp[];
}

/**
 * The identifiers of one kernel scope (a C function, a WGSL module): buffers, loop variables and
 * the names derived from them all come from one `Names`, so no two ever meet. Whatever an IR name
 * holds (dots, quotes, comment markers), the result is letters, digits and underscores only, never
 * reserved by the dialect, and stable for the same name.
 */
export class Names {
  private readonly byKey = new Map<string, string>();
  private readonly taken = new Set<string>();

  constructor(private readonly reserved: Reserved) {}

  /** The identifier of buffer `name`. */
  buffer(name: string): string {
    return this.allocate(`b:${name}`, name);
  }

  /** The identifier of loop variable `name` (a loop and a buffer may share an IR name, never an identifier). */
  variable(name: string): string {
    return this.allocate(`v:${name}`, name);
  }

  /** An identifier the renderer itself introduces (a function name), as close to `wanted` as is free. */
  own(wanted: string): string {
    return this.allocate(`o:${wanted}`, wanted);
  }

  /** An identifier of its own for a part of buffer `name` (a register of a tile), spelt `<its identifier>_<suffix>`. */
  derived(name: string, suffix: string): string {
    return this.allocate(`d:${name}\u0000${suffix}`, `${this.buffer(name)}_${suffix}`);
  }

  private allocate(key: string, wanted: string): string {
    const known = this.byKey.get(key);
    if (known) return known;
    let base = wanted.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_').replace(/^_+|_+$/g, '');
    if (base === '' || /^[0-9]/.test(base) || this.isReserved(base)) base = `v_${base}`;
    let id = base;
    for (let n = 2; this.taken.has(id); n++) id = `${base}_${n}`;
    this.taken.add(id);
    this.byKey.set(key, id);
    return id;
  }

  private isReserved(id: string): boolean {
    const r = this.reserved;
    return r.words.has(id) || r.prefixes.some((p) => id.startsWith(p)) || r.patterns.some((p) => p.test(id));
  }
}
