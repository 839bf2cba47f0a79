import test from 'ava';
import { familiarName, familiarReference, fullName, normalizeReference, normalizeTag, parseReference, splitReference } from '../../../src/image/reference';

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

// Cases from distribution/reference's normalize_test.go (Apache-2.0), the rules Docker's CLI applies.
const hex64 = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';
const dockerValid = [
  'docker/docker', 'library/debian', 'debian', 'docker.io/docker/docker', 'docker.io/library/debian', 'docker.io/debian',
  'index.docker.io/docker/docker', 'index.docker.io/library/debian', 'index.docker.io/debian', '127.0.0.1:5000/docker/docker',
  '127.0.0.1:5000/library/debian', '127.0.0.1:5000/debian', '192.168.0.1', '192.168.0.1:80', '192.168.0.1:8/debian',
  '192.168.0.2:25000/debian', 'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', '[fc00::1]:5000/docker',
  '[fc00::1]:5000/docker/docker', '[fc00:1:2:3:4:5:6:7]:5000/library/debian', `docker.io/${hex64}`, 'Docker/docker', 'DOCKER/docker',
  'docker-rules/docker', 'docker---rules/docker', 'doc/docker', 'd/docker', 'jess/t', 'dock__er/docker',
];
for (const input of dockerValid) test(`Docker's valid name ${input}`, (t) => t.notThrows(() => parseReference(input)));

const dockerInvalid = [
  'https://github.com/docker/docker', 'docker/Docker', '-docker', '-docker/docker', '-docker.io/docker/docker', 'docker///docker',
  'docker.io/docker/Docker', 'docker.io/docker///docker', '[fc00::1]', '[fc00::1]:5000', 'fc00::1:5000/debian', '[fe80::1%eth0]:5000/debian',
  '[2001:db8:3:4::192.0.2.33]:5000/debian', 'docker-/docker', '-docker-/docker', '____/____', '_docker/_docker', 'dock..er/docker',
  'dock_.er/docker', 'dock-.er/docker', 'docker/', `${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}/docker`,
];
for (const input of dockerInvalid) {
  test(`Docker's invalid name ${JSON.stringify(input)}`, (t) => t.throws(() => parseReference(input), { message: `invalid reference format: ${input}` }));
}

// [domain, path, familiar name, the other spellings of the same name].
const dockerNames: Array<[string, string, string, string[]]> = [
  ['docker.io', 'fooo/bar', 'fooo/bar', ['docker.io/fooo/bar', 'index.docker.io/fooo/bar']],
  ['docker.io', 'library/ubuntu', 'ubuntu', ['docker.io/library/ubuntu', 'library/ubuntu']],
  ['docker.io', 'nonlibrary/ubuntu', 'nonlibrary/ubuntu', ['docker.io/nonlibrary/ubuntu']],
  ['docker.io', 'other/library', 'other/library', ['docker.io/other/library']],
  ['127.0.0.1:8000', 'private/moonbase', '127.0.0.1:8000/private/moonbase', []],
  ['127.0.0.1:8000', 'privatebase', '127.0.0.1:8000/privatebase', []],
  ['example.com', 'private/moonbase', 'example.com/private/moonbase', []],
  ['example.com:8000', 'privatebasee', 'example.com:8000/privatebasee', []],
  ['docker.io', 'library/ubuntu-12.04-base', 'ubuntu-12.04-base', ['docker.io/library/ubuntu-12.04-base', 'index.docker.io/library/ubuntu-12.04-base']],
  ['docker.io', 'library/foo', 'foo', ['docker.io/library/foo', 'docker.io/foo']],
  ['docker.io', 'library/foo/bar', 'library/foo/bar', ['docker.io/library/foo/bar']],
  ['docker.io', 'store/foo/bar', 'store/foo/bar', ['docker.io/store/foo/bar']],
  ['Foo', 'bar', 'Foo/bar', []],
  ['FOO', 'bar', 'FOO/bar', []],
  ['test.com', 'foo', 'test.com/foo', []],
  ['docker.io', 'test_com/foo', 'test_com/foo', []],
  ['test.com:8080', 'foo', 'test.com:8080/foo', []],
  ['test-com:8080', 'foo', 'test-com:8080/foo', []],
  ['xn--n3h.com:18080', 'foo', 'xn--n3h.com:18080/foo', []],
  ['localhost', 'foo', 'localhost/foo', []],
];
for (const [domain, path, familiar, others] of dockerNames) {
  for (const input of [familiar, ...others]) {
    test(`Docker's normalization of ${input}: ${domain} ${path}`, (t) => {
      const parsed = parseReference(input);
      t.deepEqual(parsed, { domain, path, tag: undefined, digest: undefined });
      t.is(familiarName(parsed), familiar);
      t.is(fullName(parsed), `${domain}/${path}`);
    });
  }
}

test("Docker's reference with both a tag and a digest keeps both", (t) => {
  const ref = `busybox:latest@sha256:${'86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa'}`;
  t.deepEqual(parseReference(ref), { domain: 'docker.io', path: 'library/busybox', tag: 'latest', digest: 'sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa' });
  t.is(normalizeReference(ref), ref);
});

test('parseReference assumes no tag; splitReference assumes latest', (t) => {
  t.is(parseReference('busybox').tag, undefined);
  t.is(splitReference('busybox').tag, 'latest');
});

test('familiarReference is the name a listing shows: familiar, the tag as written, no digest', (t) => {
  t.is(familiarReference('busybox'), 'busybox');
  t.is(familiarReference('docker.io/library/busybox:1.36'), 'busybox:1.36');
  t.is(familiarReference(`index.docker.io/user/app@sha256:${'a'.repeat(64)}`), 'user/app');
  t.is(familiarReference('localhost:5000/app:v2'), 'localhost:5000/app:v2');
  t.is(familiarReference('Not/Valid'), 'Not/Valid');
});
