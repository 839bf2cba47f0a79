// The platform is decided once: src/image/platform.ts, package.json's os/cpu and
// the seccomp profiles' architecture (runtime/seccomp.ts) say the same.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { ARCHITECTURES, HOST_PLATFORM, formatPlatform } from '../../../src/image/platform';
import { DOCKER_DEFAULT_PROFILE, SECCOMP_ARCHES } from '../../../src/runtime/seccomp';

const repo = resolve(__dirname, '../../../..');

test('package.json declares the os and the cpus of platform.ts', (t) => {
  const pkg = JSON.parse(readFileSync(resolve(repo, 'package.json'), 'utf8'));
  t.deepEqual(pkg.os, [HOST_PLATFORM.os]);
  t.deepEqual(pkg.cpu, Object.keys(ARCHITECTURES));
});

test("the seccomp profiles know every architecture platform.ts supports, as Docker's default profile maps it", (t) => {
  for (const arch of Object.values(ARCHITECTURES)) {
    t.truthy(SECCOMP_ARCHES[arch], arch);
    t.true(DOCKER_DEFAULT_PROFILE.archMap?.some((entry) => entry.architecture === SECCOMP_ARCHES[arch]), arch);
  }
});

test('HOST_PLATFORM is this machine, with its OCI architecture name', (t) => {
  t.is(HOST_PLATFORM.os, process.platform);
  t.is(HOST_PLATFORM.architecture, ARCHITECTURES[process.arch]);
});

test('formatPlatform writes os/architecture[/variant] as Docker does', (t) => {
  t.is(formatPlatform({ os: 'linux', architecture: 'amd64' }), 'linux/amd64');
  t.is(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }), 'linux/arm/v7');
});
