// Bind propagation as Docker applies it (-v SRC:DST:MODE, --mount bind-propagation=MODE): a slave bind
// receives the mounts made on the host under its source, an rshared one gives the host the mounts made in
// the container, the default rprivate does neither; a source that is not on a shared (or slave) mount is
// refused. Each test's source is a directory of its own bound on itself and made a shared mount in a peer
// group of its own, unmounted (with whatever propagated under it) even when the test fails.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ExecutionContext } from 'ava';

import { parseMountInfo } from '../../src/runtime/bind-propagation';
import { cli, rootTest, sharedTestStore, type CliResult } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

async function ok(t: ExecutionContext, args: string[]): Promise<CliResult> {
  const r = await cli(store.root, args);
  t.is(r.code, 0, `nbox ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** mountsUnder are the host's mount points at or below dir. */
function mountsUnder(dir: string): string[] {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .map((entry) => entry.mountPoint)
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

/** hostDir is a fresh directory, bound on itself as a private or shared mount of its own; the test's
 * containers go, then every mount at or under it, then the directory, when the test ends. */
async function hostDir(t: ExecutionContext, propagation: 'private' | 'shared', containers: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-prop-'));
  t.teardown(async () => {
    for (const name of containers) await cli(store.root, ['rm', '-f', name]);
    if (mountsUnder(dir).length > 0) execFileSync('umount', ['--recursive', '--lazy', dir]);
    await rm(dir, { recursive: true, force: true });
  });
  execFileSync('mount', ['--bind', dir, dir]);
  // Private first: a bind of a shared mount would join its peer group; this one has a group of its own.
  execFileSync('mount', ['--make-private', dir]);
  if (propagation === 'shared') execFileSync('mount', ['--make-shared', dir]);
  return dir;
}

function inspectPropagation(t: ExecutionContext, name: string): Promise<string> {
  return ok(t, ['inspect', '-f', '{{range .Mounts}}{{.Propagation}}{{end}}', name]).then((r) => r.stdout.trim());
}

test('rslave receives a mount made on the host under its source and gives none back; rprivate, the default, receives none', async (t) => {
  const containers = ['slave', 'private'];
  const dir = await hostDir(t, 'shared', containers);
  await mkdir(join(dir, 'sub'));
  await ok(t, ['run', '-d', '--name', 'slave', '--privileged', '-v', `${dir}:/m:rslave`, 'bb', 'sleep', '1000']);
  await ok(t, ['run', '-d', '--name', 'private', '--privileged', '--mount', `type=bind,src=${dir},dst=/m`, 'bb', 'sleep', '1000']);
  t.is(await inspectPropagation(t, 'slave'), 'rslave');
  t.is(await inspectPropagation(t, 'private'), 'rprivate');

  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(dir, 'sub')]);
  execFileSync('sh', ['-c', `echo from-host > ${join(dir, 'sub/marker')}`]);
  t.is((await ok(t, ['exec', 'slave', 'cat', '/m/sub/marker'])).stdout, 'from-host\n');
  t.is((await cli(store.root, ['exec', 'private', 'ls', '/m/sub'])).stdout, '', 'the private bind still shows the directory under the host\'s tmpfs');

  // A mount made inside a slave (or private) bind stays in the container.
  for (const name of containers) await ok(t, ['exec', name, 'sh', '-c', `mkdir -p /m/${name} && mount -t tmpfs tmpfs /m/${name}`]);
  t.deepEqual(mountsUnder(dir), [dir, join(dir, 'sub')]);

  for (const name of containers) await ok(t, ['rm', '-f', name]);
  execFileSync('umount', [join(dir, 'sub')]);
  t.deepEqual(mountsUnder(dir), [dir]);
});

test('rshared gives the host a mount made in the container under the bind; nothing of the container\'s own reaches the host', async (t) => {
  const dir = await hostDir(t, 'shared', ['shared']);
  await ok(t, ['run', '--name', 'shared', '--cap-add', 'SYS_ADMIN', '--mount', `type=bind,src=${dir},dst=/m,bind-propagation=rshared`, 'bb', 'sh', '-c',
    'mkdir /m/inner && mount -t tmpfs tmpfs /m/inner && echo from-container > /m/inner/f']);
  t.is(await inspectPropagation(t, 'shared'), 'rshared');
  t.deepEqual(mountsUnder(dir), [dir, join(dir, 'inner')], 'Docker leaves it there after the container');
  t.is(await readFile(join(dir, 'inner/f'), 'utf8'), 'from-container\n');
  t.deepEqual(mountsUnder(store.root), [], 'the rootfs, /proc, /dev and the store stay the container\'s');

  await ok(t, ['rm', 'shared']);
  execFileSync('umount', [join(dir, 'inner')]);
  t.deepEqual(mountsUnder(dir), [dir]);
});

test('a shared bind of a source on a mount that is not shared, or a slave one on a private mount: Docker\'s message, 125, nothing made', async (t) => {
  const dir = await hostDir(t, 'private', []);
  for (const [args, message] of [
    [['-v', `${dir}/data:/m:rshared`], `path ${dir}/data is mounted on ${dir} but it is not a shared mount`],
    [['--mount', `type=bind,src=${dir},dst=/m,bind-propagation=slave`], `path ${dir} is mounted on ${dir} but it is not a shared or slave mount`],
  ] as const) {
    const r = await cli(store.root, ['run', '--rm', ...args, 'bb', 'true']);
    t.is(r.code, 125, r.stderr);
    t.true(r.stderr.includes(message), r.stderr);
    t.is(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  }
  t.is((await ok(t, ['ps', '-aq'])).stdout, '');
  t.deepEqual(await readdir(dir), [], 'the -v source was not made');
});

test('start checks the source again: a source no longer shared is refused', async (t) => {
  const dir = await hostDir(t, 'shared', ['later']);
  await ok(t, ['create', '--name', 'later', '-v', `${dir}:/m:shared`, 'bb', 'true']);
  execFileSync('mount', ['--make-private', dir]);
  const r = await cli(store.root, ['start', 'later']);
  t.not(r.code, 0);
  t.true(r.stderr.includes(`path ${dir} is mounted on ${dir} but it is not a shared mount`), r.stderr);
  execFileSync('mount', ['--make-shared', dir]);
  await ok(t, ['start', '-a', 'later']);
});

