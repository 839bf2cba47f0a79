// Variable substitution and word splitting with Docker's rules: a port of
// BuildKit's frontend/dockerfile/shell lexer (ProcessWord / ProcessWords).
// Quotes are removed, `$x` and `${x…}` forms are expanded, the escape
// character escapes; nothing is executed.

import { DockerfileError } from '../errors';
import { goQuote, isSpace } from './go-text';
import { PatternError, replacePattern, trimPattern } from './shell-pattern';

/** EscapeChar is the Dockerfile's escape and line-continuation character (`# escape=`). */
export type EscapeChar = '\\' | '`';

/** ExpandOptions says where the word comes from (for errors) and how to lex it. */
export interface ExpandOptions {
  line: number;
  file?: string;
  escapeChar?: EscapeChar;
  /** keepUnset leaves references to unset variables as written instead of expanding them to empty. */
  keepUnset?: boolean;
  /** rawQuotes keeps quote characters in the result. */
  rawQuotes?: boolean;
  /** rawEscapes keeps escape characters in the result. */
  rawEscapes?: boolean;
  /** plainQuotes makes quotes ordinary characters, as in COPY/ADD heredoc bodies. */
  plainQuotes?: boolean;
  /** budget is shared by the expansions of one stage: what variables add to its words, in all, is capped. */
  budget?: ExpansionBudget;
}

/** MAX_WORD_LENGTH caps one expanded word: far more than an environment string may hold (128 KiB), while
 * nested ARGs (B=$A$A$A…, C=$B$B$B…) would grow past memory within a few lines. */
export const MAX_WORD_LENGTH = 1 << 20;

/** MAX_STAGE_EXPANSION caps what variable expansion adds to the words of one build stage, all together. */
export const MAX_STAGE_EXPANSION = 16 << 20;

/** ExpansionBudget is what one stage's expansions may still add. */
export interface ExpansionBudget {
  remaining: number;
}

/** expansionBudget starts a stage's budget. */
export function expansionBudget(): ExpansionBudget {
  return { remaining: MAX_STAGE_EXPANSION };
}

/** Expansion is one word processed: the joined value, its split words, and the variables it looked up. */
export interface Expansion {
  value: string;
  words: string[];
  used: Set<string>;
  unset: Set<string>;
}

/** expand processes word with env (BuildKit's ProcessWordWithMatches plus ProcessWords); errors are DockerfileErrors at options.line. */
export function expand(word: string, env: ReadonlyMap<string, string>, options: ExpandOptions): Expansion {
  const lexer = new Lexer(word, env, options);
  const fail = (message: string) => new DockerfileError({ line: options.line, file: options.file, message });
  let result: { value: string; words: string[] };
  try {
    result = lexer.processUntil('', options.rawEscapes ?? false);
  } catch (err) {
    if (err instanceof TooLong) throw fail(`variable expansion too long: a word may expand to at most ${MAX_WORD_LENGTH} characters`);
    if (!(err instanceof LexError)) throw err;
    throw fail(`failed to process ${goQuote(word)}: ${err.message}`);
  }
  if (options.budget) {
    options.budget.remaining -= Math.max(0, result.value.length - word.length);
    if (options.budget.remaining < 0) throw fail(`variable expansion too long: the words of a stage may grow by at most ${MAX_STAGE_EXPANSION} characters in all`);
  }
  return { ...result, used: lexer.used, unset: lexer.unset };
}

/** expandWord substitutes variables in word and removes its quotes, keeping spaces (ProcessWord). */
export function expandWord(word: string, env: ReadonlyMap<string, string>, options: ExpandOptions): string {
  return expand(word, env, options).value;
}

/** expandWords substitutes variables and splits the result into words at unquoted white space (ProcessWords). */
export function expandWords(word: string, env: ReadonlyMap<string, string>, options: ExpandOptions): string[] {
  return expand(word, env, options).words;
}

/** checkWordSyntax throws the DockerfileError that expanding word would, for errors that do not depend on values (quotes, `${}`). */
export function checkWordSyntax(word: string, options: ExpandOptions): void {
  expand(word, NO_VARIABLES, { ...options, keepUnset: true });
}

