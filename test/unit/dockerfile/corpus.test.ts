// The golden corpus in BuildKit's style: each test/fixtures/dockerfiles/<case>/Dockerfile
// parses to exactly its `result` (BuildKit's Node.Dump format), and each
// negative-<case>/Dockerfile fails with exactly its `expected-error`.

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dumpNodes } from '../../../src/dockerfile/dump';
import { parse } from '../../../src/dockerfile/parser';
import { parseDockerfile } from '../../../src/dockerfile/stages';
import { DockerfileError } from '../../../src/errors';
import { HOST_PLATFORM, formatPlatform } from '../../../src/image/platform';

const corpus = path.resolve(__dirname, '../../../../test/fixtures/dockerfiles');
const cases = fs.readdirSync(corpus).sort();
const read = (name: string, file: string) => fs.readFileSync(path.join(corpus, name, file), 'utf8');
// Parsed as the builder parses: for the one platform nbox builds for.
const options = { platform: formatPlatform(HOST_PLATFORM) };

test('the corpus has at least 25 positive and 10 negative cases', (t) => {
  t.true(cases.filter((name) => !name.startsWith('negative-')).length >= 25);
  t.true(cases.filter((name) => name.startsWith('negative-')).length >= 10);
});

for (const name of cases) {
  if (name.startsWith('negative-')) {
    test(`${name} fails with its expected error`, (t) => {
      const error = t.throws(() => parseDockerfile(read(name, 'Dockerfile'), options), { instanceOf: DockerfileError });
      t.is(`${error?.message}\n`, read(name, 'expected-error'));
    });
  } else {
    test(`${name} parses to its result`, (t) => {
      const text = read(name, 'Dockerfile');
      t.is(dumpNodes(parse(text).nodes), read(name, 'result'));
      t.notThrows(() => parseDockerfile(text, options));
    });
  }
}
