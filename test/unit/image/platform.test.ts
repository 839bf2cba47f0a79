// The platform is decided once: src/image/platform.ts, package.json's os/cpu and
// the seccomp filter's architecture (native/child.c) say the same.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { ARCHITECTURES, HOST_PLATFORM, formatPlatform } from '../../../src/image/platform';

const repo = resolve(__dirname, '../../../..');
// The kernel's AUDIT_ARCH name of each Node architecture.
const AUDIT_ARCH: Record<string, string> = { x64: 'AUDIT_ARCH_X86_64', arm64: 'AUDIT_ARCH_AARCH64' };

test('package.json declares the os and the cpus of platform.ts', (t) => {
  const pkg = JSON.parse(readFileSync(resolve(repo, 'package.json'), 'utf8'));
  t.deepEqual(pkg.os, [HOST_PLATFORM.os]);
  t.deepEqual(pkg.cpu, Object.keys(ARCHITECTURES));
});

test("the seccomp filter checks the architecture platform.ts supports", (t) => {
  const source = readFileSync(resolve(repo, 'native/child.c'), 'utf8');
  t.deepEqual([...source.matchAll(/^#define FILTER_AUDIT_ARCH (\w+)$/gm)].map((m) => m[1]), Object.keys(ARCHITECTURES).map((arch) => AUDIT_ARCH[arch]));
});

test('HOST_PLATFORM is this machine, with its OCI architecture name', (t) => {
  t.is(HOST_PLATFORM.os, process.platform);
  t.is(HOST_PLATFORM.architecture, ARCHITECTURES[process.arch]);
});

test('formatPlatform writes os/architecture[/variant] as Docker does', (t) => {
  t.is(formatPlatform({ os: 'linux', architecture: 'amd64' }), 'linux/amd64');
  t.is(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }), 'linux/arm/v7');
});
