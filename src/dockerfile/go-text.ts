// Go's notion of white space and its %q quoting. The parser splits and trims
// exactly where BuildKit's Go code does, and dump.ts quotes exactly as Go's
// strconv.Quote, so nbox's golden results compare byte for byte with BuildKit's.

// unicode.IsSpace: ASCII \t \n \v \f \r space, U+0085, U+00A0 and the Z categories.
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;
// unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const C_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** isSpace tells whether one character is white space to Go's unicode.IsSpace. */
export function isSpace(ch: string): boolean {
  return GO_SPACE.test(ch);
}

/** trimLeftSpace drops leading white space, as Go's bytes.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeftSpace(text: string): string {
  let start = 0;
  while (start < text.length && isSpace(text[start])) start++;
  return text.slice(start);
}

/** trimSpace drops white space at both ends, as Go's strings.TrimSpace. */
export function trimSpace(text: string): string {
  let end = text.length;
  while (end > 0 && isSpace(text[end - 1])) end--;
  return trimLeftSpace(text.slice(0, end));
}

/** goQuote renders text as Go's strconv.Quote (`%q`) does. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (GO_PRINTABLE.test(ch)) out += ch;
    else if (C_ESCAPES[ch] !== undefined) out += C_ESCAPES[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    else if (code < 0x10000) out += `\\u${hex(code, 4)}`;
    else out += `\\U${hex(code, 8)}`;
  }
  return `${out}"`;
}

/** goQuoteList renders a list as Go's `%q` of a []string: `["a" "b"]`. */
export function goQuoteList(items: readonly string[]): string {
  return `[${items.map(goQuote).join(' ')}]`;
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}
