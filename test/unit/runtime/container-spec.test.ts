// The spec builder without root: what `run` and a RUN step hand to launch.
import test from 'ava';
import { mkdtemp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { containerSpec, imageUser, type ContainerDirs } from '../../../src/runtime/container-spec';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-spec-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function dirsIn(dir: string): ContainerDirs {
  return {
    upper: join(dir, 'upper'), work: join(dir, 'work'), rootfs: join(dir, 'rootfs'), emptyLower: join(dir, 'empty'),
    hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname'), resolvConf: join(dir, 'resolv.conf'),
  };
}

const base = { id: 'c0ffee', argv: ['true'], env: [], cwd: '/', user: { uid: 0, gid: 0, groups: [0], home: '/root' }, hostname: 'c0ffee', network: 'none' as const, stdio: [0, 1, 2] as [number, number, number] };

test('the /etc binds come first, then the caller\'s mounts; the overlay dirs are the container\'s', async (t) => {
  const dir = await tempDir(t);
  const volume = { source: '/srv', target: '/data', readonly: true, isFile: false };
  const spec = await containerSpec({ ...base, layers: ['/layers/b', '/layers/a'], dirs: dirsIn(dir), mounts: [volume] });
  t.deepEqual(spec.mounts.map((m) => [m.source, m.target]), [
    [join(dir, 'hosts'), '/etc/hosts'], [join(dir, 'hostname'), '/etc/hostname'], [join(dir, 'resolv.conf'), '/etc/resolv.conf'], ['/srv', '/data'],
  ]);
  t.deepEqual(spec.layers, ['/layers/b', '/layers/a']);
  t.deepEqual([spec.upperDir, spec.workDir, spec.rootfs], [join(dir, 'upper'), join(dir, 'work'), join(dir, 'rootfs')]);
  t.true(spec.seccomp);
  t.false(spec.chownCwd);
  t.is(spec.cgroup, undefined);
  await t.throwsAsync(stat(join(dir, 'empty')), { code: 'ENOENT' }, 'an image with layers needs no empty lower dir');
});

test('an image without layers gets an empty lower dir, as overlayfs needs one', async (t) => {
  const dir = await tempDir(t);
  const spec = await containerSpec({ ...base, layers: [], dirs: dirsIn(dir) });
  t.deepEqual(spec.layers, [join(dir, 'empty')]);
  t.true((await stat(join(dir, 'empty'))).isDirectory());
});

test("USER is resolved in the image's own /etc/passwd and /etc/group, the topmost layer winning", async (t) => {
  const lower = await tempDir(t);
  const upper = await tempDir(t);
  await mkdir(join(lower, 'etc'));
  await writeFile(join(lower, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:100:100::/home/lower:/bin/sh\n');
  await writeFile(join(lower, 'etc/group'), 'root:x:0:\napp:x:100:\nextra:x:300:app\n');
  await mkdir(join(upper, 'etc'));
  await writeFile(join(upper, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:200:100::/home/app:/bin/sh\n');
  t.like(await imageUser([upper, lower], 'app'), { uid: 200, gid: 100, groups: [100, 300], home: '/home/app' });
  t.like(await imageUser([upper, lower], '1234:5'), { uid: 1234, gid: 5 });
  await t.throwsAsync(imageUser([upper, lower], 'nobody'), { message: /nobody/ });
});
