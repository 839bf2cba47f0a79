// Shell glob patterns of `${x#p}`, `${x%p}` and `${x/p/r}`, matched the way
// BuildKit's frontend/dockerfile/shell does: `*` is any string, `?` one
// character, `\` escapes `*`, `?` and `\`; there are no bracket expressions.

/** PatternError is a pattern that cannot be turned into a matcher; expand.ts reports it at the instruction's line. */
export class PatternError extends Error {}

const REGEX_SPECIALS = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

/** shellPatternToRegExp compiles a pattern; greedy makes `*` match the longest string, anchored pins it to the start. */
export function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const chars = Array.from(pattern);
  let source = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') {
      source += greedy ? '.*' : '.*?';
    } else if (ch === '?') {
      source += '.';
    } else if (ch === '\\') {
      // `}` and `/` are escaped only to get them past the `${...}` lexer; the
      // escape is not part of the pattern.
      if (chars[i + 1] === '}' || chars[i + 1] === '/') continue;
      const next = chars[++i];
      if (next !== '*' && next !== '?' && next !== '\\') throw new PatternError(`invalid escape '\\${next ?? ''}'`);
      source += `\\${next}`;
    } else {
      source += REGEX_SPECIALS.has(ch) ? `\\${ch}` : ch;
    }
  }
  // `u` so that `?` and `.` consume a whole code point, as Go's regexp does.
  return new RegExp(source, 'u');
}

/** trimPattern removes the shortest (or, greedy, longest) prefix or suffix of value matching pattern. */
export function trimPattern(value: string, pattern: string, side: 'prefix' | 'suffix', greedy: boolean): string {
  if (side === 'prefix') return trimPrefix(value, pattern, greedy);
  // A regular expression cannot find the shortest rightmost match, so both the
  // pattern and the value are reversed to make it a leftmost one.
  return reverseString(trimPrefix(reverseString(value), reversePattern(pattern), greedy));
}

/** replacePattern replaces the first (or every) longest match of pattern in value by a literal replacement;
 * null when the result would be longer than maxLength (replacing every match can multiply a value's length). */
export function replacePattern(value: string, pattern: string, replacement: string, all: boolean, maxLength = Infinity): string | null {
  const re = shellPatternToRegExp(pattern, true, false);
  if (!all) {
    const match = re.exec(value);
    const out = match ? value.slice(0, match.index) + replacement + value.slice(match.index + match[0].length) : value;
    return out.length > maxLength ? null : out;
  }
  const global = new RegExp(re.source, 'gu');
  let out = '';
  let copied = 0;
  let previousEnd = -1;
  for (let from = 0; from <= value.length; ) {
    global.lastIndex = from;
    const match = global.exec(value);
    if (!match) break;
    const start = match.index;
    const end = start + match[0].length;
    // Go skips an empty match that abuts the previous match; JS would not.
    if (!(start === end && start === previousEnd)) {
      out += value.slice(copied, start) + replacement;
      if (out.length > maxLength) return null;
      copied = end;
      previousEnd = end;
    }
    from = end > start ? end : start + (start < value.length ? String.fromCodePoint(value.codePointAt(start) ?? 0).length : 1);
  }
  out += value.slice(copied);
  return out.length > maxLength ? null : out;
}

function trimPrefix(value: string, pattern: string, greedy: boolean): string {
  const match = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return match ? value.slice(match[0].length) : value;
}

// reversePattern reverses a pattern but keeps each escape before the character it escapes (`a\*c` → `c\*a`).
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = new Array<string>(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last; ) {
    if (chars[i] === '\\' && i !== last) {
      out[last - i - 1] = '\\';
      out[last - i] = chars[i + 1];
      i += 2;
    } else {
      out[last - i] = chars[i];
      i++;
    }
  }
  return out.join('');
}

function reverseString(value: string): string {
  return Array.from(value).reverse().join('');
}
