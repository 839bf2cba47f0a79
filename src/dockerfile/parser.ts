// Dockerfile text → nodes, with BuildKit's parser semantics (parser/parser.go):
// parser directives, comments, line continuations, heredocs, and each
// keyword's argument splitting. Nothing is expanded or typed here.

import { DockerfileError } from '../errors';
import { expand, type EscapeChar } from './expand';
import { isSpace, trimLeftSpace, trimSpace } from './go-text';
import { ARG_PARSERS } from './node-args';
import { didYouMean } from './suggest';

/** Heredoc is one `<<WORD` body attached to a RUN, COPY or ADD node; content is as written, tabs not yet stripped. */
export interface Heredoc {
  name: string;
  fileDescriptor: number;
  /** expand is false when the word was quoted (`<<'EOF'`): the body is taken literally. */
  expand: boolean;
  /** chomp is `<<-`: leading tabs are to be stripped from each body line. */
  chomp: boolean;
  content: string;
}

/** Node is one instruction as written: BuildKit's parser.Node. */
export interface Node {
  /** keyword is the instruction in upper case (`RUN`). */
  keyword: string;
  /** flags are the leading `--name[=value]` words, unparsed. */
  flags: string[];
  /** args are the arguments as the keyword splits them; ENV and LABEL give name, value, separator triples. */
  args: string[];
  /** json tells that args came from a JSON array (exec form). */
  json: boolean;
  /** trigger is the instruction ONBUILD wraps. */
  trigger?: Node;
  heredocs: Heredoc[];
  /** original is the logical line as BuildKit joins continuations (what `ONBUILD` stores and history records). */
  original: string;
  /** stepText is the instruction's lines joined by single spaces, as `Step N/M :` shows it. */
  stepText: string;
  startLine: number;
  endLine: number;
}

/** Directive is a parser directive at the top of the file (`# escape=\``). */
export interface Directive {
  name: 'syntax' | 'escape' | 'check';
  value: string;
  line: number;
}

/** ParsedFile is a Dockerfile's nodes and the directives that shaped them. */
export interface ParsedFile {
  nodes: Node[];
  directives: Directive[];
  escapeChar: EscapeChar;
}

/** KEYWORDS are the instructions nbox knows, in upper case. */
export const KEYWORDS: readonly string[] = [...Object.keys(ARG_PARSERS), 'ONBUILD'].sort();

const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
// Go's `\s` in the heredoc and directive expressions: no \v, no Unicode spaces.
const HEREDOC_WORD = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
// Matched against a line already trimmed of trailing blanks, which keeps the expression linear.
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+)$/;
const NO_VARIABLES: ReadonlyMap<string, string> = new Map();

/** parse splits Dockerfile text into nodes; any problem is a DockerfileError at its line. */
export function parse(text: string): ParsedFile {
  return new Parser(text).parseAll();
}

/** parseHeredocWord reads a `[n]<<[-]WORD` argument, or undefined if arg is not one. */
export function parseHeredocWord(arg: string, line: number): Omit<Heredoc, 'content'> | undefined {
  const match = HEREDOC_WORD.exec(arg);
  if (!match || match[3] === '') return undefined;
  const options = { line, keepUnset: true };
  const words = expand(match[3], NO_VARIABLES, options).words;
  if (words.length !== 1) return undefined;
  // The word is quoted, and its body literal, if lexing with quotes kept finds more of them.
  const rawWords = expand(match[3], NO_VARIABLES, { ...options, rawQuotes: true }).words;
  const expandBody = countQuotes(words[0]) === countQuotes(rawWords[0] ?? '');
  const fileDescriptor = match[1] === '' ? 0 : Number(match[1]);
  return { name: words[0], fileDescriptor: Number.isSafeInteger(fileDescriptor) ? fileDescriptor : 0, expand: expandBody, chomp: match[2] === '-' };
}

function countQuotes(word: string): number {
  return word.split('').filter((ch) => ch === "'" || ch === '"').length;
}

