// BuildKit's own parser corpus (test/fixtures/dockerfiles-buildkit, copied from moby/buildkit;
// see its NOTICE): each testfiles/<case>/Dockerfile parses to exactly the `result` that
// BuildKit's reference parser printed, and each testfiles-negative/<case>/Dockerfile fails
// to parse, as BuildKit's TestParseCases and TestParseErrorCases check.

import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dumpNodes } from '../../../src/dockerfile/dump';
import { parse } from '../../../src/dockerfile/parser';
import { DockerfileError } from '../../../src/errors';

const corpus = path.resolve(__dirname, '../../../../test/fixtures/dockerfiles-buildkit');
const casesIn = (dir: string) => fs.readdirSync(path.join(corpus, dir)).sort();
const read = (dir: string, name: string, file: string) => fs.readFileSync(path.join(corpus, dir, name, file), 'utf8');

test('the imported corpus is all there', (t) => {
  t.is(casesIn('testfiles').length, 33);
  t.is(casesIn('testfiles-negative').length, 4);
});

// nbox agrees with every case, so there is no list of known differences.
for (const name of casesIn('testfiles')) {
  test(`buildkit ${name} parses to BuildKit's result`, (t) => {
    t.is(dumpNodes(parse(read('testfiles', name, 'Dockerfile')).nodes), read('testfiles', name, 'result'));
  });
}

for (const name of casesIn('testfiles-negative')) {
  test(`buildkit negative ${name} fails to parse`, (t) => {
    t.throws(() => parse(read('testfiles-negative', name, 'Dockerfile')), { instanceOf: DockerfileError });
  });
}
