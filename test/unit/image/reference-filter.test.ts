import test from 'ava';

import { matchingTags } from '../../../src/image/reference-filter';

const TAGS = ['busybox:latest', 'busybox:1.36', 'example/tools:1.0', 'localhost:5000/app:v1', 'busyboxer:latest'];

test('REPOSITORY matches every tag of that repository, and only it', (t) => {
  t.deepEqual(matchingTags('busybox', TAGS), ['busybox:latest', 'busybox:1.36']);
  t.deepEqual(matchingTags('example/tools', TAGS), ['example/tools:1.0']);
  t.deepEqual(matchingTags('localhost:5000/app', TAGS), ['localhost:5000/app:v1']);
  t.deepEqual(matchingTags('nosuch', TAGS), []);
});

test('REPOSITORY:TAG matches that tag alone', (t) => {
  t.deepEqual(matchingTags('busybox:1.36', TAGS), ['busybox:1.36']);
  t.deepEqual(matchingTags('busybox:2', TAGS), []);
  t.deepEqual(matchingTags('localhost:5000/app:v1', TAGS), ['localhost:5000/app:v1']);
});

test('the full name of a Docker Hub image finds its short name', (t) => {
  t.deepEqual(matchingTags('docker.io/library/busybox', TAGS), ['busybox:latest', 'busybox:1.36']);
  t.deepEqual(matchingTags('library/busybox:latest', TAGS), ['busybox:latest']);
});

test('shell patterns as Go\'s path.Match: * stops at /', (t) => {
  t.deepEqual(matchingTags('busy*', TAGS), ['busybox:latest', 'busybox:1.36', 'busyboxer:latest']);
  t.deepEqual(matchingTags('busybox:1.*', TAGS), ['busybox:1.36']);
  t.deepEqual(matchingTags('*', TAGS), ['busybox:latest', 'busybox:1.36', 'busyboxer:latest']);
  t.deepEqual(matchingTags('*/*', TAGS), ['example/tools:1.0', 'localhost:5000/app:v1']);
  t.deepEqual(matchingTags('busybox:[0-9]*', TAGS), ['busybox:1.36']);
  t.deepEqual(matchingTags('busybox:[^0-9]*', TAGS), ['busybox:latest']);
});
