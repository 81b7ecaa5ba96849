const C_KEYWORDS = new Set([
  'auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double', 'else', 'enum', 'extern', 'float', 'for',
  'goto', 'if', 'inline', 'int', 'long', 'register', 'restrict', 'return', 'short', 'signed', 'sizeof', 'static', 'struct',
  'switch', 'typedef', 'union', 'unsigned', 'void', 'volatile', 'while', 'main',
]);

/**
 * C identifiers for IR names. Whatever a name holds (dots, quotes, comment markers), the result is
 * letters, digits and underscores only, never a keyword and never reserved (`ls_` is ours), and
 * two IR names never map to the same identifier.
 */
export class Names {
  private readonly byName = new Map<string, string>();
  private readonly taken = new Set<string>();

  constructor(private readonly prefix = '') {}

  get(name: string): string {
    const known = this.byName.get(name);
    if (known) return known;
    let base = this.prefix + name.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_').replace(/^_+|_+$/g, '');
    if (base === '' || /^[0-9]/.test(base)) base = `v_${base}`;
    if (C_KEYWORDS.has(base) || base.startsWith('ls_') || base.startsWith('__')) base = `v_${base}`;
    let id = base;
    for (let n = 2; this.taken.has(id); n++) id = `${base}_${n}`;
    this.taken.add(id);
    this.byName.set(name, id);
    return id;
  }
}
