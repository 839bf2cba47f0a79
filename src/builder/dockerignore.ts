// .dockerignore with moby/patternmatcher semantics: patterns are anchored at the
// context root, `*`/`?`/`[..]` stay within one name, `**` spans names, `!`
// re-includes, the last matching line wins, and a pattern matching a directory
// matches everything below it.
import { NboxError } from '../errors';
import { cleanPath, globRegExp } from './glob';

/** IgnoreMatcher answers which context paths (relative, '/'-separated) a .dockerignore excludes. */
export interface IgnoreMatcher {
  /** excludes tells whether the path is left out of the context, by its own pattern or a parent directory's. */
  excludes(relPath: string): boolean;
  /** mayReincludeUnder tells whether an exception could re-include something below an excluded directory, so a walker must descend into it. */
  mayReincludeUnder(relDir: string): boolean;
  /** excludesNothing: no pattern, so the context directory is the context as it is. */
  readonly excludesNothing: boolean;
}

interface Pattern {
  /** The cleaned pattern without its `!`. */
  text: string;
  exception: boolean;
  matches: (path: string) => boolean;
}

const UTF8_BOM = '\ufeff';

// The characters patternmatcher escapes: special to regexps, plain in patterns.
const GO_ESCAPED = new Set('.+()|{}$');

/** parseDockerignore reads .dockerignore text into patterns as moby's ignorefile.ReadAll does. */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  for (const rawLine of text.replace(UTF8_BOM, '').split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    // Only a `#` in the first column starts a comment.
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const exception = pattern.startsWith('!');
    if (exception) pattern = pattern.slice(1).trim();
    if (pattern !== '') {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(exception ? `!${pattern}` : pattern);
  }
  return patterns;
}

/** ignoreMatcher compiles patterns (as parseDockerignore returns them); invalid ones throw ERR_NBOX_BUILD. */
export function ignoreMatcher(patterns: string[]): IgnoreMatcher {
  const compiled = patterns.map((pattern) => pattern.trim()).filter((pattern) => pattern !== '').map(compilePattern);
  const exceptions = compiled.filter((pattern) => pattern.exception);
  return {
    excludesNothing: compiled.length === 0,
    excludes(relPath) {
      const path = cleanPath(relPath);
      if (path === '.' || compiled.length === 0) return false;
      const ancestors = ancestorPaths(path);
      let excluded = false;
      for (const pattern of compiled) {
        if (pattern.matches(path) || ancestors.some(pattern.matches)) excluded = !pattern.exception;
      }
      return excluded;
    },
    mayReincludeUnder(relDir) {
      const names = cleanPath(relDir).split('/');
      return exceptions.some((pattern) => couldMatchBelow(pattern.text, names));
    },
  };
}

// The proper ancestors of a relative path: a/b/c -> [a, a/b].
function ancestorPaths(path: string): string[] {
  const names = path.split('/');
  return names.slice(0, -1).map((_, at) => names.slice(0, at + 1).join('/'));
}

// couldMatchBelow tells whether a pattern might match some path inside dir:
// each of its leading names must match dir's names, until a `**` (which can
// span anything) or until the pattern reaches below dir.
function couldMatchBelow(pattern: string, dirNames: string[]): boolean {
  const patternNames = pattern.split('/');
  for (const [at, patternName] of patternNames.entries()) {
    if (patternName.includes('**') || at >= dirNames.length) return true;
    if (!globRegExp(patternName).test(dirNames[at])) return false;
  }
  // The pattern matches dir or one of its parents itself.
  return true;
}

function compilePattern(raw: string): Pattern {
  let text = cleanPath(raw);
  const exception = text.startsWith('!');
  if (exception) {
    if (text.length === 1) throw new NboxError('ERR_NBOX_BUILD', 'illegal exclusion pattern: "!"');
    text = text.slice(1);
  }
  // filepath.Match's syntax check, which patternmatcher runs on every pattern.
  globRegExp(text);
  return { text, exception, matches: patternPredicate(text) };
}

// patternPredicate ports patternmatcher's Pattern.compile: exact, prefix (`dir/**`)
// and suffix (`**/name`) shortcuts, else a regular expression. The shortcuts are
// not mere optimisations: `**file` is a suffix match, so it also matches `xfile`.
function patternPredicate(pattern: string): (path: string) => boolean {
  type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';
  const chars = [...pattern];
  let type: MatchType = 'exact';
  let source = '^';
  for (let at = 0; at < chars.length; at++) {
    const char = chars[at];
    const first = at === 0;
    if (char === '*' && chars[at + 1] === '*') {
      at++;
      // `**/` is the same as `**`.
      if (chars[at + 1] === '/') at++;
      if (at + 1 >= chars.length) {
        if (type === 'exact') type = 'prefix';
        else {
          source += '.*';
          type = 'regexp';
        }
      } else {
        source += '(.*/)?';
        type = 'regexp';
      }
      if (first) type = 'suffix';
    } else if (char === '*') {
      source += '[^/]*';
      type = 'regexp';
    } else if (char === '?') {
      source += '[^/]';
      type = 'regexp';
    } else if (char === '\\') {
      // A backslash escapes the next character; a trailing one stands for itself.
      if (at + 1 < chars.length) {
        source += escapedLiteral(chars[++at]);
        type = 'regexp';
      } else source += '\\\\';
    } else if (char === '[' || char === ']') {
      source += char;
      type = 'regexp';
    } else source += GO_ESCAPED.has(char) ? `\\${char}` : char;
  }

  switch (type) {
    case 'exact':
      return (path) => path === pattern;
    case 'prefix': {
      const prefix = pattern.slice(0, -2);
      return (path) => path.startsWith(prefix);
    }
    case 'suffix': {
      const suffix = pattern.slice(2);
      // `**/foo` also matches `foo` at the root.
      return (path) => path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
    }
    case 'regexp': {
      const regexp = new RegExp(`${source}$`, 'u');
      return (path) => regexp.test(path);
    }
  }
}

// escapedLiteral is `\c` for a character that is special to RegExp, else the
// character itself (a JavaScript `u` RegExp rejects escapes like `\a`).
function escapedLiteral(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}
