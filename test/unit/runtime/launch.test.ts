// The launcher without root: a recording addon and cgroups in a list show
// what would be spawned (mounts resolved in the image, stdio, cgroup), what
// is refused before anything starts, and how a failed start is worded.
import test from 'ava';
import { mkdtemp, mkdir, rm, symlink } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SysError } from '../../../src/errors';
import { ContainerStartError, launch, type LaunchSpec, type LaunchSystem } from '../../../src/runtime/launch';
import { recordingAddon } from '../../../src/sys/fake-addon';

interface Harness {
  system: LaunchSystem;
  fake: ReturnType<typeof recordingAddon>;
  created: string[][];
  removed: string[][];
}

function harness(): Harness {
  const fake = recordingAddon();
  const created: string[][] = [];
  const removed: string[][] = [];
  const system: LaunchSystem = {
    addon: () => fake,
    cgroupDirs: (id) => [`/cg/devices/nbox/${id}`, `/cg/freezer/nbox/${id}`],
    createCgroup: async (dirs) => (created.push(dirs), dirs.map((dir) => `${dir}/cgroup.procs`)),
    removeCgroup: async (dirs) => void removed.push(dirs),
    oomKills: () => 0,
  };
  return { system, fake, created, removed };
}

// An image layer whose /etc/resolv.conf is systemd-resolved's dangling link
// and whose /data leads into /proc.
async function imageLayer(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-launch-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'etc'));
  await symlink('../run/systemd/resolve/stub-resolv.conf', join(dir, 'etc/resolv.conf'));
  await symlink('/proc/sys', join(dir, 'data'));
  return dir;
}

function spec(layer: string, overrides: Partial<LaunchSpec> = {}): LaunchSpec {
  const devNull = openSync('/dev/null', 'r+');
  return {
    id: 'c0ffee',
    layers: [layer],
    upperDir: '/store/upper',
    workDir: '/store/work',
    rootfs: '/store/rootfs',
    argv: ['sh', '-c', 'true'],
    env: ['PATH=/bin'],
    cwd: '/',
    user: { uid: 0, gid: 0, groups: [0], home: '/root' },
    hostname: 'c0ffee',
    network: 'none',
    mounts: [{ source: '/host/resolv.conf', target: '/etc/resolv.conf', readonly: false, isFile: true }],
    stdio: [devNull, devNull, devNull],
    ...overrides,
  };
}

test('the spawn gets mount targets resolved in the image, its cgroup, and its own /dev/null for the host one', async (t) => {
  const h = harness();
  const layer = await imageLayer(t);
  const s = spec(layer);
  const started = await launch(s, h.system);
  closeSync(s.stdio[0]);
  const [spawned] = h.fake.spawned;
  t.deepEqual(spawned.mounts.map((m) => m.target), ['/run/systemd/resolve/stub-resolv.conf']);
  t.deepEqual(spawned.cgroupJoinFiles, ['/cg/devices/nbox/c0ffee/cgroup.procs', '/cg/freezer/nbox/c0ffee/cgroup.procs']);
  t.deepEqual(spawned.stdio, [-1, -1, -1]);
  t.is(spawned.newNetwork, true);
  t.true(Buffer.isBuffer(spawned.seccompFilter), "Docker's default filter");
  t.deepEqual(started.cgroup, ['/cg/devices/nbox/c0ffee', '/cg/freezer/nbox/c0ffee']);
  t.true(started.kill(9));
  t.deepEqual(await started.exited, { exitCode: null, signal: 9, oomKilled: false });
  t.deepEqual(h.removed, [started.cgroup]);
  t.false(started.kill(9));
});

test('a mount into /proc (through a link of the image) or a relative one is refused before anything is made', async (t) => {
  const h = harness();
  const layer = await imageLayer(t);
  const intoProc = spec(layer, { mounts: [{ source: '/host/x', target: '/data/kernel', readonly: false, isFile: false }] });
  const err = await t.throwsAsync(launch(intoProc, h.system));
  t.is(err?.message, "invalid mount path: '/data/kernel' cannot be mounted because it is inside /proc");
  const relative = spec(layer, { mounts: [{ source: '', tmpfs: '', target: 'scratch', readonly: false, isFile: false }] });
  t.is((await t.throwsAsync(launch(relative, h.system)))?.message, "invalid mount path: 'scratch' mount path must be absolute");
  t.deepEqual(h.fake.spawned, []);
  t.deepEqual(h.created, []);
  closeSync(intoProc.stdio[0]);
  closeSync(relative.stdio[0]);
});

test('disposing of a started container kills it and waits until its cgroup is gone', async (t) => {
  const h = harness();
  const s = spec(await imageLayer(t));
  {
    await using started = await launch(s, h.system);
    t.is(started.pid, 4243);
    t.deepEqual(h.removed, []);
    closeSync(s.stdio[0]);
  }
  t.deepEqual(h.fake.signals, [9]);
  t.is(h.removed.length, 1, 'the cgroup is removed once the init is reaped');
});

function sysError(step: string, syscall: string, errnoName: string, path = ''): SysError {
  return new SysError({ step, syscall, errno: 1, errnoName, path, message: `${step}: ${syscall} ${path}: ${errnoName}` });
}

test('a failed start is worded as Docker words it, with its exit code, and its cgroup goes', async (t) => {
  const layer = await imageLayer(t);
  const cases: Array<[SysError, string, number]> = [
    [sysError('exec', 'execve', 'ENOENT'), 'exec: "sh": executable file not found in $PATH', 127],
    [sysError('exec', 'execve', 'EACCES'), 'exec: "sh": permission denied', 126],
    [sysError('bind-mount', 'fstatfs', 'EPERM', '/dev/fd'), "invalid mount path: '/dev/fd' cannot be mounted because it is inside /proc", 125],
    [sysError('mount-overlay', 'fsconfig', 'EINVAL', '/layer'), 'unable to start container process: mount-overlay: fsconfig /layer: EINVAL', 125],
  ];
  for (const [failure, message, exitCode] of cases) {
    const h = harness();
    h.fake.failNextSpawn = failure;
    const s = spec(layer);
    const err = await t.throwsAsync(launch(s, h.system));
    closeSync(s.stdio[0]);
    t.true(err instanceof ContainerStartError);
    t.is(err?.message, message);
    t.is((err as ContainerStartError).exitCode, exitCode);
    t.deepEqual(h.removed, h.created);
  }
});

test('a cgroup that cannot be made is one start error, and nothing is spawned', async (t) => {
  const h = harness();
  h.system.createCgroup = async () => {
    throw new Error('EACCES: permission denied, mkdir /cg/devices/nbox/c0ffee');
  };
  const s = spec(await imageLayer(t));
  const err = await t.throwsAsync(launch(s, h.system));
  closeSync(s.stdio[0]);
  t.is(err?.message, "unable to create the container's cgroup: EACCES: permission denied, mkdir /cg/devices/nbox/c0ffee");
  t.deepEqual(h.fake.spawned, []);
});
