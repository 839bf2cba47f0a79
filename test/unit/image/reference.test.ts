import test from 'ava';
import { normalizeReference, normalizeTag, splitReference } from '../../../src/image/reference';

const digest = `sha256:${'ab'.repeat(32)}`;

const normalized: Array<[string, string]> = [
  ['busybox', 'busybox:latest'],
  ['busybox:1.36', 'busybox:1.36'],
  ['library/busybox', 'busybox:latest'],
  ['docker.io/library/busybox:1', 'busybox:1'],
  ['docker.io/foo/bar', 'foo/bar:latest'],
  ['host:5000/a/b', 'host:5000/a/b:latest'],
  ['host:5000/a/b:v1', 'host:5000/a/b:v1'],
  ['localhost/app', 'localhost/app:latest'],
  ['a__b/c-d.e', 'a__b/c-d.e:latest'],
  [`busybox@${digest}`, `busybox@${digest}`],
  [`busybox:1@${digest}`, `busybox:1@${digest}`],
  ['0123abc', '0123abc:latest'],
];
for (const [input, expected] of normalized) {
  test(`normalizeReference ${input}`, (t) => t.is(normalizeReference(input), expected));
}

const invalid = ['', 'Busybox', 'busybox:', 'a/B', 'a//b', '-a', 'a-', 'a:b:c', ':tag', 'busybox@sha256:abc', `busybox:${'x'.repeat(129)}`, 'bad host:5000/a', 'a/b:-tag'];
for (const input of invalid) {
  test(`normalizeReference rejects ${JSON.stringify(input)}`, (t) => {
    const err = t.throws(() => normalizeReference(input));
    t.is((err as { code?: string }).code, 'ERR_NBOX_USAGE');
    t.is(err?.message, `invalid reference format: ${input}`);
  });
}

test('splitReference returns repository, tag and digest', (t) => {
  t.deepEqual(splitReference('host:5000/a/b'), { repository: 'host:5000/a/b', tag: 'latest', digest: undefined });
  t.deepEqual(splitReference(`a@${digest}`), { repository: 'a', tag: undefined, digest });
});

test('normalizeTag refuses digests', (t) => {
  t.is(normalizeTag('a'), 'a:latest');
  t.throws(() => normalizeTag(`a@${digest}`), { message: /cannot contain a digest/ });
});
