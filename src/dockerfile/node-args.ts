// The argument parsers of BuildKit's parser/line_parsers.go: each keyword's
// rest-of-line becomes a list of strings, split (or not) the way that keyword
// needs. Quotes are kept here; expand.ts removes them when the step runs.

import { DockerfileError } from '../errors';
import type { EscapeChar } from './expand';
import { goQuote, isSpace, trimLeftSpace } from './go-text';

/** NodeArgs is a keyword's arguments and whether they were written as a JSON array. */
export interface NodeArgs {
  args: string[];
  json: boolean;
}

/** ArgsParser turns the text after a keyword and its flags into NodeArgs. */
type ArgsParser = (rest: string, escapeChar: EscapeChar, line: number) => NodeArgs;

// Go's regexp `[\t\v\f\r ]+`: the parser splits only at ASCII blanks.
const BLANKS = /[\t\v\f\r ]+/;
const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/** ARG_PARSERS maps each keyword to its argument parser. */
export const ARG_PARSERS: Readonly<Record<string, ArgsParser>> = {
  ADD: parseMaybeJsonToList,
  ARG: (rest, escapeChar) => ({ args: parseWords(rest, escapeChar), json: false }),
  CMD: parseMaybeJson,
  COPY: parseMaybeJsonToList,
  ENTRYPOINT: parseMaybeJson,
  ENV: (rest, escapeChar, line) => parseNameValue(rest, 'ENV', escapeChar, line),
  EXPOSE: (rest) => ({ args: splitAtBlanks(rest), json: false }),
  FROM: (rest) => ({ args: splitAtBlanks(rest), json: false }),
  HEALTHCHECK: parseHealthcheck,
  LABEL: (rest, escapeChar, line) => parseNameValue(rest, 'LABEL', escapeChar, line),
  MAINTAINER: parseString,
  RUN: parseMaybeJson,
  SHELL: parseMaybeJson,
  STOPSIGNAL: parseString,
  USER: parseString,
  VOLUME: parseMaybeJsonToList,
  WORKDIR: parseString,
};

/** parseWords splits at white space outside quotes, keeping quotes and escapes in the words (BuildKit's parseWords). */
export function parseWords(rest: string, escapeChar: EscapeChar): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOk = false;
  let word = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOk || word !== '') words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOk || word !== '') words.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
      }
      if (ch === escapeChar) {
        // A trailing escape is dropped; any other keeps the next character with it, quotes included.
        if (pos + 1 === chars.length) continue;
        word += ch;
        ch = chars[++pos];
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    // Inside '…' nothing escapes.
    if (ch === escapeChar && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      word += ch;
      ch = chars[++pos];
    }
    word += ch;
  }
  return words;
}

/** parseJsonArray reads rest as a JSON array of strings; undefined when it is not JSON at all. */
export function parseJsonArray(rest: string, line: number): string[] | undefined {
  const text = trimLeftSpace(rest);
  if (!text.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  if (!parsed.every((item) => typeof item === 'string')) throw new DockerfileError({ line, message: NOT_STRING_ARRAY });
  return parsed as string[];
}

// parseMaybeJson keeps a non-JSON rest as one string (RUN, CMD, ENTRYPOINT, SHELL).
function parseMaybeJson(rest: string, _escapeChar: EscapeChar, line: number): NodeArgs {
  if (rest === '') return { args: [], json: false };
  const json = parseJsonArray(rest, line);
  return json ? { args: json, json: true } : { args: [rest], json: false };
}

// parseMaybeJsonToList splits a non-JSON rest at blanks (ADD, COPY, VOLUME).
function parseMaybeJsonToList(rest: string, _escapeChar: EscapeChar, line: number): NodeArgs {
  const json = parseJsonArray(rest, line);
  return json ? { args: json, json: true } : { args: splitAtBlanks(rest), json: false };
}

function parseString(rest: string): NodeArgs {
  return { args: rest === '' ? [] : [rest], json: false };
}

function splitAtBlanks(rest: string): string[] {
  return rest === '' ? [] : rest.split(BLANKS);
}

// parseNameValue reads `KEY name=value ...` as name, value, "=" triples, or the
// legacy `KEY name value...` as name, the rest verbatim, "".
function parseNameValue(rest: string, keyword: 'ENV' | 'LABEL', escapeChar: EscapeChar, line: number): NodeArgs {
  const words = parseWords(rest, escapeChar);
  if (words.length === 0) return { args: [], json: false };
  if (!words[0].includes('=')) {
    const match = BLANKS.exec(rest);
    if (!match) throw new DockerfileError({ line, message: `${keyword} must have two arguments` });
    return { args: [rest.slice(0, match.index), rest.slice(match.index + match[0].length), ''], json: false };
  }
  const args: string[] = [];
  for (const word of words) {
    const equals = word.indexOf('=');
    if (equals < 0) {
      throw new DockerfileError({ line, message: `Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value` });
    }
    args.push(word.slice(0, equals), word.slice(equals + 1), '=');
  }
  return { args, json: false };
}

// parseHealthcheck reads a type word (CMD, NONE, …) then the command as RUN does.
function parseHealthcheck(rest: string, escapeChar: EscapeChar, line: number): NodeArgs {
  let end = 0;
  while (end < rest.length && !isSpace(rest[end])) end++;
  if (end === 0) return { args: [], json: false };
  const command = parseMaybeJson(trimLeftSpace(rest.slice(end)), escapeChar, line);
  return { args: [rest.slice(0, end), ...command.args], json: command.json };
}
