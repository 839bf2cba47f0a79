// DESIGN's import arrows (.dependency-cruiser.cjs) fail a tree that breaks
// one, and pass ours: the check `npm test` runs before the suite.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const repo = resolve(__dirname, '../../..');
const config = resolve(repo, '.dependency-cruiser.cjs');
const depcruise = resolve(repo, 'node_modules/.bin/depcruise');

function checkFixture() {
  return spawnSync(depcruise, ['src', '--config', config], { cwd: resolve(repo, 'test/fixtures/imports'), encoding: 'utf8' });
}

test('an upward import (image/ → api) fails the check', (t) => {
  const r = checkFixture();
  t.not(r.status, 0);
  t.regex(r.stdout, /nothing-imports-cli-or-api: src\/image\/upward\.ts → src\/api\.ts/);
  t.notRegex(r.stdout, /src\/cli\/main\.ts/);
});

test('the API reaching past the four folders it fronts (api → sys) fails the check', (t) => {
  t.regex(checkFixture().stdout, /api-over-the-four: src\/api\.ts → src\/sys\/proc\.ts/);
});

test('the source tree keeps the arrows', (t) => {
  const r = spawnSync(depcruise, ['src', '--config', config], { cwd: repo, encoding: 'utf8' });
  t.is(r.status, 0, r.stdout);
});
