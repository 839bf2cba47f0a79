// `run --init`: Docker's docker-init (Debian's static tini) as PID 1, bound
// read-only at /sbin/docker-init, running the command after `--`.
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { cli, makeRootfs, rootTest, sharedTestStore, tarOf } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

test('--init makes docker-init PID 1, running the command, and inspect says so', async (t) => {
  const r = await cli(store.root, ['run', '--name', 'with-init', '--init', 'bb', 'sh', '-c', 'cat /proc/1/comm; tr "\\0" " " < /proc/1/cmdline; echo; echo $$']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'docker-init\n/sbin/docker-init -- sh -c cat /proc/1/comm; tr "\\0" " " < /proc/1/cmdline; echo; echo $$ \n2\n');
  const inspect = JSON.parse((await cli(store.root, ['inspect', 'with-init'])).stdout)[0];
  t.is(inspect.HostConfig.Init, true);
  // Path and Args stay the command, as Docker shows them.
  t.deepEqual([inspect.Path, inspect.Args[0]], ['sh', '-c']);
  const plain = await cli(store.root, ['run', '--name', 'without-init', 'bb', 'cat', '/proc/1/comm']);
  t.is(plain.stdout, 'cat\n');
  t.false('Init' in JSON.parse((await cli(store.root, ['inspect', 'without-init'])).stdout)[0].HostConfig);
  // The binary is mounted read-only in the container.
  const mount = await cli(store.root, ['run', '--rm', '--init', 'bb', 'awk', '$2 == "/sbin/docker-init" { split($4, o, ","); print o[1] }', '/proc/mounts']);
  t.deepEqual([mount.code, mount.stdout], [0, 'ro\n'], mount.stderr);
});

test('--init reaps an orphaned zombie', async (t) => {
  // The inner shell exits at once: its background sleep is re-parented to PID 1, which must reap it when it ends.
  const script = [
    'sh -c "sleep 0 & echo \\$! > /tmp/pid"',
    'p=$(cat /tmp/pid); i=0',
    'while [ -e /proc/$p ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done',
    'if [ -e /proc/$p ]; then echo "state $(cut -d" " -f3 /proc/$p/stat)"; else echo reaped; fi',
  ].join('; ');
  const r = await cli(store.root, ['run', '--rm', '--init', 'bb', 'sh', '-c', script]);
  t.deepEqual([r.code, r.stdout], [0, 'reaped\n'], r.stderr);
});

test("stop's SIGTERM reaches the command through docker-init: exit 143", async (t) => {
  // Without --init, sleep as PID 1 would ignore SIGTERM and stop would have to kill it (137).
  const container = await store.nbox.run('bb', { cmd: ['sh', '-c', 'echo ready; exec sleep 600'], name: 'init-stop', init: true, stdio: 'pipe' });
  t.teardown(async () => container[Symbol.asyncDispose]());
  await new Promise<void>((resolve, reject) => {
    container.stdout!.once('data', () => resolve());
    container.exited.then(() => reject(new Error('exited before it was ready')), reject);
  });
  const stopped = await cli(store.root, ['stop', '-t', '60', 'init-stop']);
  t.deepEqual([stopped.code, stopped.stdout], [0, 'init-stop\n'], stopped.stderr);
  t.deepEqual(await container.exited, { exitCode: 143, signal: null });
  t.is((await cli(store.root, ['wait', 'init-stop'])).stdout, '143\n');
});

test("an image whose /sbin links to a host directory gets docker-init inside its root, the host's directory untouched", async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'nbox-init-attack-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const host = join(work, 'host-sbin');
  const rootfs = await makeRootfs(work);
  await mkdir(host);
  await symlink(host, join(rootfs, 'sbin'));
  await store.nbox.importImage(tarOf(rootfs), { tags: ['sbin-link:latest'] });
  const r = await cli(store.root, ['run', '--rm', '--init', 'sbin-link', 'sh', '-c', `cat /proc/1/comm; readlink /sbin; ls ${host}`]);
  t.deepEqual([r.code, r.stdout], [0, `docker-init\n${host}\ndocker-init\n`], r.stderr);
  t.deepEqual(await readdir(host), []);
  t.false((await readFile('/proc/self/mountinfo', 'utf8')).includes(host));
});