const NO_VARIABLES: ReadonlyMap<string, string> = new Map();
// Deeper nesting than any real Dockerfile has, well short of the JS stack.
const MAX_NESTING = 256;

class LexError extends Error {}
// TooLong is a word whose expansion passed MAX_WORD_LENGTH; thrown as soon as it does, before it grows further.
class TooLong extends Error {}

function capped(text: string): string {
  if (text.length > MAX_WORD_LENGTH) throw new TooLong();
  return text;
}

// WordSplitter collects words as BuildKit's wordsStruct does: expanded text
// splits at white space, quoted and escaped text never does.
class WordSplitter {
  readonly words: string[] = [];
  private current = '';
  private inWord = false;

  addChar(ch: string): void {
    if (!isSpace(ch)) this.addRaw(ch);
    else if (this.inWord && this.current !== '') {
      this.words.push(this.current);
      this.current = '';
      this.inWord = false;
    }
  }

  addExpanded(text: string): void {
    for (const ch of text) this.addChar(ch);
  }

  addRaw(text: string): void {
    this.current += text;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.current !== '') this.words.push(this.current);
    this.current = '';
    this.inWord = false;
    return this.words;
  }
}

class Lexer {
  readonly used = new Set<string>();
  readonly unset = new Set<string>();
  private readonly chars: string[];
  private readonly escape: EscapeChar;
  private readonly keepUnset: boolean;
  private readonly rawQuotes: boolean;
  private readonly plainQuotes: boolean;
  private rawEscapes: boolean;
  private pos = 0;
  private depth = 0;

  constructor(
    word: string,
    private readonly env: ReadonlyMap<string, string>,
    options: ExpandOptions,
  ) {
    this.chars = Array.from(word);
    this.escape = options.escapeChar ?? '\\';
    this.keepUnset = options.keepUnset ?? false;
    this.rawQuotes = options.rawQuotes ?? false;
    this.plainQuotes = options.plainQuotes ?? false;
    this.rawEscapes = options.rawEscapes ?? false;
  }

