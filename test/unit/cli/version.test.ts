import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { VERSION } from '../../../src/version';

test('VERSION is the version package.json names', (t) => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')) as { version: string };
  t.is(VERSION, manifest.version);
});
