// Go's path/filepath.Match on one path, as COPY/ADD source wildcards use it,
// plus Go's path.Clean: both are what Docker feeds its patterns through.
import { NboxError } from '../errors';

// Characters that must be escaped to stand for themselves in a RegExp (u flag);
// `-` only inside a class, where escaping it is also the only place it is allowed.
const REGEXP_SYNTAX = new Set('\\^$.*+?()[]{}|/');

/** cleanPath is Go's path.Clean: one slash between names, no `.`, `..` resolved lexically, no trailing slash, '.' when empty. */
export function cleanPath(path: string): string {
  const rooted = path.startsWith('/');
  const names: string[] = [];
  for (const name of path.split('/')) {
    if (name === '' || name === '.') continue;
    if (name !== '..') names.push(name);
    else if (names.length > 0 && names[names.length - 1] !== '..') names.pop();
    else if (!rooted) names.push('..');
  }
  const joined = names.join('/');
  return rooted ? `/${joined}` : joined || '.';
}

/** hasWildcards tells whether a pattern (or one path name) uses `*`, `?` or `[`, ignoring backslash-escaped ones, as Go's copier does. */
export function hasWildcards(pattern: string): boolean {
  for (let at = 0; at < pattern.length; at++) {
    if (pattern[at] === '\\') at++;
    else if ('*?['.includes(pattern[at])) return true;
  }
  return false;
}

/** globRegExp compiles a filepath.Match pattern; `*`, `?` and classes never match '/'. Throws on Go's ErrBadPattern cases. */
export function globRegExp(pattern: string): RegExp {
  const chars = [...pattern];
  let source = '';
  for (let at = 0; at < chars.length; at++) {
    const char = chars[at];
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') at = compileClass(chars, at, pattern, (classSource) => (source += classSource));
    else if (char === '\\') {
      if (++at >= chars.length) throw badPattern(pattern);
      source += escapeChar(chars[at], false);
    } else source += escapeChar(char, false);
  }
  return new RegExp(`^${source}$`, 'u');
}

/** globMatch is filepath.Match(pattern, name). */
export function globMatch(pattern: string, name: string): boolean {
  return globRegExp(pattern).test(name);
}

// compileClass reads `[...]` starting at chars[open] with Go's rules (ranges,
// `^` negation, backslash escapes, no empty class, no bare `-`), emits a RegExp
// class and returns the index of the closing bracket.
function compileClass(chars: string[], open: number, pattern: string, emit: (source: string) => void): number {
  let at = open + 1;
  let source = '[';
  if (chars[at] === '^') {
    source += '^/';
    at++;
  }
  let ranges = 0;
  for (;;) {
    if (at >= chars.length) throw badPattern(pattern);
    if (chars[at] === ']' && ranges > 0) break;
    const low = classChar(chars, at, pattern);
    at = low.next;
    let range = escapeChar(low.char, true);
    if (chars[at] === '-') {
      const high = classChar(chars, at + 1, pattern);
      if (high.char < low.char) throw badPattern(pattern);
      range += `-${escapeChar(high.char, true)}`;
      at = high.next;
    }
    source += range;
    ranges++;
  }
  emit(source.startsWith('[^') ? `${source}]` : `(?!/)${source}]`);
  return at;
}

function classChar(chars: string[], at: number, pattern: string): { char: string; next: number } {
  const char = chars[at];
  if (char === undefined || char === '-' || char === ']') throw badPattern(pattern);
  if (char !== '\\') return { char, next: at + 1 };
  if (at + 1 >= chars.length) throw badPattern(pattern);
  return { char: chars[at + 1], next: at + 2 };
}

function escapeChar(char: string, inClass: boolean): string {
  return REGEXP_SYNTAX.has(char) || (inClass && char === '-') ? `\\${char}` : char;
}

function badPattern(pattern: string): NboxError {
  return new NboxError('ERR_NBOX_BUILD', `syntax error in pattern: ${pattern}`);
}