class Parser {
  private readonly lines: string[];
  private next = 0;
  private escapeChar: EscapeChar = '\\';
  private readonly directives: Directive[] = [];
  private directivesDone = false;

  constructor(text: string) {
    // Keep each line's ending: heredoc bodies are taken byte for byte.
    this.lines = (text.startsWith('\ufeff') ? text.slice(1) : text).split(/(?<=\n)/);
    if (this.lines[this.lines.length - 1] === '') this.lines.pop();
  }

  parseAll(): ParsedFile {
    const nodes: Node[] = [];
    while (this.next < this.lines.length) {
      const node = this.parseInstruction();
      if (node) nodes.push(node);
    }
    if (nodes.length === 0) throw new DockerfileError({ line: Math.max(1, this.lines.length), message: 'file with no instructions' });
    return { nodes, directives: this.directives, escapeChar: this.escapeChar };
  }

  // parseInstruction reads one logical line (plus its heredoc bodies), or skips a blank or comment line.
  private parseInstruction(): Node | undefined {
    const startLine = this.next + 1;
    const first = trimLeftSpace(trimNewline(this.lines[this.next++]));
    this.readDirective(first, startLine);
    if (first.startsWith('#')) return undefined;
    let [piece, ended] = this.trimContinuation(first);
    if (ended && piece === '') return undefined;
    let original = piece;
    const stepPieces = [trimSpace(piece)];
    while (!ended && this.next < this.lines.length) {
      const raw = this.lines[this.next++];
      // Comments and blank lines inside a continuation are dropped.
      if (trimLeftSpace(raw).startsWith('#')) continue;
      const continued = trimNewline(raw);
      if (trimLeftSpace(continued) === '') continue;
      [piece, ended] = this.trimContinuation(continued);
      original += piece;
      stepPieces.push(trimSpace(piece));
    }
    if (trimSpace(original) === '') return undefined;
    const node = this.nodeFromLine(original, startLine);
    node.stepText = stepPieces.filter((p) => p !== '').join(' ');
    const holder = node.keyword === 'ONBUILD' && node.trigger ? node.trigger : node;
    if (HEREDOC_KEYWORDS.has(holder.keyword) && !holder.json && original.includes('<<')) {
      node.heredocs = this.readHeredocs(original, startLine);
    }
    node.endLine = this.next;
    if (node.trigger) {
      node.trigger.stepText = node.stepText.replace(/^\S+\s*/, '');
      node.trigger.endLine = node.endLine;
    }
    return node;
  }

