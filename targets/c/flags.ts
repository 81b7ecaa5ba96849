import { InputError } from '../../ir/errors.js';

/**
 * Splits `--cflags` the way a shell would split a command line: at unquoted white space, with
 * '...' (literal), "..." (backslash escapes \" and \\) and a backslash outside quotes; nothing is
 * expanded. A flag given twice contributes its words in order. An unterminated quote is refused.
 */
export function parseCFlags(value: unknown): string[] {
  const parts = Array.isArray(value) ? value.map(String) : [String(value)];
  return parts.flatMap(splitWords);
}

function splitWords(s: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) word += s[++i];
      else word += ch;
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word ??= '';
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '\\' && i + 1 < s.length) word += s[++i];
      else word += ch;
    }
  }
  if (quote) throw new InputError(`--cflags has an unterminated ${quote} quote: ${s}; quote each flag that holds spaces, e.g. --cflags "-O2 -DNAME='a b'"`);
  if (word !== undefined) words.push(word);
  return words;
}