  // processUntil reads up to the stop character ('' = end of input), which it consumes.
  processUntil(stop: string, rawEscapes: boolean): { value: string; words: string[] } {
    if (++this.depth > MAX_NESTING) throw new LexError('substitutions nested too deeply');
    const savedRawEscapes = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let value = '';
      const words = new WordSplitter();
      while (this.peek() !== '') {
        const ch = this.peek();
        if (stop !== '' && ch === stop) {
          this.next();
          return { value, words: words.finish() };
        }
        if (ch === '$') {
          const text = this.processDollar();
          value = capped(value + text);
          words.addExpanded(text);
        } else if (ch === '<' || (!this.plainQuotes && (ch === "'" || ch === '"'))) {
          const text = ch === '<' ? this.processPossibleHeredoc() : ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
          // Only what went through $ can grow a word past the text it was written as.
          value = ch === '"' ? capped(value + text) : value + text;
          words.addRaw(text);
        } else {
          let plain = this.next();
          if (plain === this.escape) {
            if (this.rawEscapes) {
              words.addRaw(plain);
              value += plain;
            }
            // The escape escapes anything, except that a trailing one is dropped.
            plain = this.next();
            if (plain === '') break;
            words.addRaw(plain);
          } else {
            words.addChar(plain);
          }
          value += plain;
        }
      }
      if (stop !== '') throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { value, words: words.finish() };
    } finally {
      this.rawEscapes = savedRawEscapes;
      this.depth--;
    }
  }

  private peek(): string {
    return this.chars[this.pos] ?? '';
  }

  private next(): string {
    const ch = this.chars[this.pos] ?? '';
    if (ch !== '') this.pos++;
    return ch;
  }

  // processSingleQuote takes everything up to the next ' as is; nothing escapes inside.
  private processSingleQuote(): string {
    let out = this.rawQuotes ? this.next() : (this.next(), '');
    for (;;) {
      const ch = this.next();
      if (ch === '') throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return this.rawQuotes ? out + ch : out;
      out += ch;
    }
  }

  // processDoubleQuote expands $ and lets the escape protect only ", $ and itself, as sh does.
  private processDoubleQuote(): string {
    let out = this.rawQuotes ? this.next() : (this.next(), '');
    for (;;) {
      const peeked = this.peek();
      if (peeked === '') throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (peeked === '"') return this.rawQuotes ? out + this.next() : (this.next(), out);
      if (peeked === '$') {
        out = capped(out + this.processDollar());
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) out += ch;
        const after = this.peek();
        if (after === '') continue;
        if (after === '"' || after === '$' || after === this.escape) ch = this.next();
      }
      out += ch;
    }
  }

  // processPossibleHeredoc keeps `<<` and the blanks after it together in one word.
  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let out = '<<';
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') out += this.next();
    return out;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.lookup(name);
      if (value === undefined) return this.keepUnset ? `$${name}` : '';
      return value;
    }
    this.next();
    const first = this.peek();
    if (first === '') throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.processName();
    const ch = this.next();
    if (ch === '') throw new LexError("syntax error: missing '}'");
    if (ch === '}') {
      const value = this.lookup(name);
      if (value === undefined) return this.keepUnset ? `\${${name}}` : '';
      return value;
    }
    if (ch === '/') return this.processReplace(name);
    const nullIsUnset = ch === ':';
    const operator = nullIsUnset ? this.next() : ch;
    const modifier = nullIsUnset ? `:${operator}` : operator;
    if (operator === '') throw new LexError("syntax error: missing '}'");
    const isPattern = operator === '#' || operator === '%';
    if (!'+-?#%'.includes(operator) || (nullIsUnset && isPattern)) throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    let word = this.processNested('}', isPattern, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (value === undefined && this.keepUnset) return `\${${name}${modifier}${word}}`;
    const empty = value === undefined || (nullIsUnset && value === '');
    switch (operator) {
      case '-':
        return empty ? word : (value ?? '');
      case '+':
        return empty ? '' : word;
      case '?':
        if (value === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (empty) throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default: {
        // # and %; doubled (## or %%) they ask for the longest match.
        const greedy = word.startsWith(operator);
        if (greedy) word = word.slice(1);
        return this.withPattern(word, () => trimPattern(value ?? '', word, operator === '#' ? 'prefix' : 'suffix', greedy));
      }
    }
  }

  // processReplace handles ${name/pattern/replacement} and ${name//pattern/replacement}.
  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.processNested('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.processNested('}', true, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (value === undefined && this.keepUnset) return `\${${name}/${pattern}/${replacement}}`;
    const replaced = this.withPattern(pattern, () => replacePattern(value ?? '', pattern, replacement, all, MAX_WORD_LENGTH));
    if (replaced === null) throw new TooLong();
    return replaced;
  }

  private processNested(stop: string, rawEscapes: boolean, endOfInputMessage: string): string {
    try {
      return this.processUntil(stop, rawEscapes).value;
    } catch (err) {
      if (err instanceof LexError && this.peek() === '') throw new LexError(endOfInputMessage);
      throw err;
    }
  }

  private withPattern<T>(pattern: string, apply: () => T): T {
    try {
      return apply();
    } catch (err) {
      if (err instanceof PatternError) throw new LexError(`invalid pattern (${pattern}) in substitution: ${err.message}`);
      throw err;
    }
  }

  // processName reads a variable name: letters, digits and _, or a run of
  // digits (positional), or one special parameter character ($@ $* $# …).
  private processName(): string {
    let name = '';
    while (this.peek() !== '') {
      const ch = this.peek();
      if (name === '' && DIGIT.test(ch)) {
        while (DIGIT.test(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && SPECIAL_PARAMETERS.has(ch)) return this.next();
      if (!LETTER.test(ch) && !DIGIT.test(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private lookup(name: string): string | undefined {
    const value = this.env.get(name);
    (value === undefined ? this.unset : this.used).add(name);
    return value;
  }
}

const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;
const SPECIAL_PARAMETERS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
