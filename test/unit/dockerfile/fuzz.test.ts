// Random and mutated Dockerfiles: each must parse or fail with a DockerfileError,
// never another error. A fixed seed keeps failures reproducible. The work is bounded by
// the number and size of inputs, not by the clock, so a loaded machine cannot fail it;
// a parser that hangs or goes exponential still trips ava's timeout (package.json).

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dumpNodes } from '../../../src/dockerfile/dump';
import { expandWord, expandWords } from '../../../src/dockerfile/expand';
import { parse } from '../../../src/dockerfile/parser';
import { parseDockerfile } from '../../../src/dockerfile/stages';
import { DockerfileError } from '../../../src/errors';

const SEED = 0x6e626f78;
const INPUTS = 4000;
// Mutations can grow an input; past this it is cut, so every input costs about the same.
const MAX_INPUT_CHARS = 4096;
const corpusDir = path.resolve(__dirname, '../../../../test/fixtures/dockerfiles');
const corpus = fs.readdirSync(corpusDir).map((name) => fs.readFileSync(path.join(corpusDir, name, 'Dockerfile'), 'utf8'));
// Fragments that steer the parser into its harder paths.
const TOKENS = ['\\', '\\\n', '`', '"', "'", '<<', '<<-', "<<'E'", '\nE\n', '${', '}', '${a:-', '${a/', '${a#', '$', '[', ']', '["a"]', '--', '--mount=', '--chmod', '#', '\n', '\r\n', '\t', ' ', '=', 'ONBUILD ', 'FROM ', 'RUN ', 'COPY ', 'HEALTHCHECK ', '# escape=`\n', '\ufeff', '\u00a0', '😀'];

// mulberry32: a small seeded PRNG, enough to make inputs varied and repeatable.
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const randomBytes = () => Buffer.from(Array.from({ length: int(300) }, () => (random() < 0.5 ? int(128) : int(256)))).toString(random() < 0.5 ? 'utf8' : 'latin1');
  const mutations: Array<(text: string) => string> = [
    (text) => text.slice(0, int(text.length + 1)),
    (text) => {
      const at = int(text.length + 1);
      return text.slice(0, at) + pick(TOKENS) + text.slice(at);
    },
    (text) => {
      const other = pick(corpus);
      const from = int(other.length);
      const at = int(text.length + 1);
      return text.slice(0, at) + other.slice(from, from + int(200)) + text.slice(at);
    },
    (text) => {
      const lines = text.split('\n');
      const at = int(lines.length);
      lines.splice(at, 0, ...lines.slice(at, at + 1 + int(3)));
      return lines.join('\n');
    },
    (text) => {
      const at = int(text.length);
      return text.slice(0, at) + text.slice(at + 1 + int(10));
    },
    (text) => text.replace(/\n/g, () => (random() < 0.1 ? '\\\n' : '\n')),
  ];
  return (): string => {
    if (random() < 0.2) return randomBytes();
    let text = pick(corpus);
    for (let n = 1 + int(4); n > 0; n--) text = pick(mutations)(text);
    return text.slice(0, MAX_INPUT_CHARS);
  };
}

// exercise runs every entry point on one input and reports any error that is not a DockerfileError.
function exercise(text: string): unknown {
  const attempts = [
    () => parseDockerfile(text),
    () => dumpNodes(parse(text).nodes),
    () => expandWord(text, new Map([['a', 'x*y'], ['PWD', '/home']]), { line: 1 }),
    () => expandWords(text, new Map(), { line: 1, escapeChar: '`' }),
  ];
  for (const attempt of attempts) {
    try {
      attempt();
    } catch (err) {
      if (!(err instanceof DockerfileError)) return err;
    }
  }
  return undefined;
}

test(`${INPUTS} random and mutated inputs parse or fail with a DockerfileError`, (t) => {
  const next = generator(prng(SEED));
  const failures: string[] = [];
  for (let n = 0; n < INPUTS; n++) {
    const text = next();
    const unexpected = exercise(text);
    if (unexpected !== undefined) failures.push(`input ${n} ${JSON.stringify(text)} threw ${String(unexpected)}`);
  }
  t.deepEqual(failures, []);
});

// Inputs that send a careless parser into exponential work (or unbounded recursion): that
// shows as a hang ava's timeout reports, or as a RangeError; no clock is asserted here.
test('pathological inputs parse or fail with a DockerfileError', (t) => {
  const inputs = [
    `FROM a\nRUN ${'\\\n'.repeat(20000)}x`,
    `# escape=${' '.repeat(50000)}\`x\nFROM a`,
    `FROM a\nENV A=${'${a:-'.repeat(2000)}`,
    `FROM a\nRUN x${'\r'.repeat(50000)}y\n`,
    `FROM a\n${'ONBUILD '.repeat(5000)}RUN x`,
    `FROM a\nCOPY ${'<<A '.repeat(2000)}/d\n`,
    `FROM a\nLABEL ${'"a b" '.repeat(5000)}`,
  ];
  for (const text of inputs) t.is(exercise(text), undefined, text.slice(0, 40));
});
