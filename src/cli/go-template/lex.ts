// The lexer of Go's text/template: the text between actions, and the tokens
// inside `{{ }}`, with `{{- ` and ` -}}` trimming the whitespace next to them.
// A bad token ends the list as an `error` item, as Go's lexer does, so the
// parser reports whatever it meets first, as Go's does.
import { lazyPattern } from '../../lazy-pattern';

export type ItemType =
  | 'text' | 'leftDelim' | 'rightDelim' | 'space' | 'field' | 'variable' | 'identifier' | 'keyword'
  | 'string' | 'rawString' | 'charConstant' | 'number' | 'bool' | 'nil' | 'dot' | 'pipe'
  | 'leftParen' | 'rightParen' | 'declare' | 'assign' | 'char' | 'eof' | 'error';

/** Item is one token: its text (the message for an error), where it starts and its line. */
export interface Item {
  type: ItemType;
  value: string;
  pos: number;
  line: number;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);
const SPACE = /[ \t\r\n]/;
const ALPHANUMERIC = lazyPattern(String.raw`[\p{L}\p{N}_]`, 'u');
// What may follow a word or a number inside an action.
const TERMINATOR = /[ \t\r\n.,|:()]/;

/** lex splits a template into items, ending with eof or with the first error. */
export function lex(input: string): Item[] {
  const items: Item[] = [];
  const lineAt = (pos: number) => 1 + (input.slice(0, pos).match(/\n/g)?.length ?? 0);
  const emit = (type: ItemType, start: number, end: number) => items.push({ type, value: input.slice(start, end), pos: start, line: lineAt(start) });
  const fail = (pos: number, message: string) => {
    items.push({ type: 'error', value: message, pos, line: lineAt(pos) });
    return items;
  };
  const hasRightTrim = (pos: number) => SPACE.test(input[pos] ?? '') && input.startsWith('-}}', pos + 1);

  let pos = 0;
  let trimNextText = false;
  for (;;) {
    const open = input.indexOf('{{', pos);
    let text = input.slice(pos, open === -1 ? input.length : open);
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, '');
    const leftTrim = open !== -1 && input[open + 2] === '-' && SPACE.test(input[open + 3] ?? '');
    if (leftTrim) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) items.push({ type: 'text', value: text, pos, line: lineAt(pos) });
    if (open === -1) {
      emit('eof', input.length, input.length);
      return items;
    }
    let at = open + (leftTrim ? 4 : 2);
    if (input.startsWith('/*', at)) {
      const close = input.indexOf('*/', at + 2);
      if (close === -1) return fail(open, 'unclosed comment');
      at = close + 2;
      trimNextText = hasRightTrim(at);
      if (trimNextText) at += 2;
      if (!input.startsWith('}}', at)) return fail(open, 'comment ends before closing delimiter');
      pos = at + 2;
      continue;
    }
    emit('leftDelim', open, open + 2);
    let depth = 0;
    for (;;) {
      const start = at;
      const ch = input[at];
      if (input.startsWith('}}', at) || hasRightTrim(at)) {
        if (depth > 0) return fail(at, 'unclosed left paren');
        trimNextText = hasRightTrim(at);
        if (trimNextText) at += 2;
        emit('rightDelim', at, at + 2);
        pos = at + 2;
        break;
      }
      if (ch === undefined) return fail(at, 'unclosed action');
      if (SPACE.test(ch)) {
        while (SPACE.test(input[at] ?? '') && !hasRightTrim(at)) at++;
        emit('space', start, at);
      } else if (ch === ':') {
        if (input[at + 1] !== '=') return fail(at, 'expected :=');
        at += 2;
        emit('declare', start, at);
      } else if (ch === '=' || ch === '|') {
        emit(ch === '=' ? 'assign' : 'pipe', start, ++at);
      } else if (ch === '(' || ch === ')') {
        depth += ch === '(' ? 1 : -1;
        if (depth < 0) return fail(at, `unexpected right paren`);
        emit(ch === '(' ? 'leftParen' : 'rightParen', start, ++at);
      } else if (ch === '"' || ch === '`' || ch === "'") {
        const end = quoteEnd(input, at);
        if (end === -1) return fail(at, ch === '"' ? 'unterminated quoted string' : ch === '`' ? 'unterminated raw quoted string' : 'unterminated character constant');
        at = end;
        emit(ch === '"' ? 'string' : ch === '`' ? 'rawString' : 'charConstant', start, at);
      } else if (ch === '$' || (ch === '.' && ALPHANUMERIC.test(input[at + 1] ?? '') && !/\d/.test(input[at + 1]))) {
        at++;
        while (ALPHANUMERIC.test(input[at] ?? '')) at++;
        if (!atTerminator(input, at)) return fail(at, `bad character ${describe(input.codePointAt(at) ?? 0)}`);
        emit(ch === '$' ? 'variable' : 'field', start, at);
      } else if (ch === '.' && !/\d/.test(input[at + 1] ?? '')) {
        emit('dot', start, ++at);
      } else if (/[-+.\d]/.test(ch)) {
        const match = /^[-+]?(0[xX][\da-fA-F_]*(\.[\da-fA-F_]*)?([pP][-+]?\d+)?|0[oObB][\d_]+|[\d_]*(\.[\d_]*)?([eE][-+]?[\d_]+)?)/.exec(input.slice(at));
        at += match?.[0].length ?? 0;
        if (at === start + 1 && /[-+]/.test(ch)) return fail(start, `bad number syntax: "${ch}"`);
        if (!atTerminator(input, at)) return fail(start, `bad number syntax: "${input.slice(start, at + 1)}"`);
        emit('number', start, at);
      } else if (ALPHANUMERIC.test(ch)) {
        while (ALPHANUMERIC.test(input[at] ?? '')) at++;
        if (!atTerminator(input, at)) return fail(at, `bad character ${describe(input.codePointAt(at) ?? 0)}`);
        const word = input.slice(start, at);
        emit(KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'identifier', start, at);
      } else if (ch >= ' ' && ch <= '~') {
        emit('char', start, ++at);
      } else {
        return fail(at, `bad character ${describe(input.codePointAt(at) ?? 0)}`);
      }
    }
  }
}

function atTerminator(input: string, at: number): boolean {
  return at >= input.length || TERMINATOR.test(input[at]) || input.startsWith('}}', at);
}

// quoteEnd is the index after the quote closing the literal that opens at start, or -1.
function quoteEnd(input: string, start: number): number {
  const quote = input[start];
  for (let at = start + 1; at < input.length; at++) {
    if (input[at] === quote) return at + 1;
    if (quote !== '`' && input[at] === '\\') at++;
    else if (quote !== '`' && input[at] === '\n') return -1;
  }
  return -1;
}

// describe is Go's %#U: U+0023 '#'.
function describe(codePoint: number): string {
  const hex = codePoint.toString(16).toUpperCase().padStart(4, '0');
  return codePoint >= 0x20 && codePoint !== 0x7f ? `U+${hex} '${String.fromCodePoint(codePoint)}'` : `U+${hex}`;
}
