import test from 'ava';
import {
  credentialsKey,
  formatRemoteReference,
  isLoopbackRegistry,
  normalizeRegistry,
  parseRemoteReference,
  registryApiHost,
} from '../../../src/registry/reference';

const digest = `sha256:${'ab'.repeat(32)}`;

const parsed: Array<[string, ReturnType<typeof parseRemoteReference>]> = [
  ['busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest', digest: undefined }],
  ['busybox:1.36', { registry: 'docker.io', repository: 'library/busybox', tag: '1.36', digest: undefined }],
  ['library/busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest', digest: undefined }],
  ['docker.io/busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest', digest: undefined }],
  ['index.docker.io/user/app:v1', { registry: 'docker.io', repository: 'user/app', tag: 'v1', digest: undefined }],
  ['user/app', { registry: 'docker.io', repository: 'user/app', tag: 'latest', digest: undefined }],
  ['localhost:5000/a/b:t', { registry: 'localhost:5000', repository: 'a/b', tag: 't', digest: undefined }],
  ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest', digest: undefined }],
  [`127.0.0.1:5000/x@${digest}`, { registry: '127.0.0.1:5000', repository: 'x', tag: undefined, digest }],
  [`quay.io/a/b/c:1@${digest}`, { registry: 'quay.io', repository: 'a/b/c', tag: '1', digest }],
];
for (const [input, expected] of parsed) {
  test(`parseRemoteReference ${input}`, (t) => t.deepEqual(parseRemoteReference(input), expected));
}

test('parseRemoteReference refuses what splitReference refuses', (t) => {
  t.throws(() => parseRemoteReference('Busybox'), { message: 'invalid reference format: Busybox' });
});

test('formatRemoteReference gives the familiar form', (t) => {
  t.is(formatRemoteReference(parseRemoteReference('busybox')), 'busybox:latest');
  t.is(formatRemoteReference(parseRemoteReference('docker.io/user/app:v1')), 'user/app:v1');
  t.is(formatRemoteReference(parseRemoteReference(`127.0.0.1:5000/x@${digest}`)), `127.0.0.1:5000/x@${digest}`);
  t.is(formatRemoteReference({ registry: 'docker.io', repository: 'library/a/b' }), 'library/a/b');
});

test('Docker Hub has its own API host and credentials key', (t) => {
  t.is(registryApiHost('docker.io'), 'registry-1.docker.io');
  t.is(registryApiHost('127.0.0.1:5000'), '127.0.0.1:5000');
  t.is(credentialsKey('docker.io'), 'https://index.docker.io/v1/');
  t.is(credentialsKey('localhost:5000'), 'localhost:5000');
});

test('normalizeRegistry accepts URLs and Docker Hub aliases', (t) => {
  for (const hub of ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io']) t.is(normalizeRegistry(hub), 'docker.io');
  t.is(normalizeRegistry('http://localhost:5000/'), 'localhost:5000');
  t.is(normalizeRegistry('Quay.IO'), 'quay.io');
});

test('isLoopbackRegistry knows localhost, 127/8 and ::1', (t) => {
  for (const host of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) t.true(isLoopbackRegistry(host), host);
  for (const host of ['docker.io', 'registry-1.docker.io', '10.0.0.1:5000', 'localhost.example.com', '127.0.0.1.example.com']) {
    t.false(isLoopbackRegistry(host), host);
  }
});