  // nodeFromLine splits keyword, flags and arguments (BuildKit's newNodeFromLine).
  private nodeFromLine(line: string, startLine: number): Node {
    const trimmed = trimSpace(line);
    const blank = /[\t\v\f\r ]+/.exec(trimmed);
    const written = blank ? trimmed.slice(0, blank.index) : trimmed;
    const afterKeyword = blank ? trimmed.slice(blank.index + blank[0].length) : '';
    const keyword = written.toUpperCase();
    if (!KEYWORDS.includes(keyword)) {
      throw new DockerfileError({ line: startLine, message: `unknown instruction: ${written}${didYouMean(written, KEYWORDS, false)}` });
    }
    const { flags, rest } = extractFlags(afterKeyword, this.escapeChar);
    const node: Node = { keyword, flags, args: [], json: false, heredocs: [], original: line, stepText: trimmed, startLine, endLine: startLine };
    if (keyword === 'ONBUILD') {
      if (rest === '') return node;
      // Refused before recursing, so that a long ONBUILD ONBUILD … chain cannot exhaust the stack.
      if (/^onbuild(?:[\t\v\f\r ]|$)/i.test(rest)) {
        throw new DockerfileError({ line: startLine, message: 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed' });
      }
      node.trigger = this.nodeFromLine(rest, startLine);
      return node;
    }
    const { args, json } = ARG_PARSERS[keyword](rest, this.escapeChar, startLine);
    return { ...node, args, json };
  }

  // readHeredocs reads the body of each `<<WORD` on the line, in order, from the lines that follow.
  private readHeredocs(line: string, startLine: number): Heredoc[] {
    const heredocs: Heredoc[] = [];
    for (const word of heredocWords(line, startLine)) {
      const heredoc = parseHeredocWord(word, startLine);
      if (!heredoc) continue;
      let content = '';
      let terminated = false;
      while (this.next < this.lines.length) {
        const raw = this.lines[this.next++];
        const candidate = heredoc.chomp ? trimNewline(raw).replace(/^\t+/, '') : trimNewline(raw);
        if (candidate === heredoc.name) {
          terminated = true;
          break;
        }
        content += raw;
      }
      if (!terminated) throw new DockerfileError({ line: startLine, message: 'unterminated heredoc' });
      heredocs.push({ ...heredoc, content });
    }
    return heredocs;
  }

  // readDirective handles `# key=value` while the file has had nothing but directives.
  private readDirective(line: string, lineNumber: number): void {
    if (this.directivesDone) return;
    const match = line.startsWith('#') ? DIRECTIVE.exec(trimRightBlanks(trimLeftSpace(line.slice(1)))) : null;
    const name = match?.[1].toLowerCase();
    if (!match || (name !== 'syntax' && name !== 'escape' && name !== 'check')) {
      this.directivesDone = true;
      return;
    }
    if (this.directives.some((directive) => directive.name === name)) {
      throw new DockerfileError({ line: lineNumber, message: `only one ${name} parser directive can be used` });
    }
    const value = match[2];
    if (name === 'escape') {
      if (value !== '`' && value !== '\\') {
        throw new DockerfileError({ line: lineNumber, message: `invalid escape token '${value}' does not match \` or \\` });
      }
      this.escapeChar = value;
    }
    this.directives.push({ name, value, line: lineNumber });
  }

  // trimContinuation removes a trailing escape character (and blanks after it)
  // that continues the line, unless it is itself escaped.
  private trimContinuation(line: string): [string, boolean] {
    let end = line.length;
    while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
    if (end === 0 || line[end - 1] !== this.escapeChar) return [line, true];
    if (end >= 2 && line[end - 2] === this.escapeChar) return [line, true];
    return [line.slice(0, end - 1), false];
  }
}

// heredocWords lexes the line as a shell would, keeping quotes and escapes, so
// that `<<EOF` inside quotes is not a heredoc; a line that does not lex has none.
function heredocWords(line: string, lineNumber: number): string[] {
  try {
    return expand(line, NO_VARIABLES, { line: lineNumber, keepUnset: true, rawQuotes: true, rawEscapes: true }).words;
  } catch (err) {
    if (err instanceof DockerfileError) return [];
    throw err;
  }
}

// extractFlags takes the leading `--name[=value]` words (quotes removed) off
// an instruction's arguments; a bare `--` ends them (BuildKit's extractBuilderFlags).
function extractFlags(line: string, escapeChar: EscapeChar): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOk = false;
  for (let pos = 0; pos <= line.length; pos++) {
    let ch = line[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return { flags, rest: trimSpace(line.slice(pos)) };
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOk || word !== '')) flags.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { flags, rest: trimSpace(line.slice(pos)) };
        if (blankOk || word !== '') flags.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
        continue;
      }
      if (ch === escapeChar) {
        if (pos + 1 === line.length) continue;
        ch = line[++pos];
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escapeChar) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      ch = line[++pos];
    }
    word += ch;
  }
  return { flags, rest: '' };
}

// trimRightBlanks drops Go's `\s` characters from the end, without a regular
// expression that would go quadratic on a long run of blanks.
function trimRightBlanks(text: string): string {
  let end = text.length;
  while (end > 0 && '\t\n\f\r '.includes(text[end - 1])) end--;
  return text.slice(0, end);
}

function trimNewline(line: string): string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === '\n' || line[end - 1] === '\r')) end--;
  return line.slice(0, end);
}
