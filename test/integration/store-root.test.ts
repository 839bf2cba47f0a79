// The store root as an attacker sees it: an unprivileged user looking for the
// setuid files and device nodes in layers and upper dirs, and roots that are not
// stores (empty, someone's project, procfs) that must be refused, not swept.
import type { ExecutionContext } from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Nbox } from '../../src/api';
import { StoreRoot } from '../../src/store/root';
import { BUSYBOX, cli, fileScope, makeRootfs, rootTest, sharedTestStore, tarOf, type Teardown } from '../helpers/env';

const test = rootTest();
// Before the store: after-hooks run in order, and the shared cleanups remove a container from the store.
const shared = fileScope(test);
const store = sharedTestStore(test);

// asNobody runs a program as uid and gid 65534: its output, or null if it could not run or failed.
function asNobody(program: string, ...args: string[]): string | null {
  const r = spawnSync(program, args, { uid: 65534, gid: 65534, encoding: 'utf8' });
  return r.status === 0 ? r.stdout : null;
}

async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

async function tempDir(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-root-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface SuidTargets {
  layerSuid: string;
  layerDevice: string;
  upperSuid: string;
  upperDevice: string;
}

// The two store-mode tests share one image with a setuid file and a device node, and a
// container that copied both into its upper dir; made by whichever test runs first.
let suidMade: Promise<SuidTargets> | undefined;
function suidTargets(t: ExecutionContext): Promise<SuidTargets> {
  suidMade ??= (async () => {
    // Everything above the store is open to all, so only the store's own modes stand in the way.
    await chmod(join(store.root, '..'), 0o755);
    const rootfs = await makeRootfs(await tempDir(shared));
    // coreutils' id honours setuid (busybox drops it) and shows euid=0 when it ran as root.
    execFileSync('sh', ['-c', 'cp /usr/bin/id suid-id && chmod 4755 suid-id && mknod null-device c 1 3 && chmod 666 null-device'], { cwd: rootfs });
    const id = await store.nbox.importImage(tarOf(rootfs), { tags: ['suid:latest'] });
    const made = await cli(store.root, ['run', '--name', 'upper-holder', 'suid', 'sh', '-c', 'cp -p /suid-id /up-suid && mknod /up-null c 1 3 && chmod 666 /up-null']);
    t.is(made.code, 0, made.stderr);
    shared.teardown(async () => void (await cli(store.root, ['rm', 'upper-holder'])));
    const diffId = JSON.parse((await cli(store.root, ['inspect', id])).stdout)[0].RootFS.Layers[0] as string;
    const layer = join(store.root, 'layers', diffId.slice('sha256:'.length), 'diff');
    const containerId = JSON.parse((await cli(store.root, ['inspect', 'upper-holder'])).stdout)[0].Id as string;
    const upper = join(store.root, 'containers', containerId, 'upper');
    const targets = {
      layerSuid: join(layer, 'suid-id'),
      layerDevice: join(layer, 'null-device'),
      upperSuid: join(upper, 'up-suid'),
      upperDevice: join(upper, 'up-null'),
    };
    for (const suid of [targets.layerSuid, targets.upperSuid]) t.is((await stat(suid)).mode & 0o4000, 0o4000);
    t.true((await stat(targets.upperDevice)).isCharacterDevice());
    return targets;
  })();
  return suidMade;
}

// reachable runs the setuid copies (root if they ran) and reads the device nodes, as nobody.
function reachable(targets: SuidTargets): Record<keyof SuidTargets, boolean> {
  return {
    layerSuid: asNobody(targets.layerSuid)?.includes('euid=0(root)') ?? false,
    layerDevice: asNobody(BUSYBOX, 'cat', targets.layerDevice) !== null,
    upperSuid: asNobody(targets.upperSuid)?.includes('euid=0(root)') ?? false,
    upperDevice: asNobody(BUSYBOX, 'cat', targets.upperDevice) !== null,
  };
}
const unreachable = { layerSuid: false, layerDevice: false, upperSuid: false, upperDevice: false };

test('an unprivileged user reaches no setuid file or device node in a layer or a container upper dir', async (t) => {
  const targets = await suidTargets(t);
  t.deepEqual(reachable(targets), unreachable);
  t.is((await stat(store.root)).mode & 0o7777, 0o700);
});

test('an old 0755 store, where those files are reachable, is repaired on open', async (t) => {
  const targets = await suidTargets(t);
  // A store made before modes were kept: every directory 0755, as the review found it.
  for (const dir of [store.root, join(store.root, 'layers'), join(store.root, 'containers')]) await chmod(dir, 0o755);
  t.deepEqual(reachable(targets), { layerSuid: true, layerDevice: true, upperSuid: true, upperDevice: true }, 'the attack works on a 0755 store');
  t.is((await cli(store.root, ['images'])).code, 0);
  t.deepEqual(reachable(targets), unreachable);
  for (const dir of [store.root, join(store.root, 'layers'), join(store.root, 'containers')]) t.is((await stat(dir)).mode & 0o7777, 0o700, dir);
});

test('an empty NBOX_ROOT or --root is refused on one line and sweeps nothing of the current directory', async (t) => {
  const project = await tempDir(t);
  await mkdir(join(project, 'tmp', 'keepme'), { recursive: true });
  await writeFile(join(project, 'tmp', 'report.txt'), 'mine');
  // What the old sweep took for a dead nbox's temp dir.
  await mkdir(join(project, 'tmp', '999999999-1-0123456789ab-layer'));
  const before = await tree(project);
  for (const args of [['images'], ['--root', '', 'images'], ['--root=', 'rmi', 'bb']]) {
    const r = await cli('', args, { cwd: project, env: { ...process.env, NBOX_ROOT: '' } });
    t.is(r.code, 125, args.join(' '));
    t.is(r.stderr, 'nbox: the store root is empty: set NBOX_ROOT or --root to a directory, or unset it for /var/lib/nbox\n');
    t.deepEqual(await tree(project), before);
  }
});

test('a non-empty directory that is not a store is refused on one line and left untouched', async (t) => {
  const home = await tempDir(t);
  await mkdir(join(home, 'tmp', 'keepme'), { recursive: true });
  await writeFile(join(home, 'tmp', 'report.txt'), 'mine');
  await writeFile(join(home, '.profile'), 'mine');
  const before = await tree(home);
  const mode = (await stat(home)).mode;
  const r = await cli(home, ['images']);
  t.is(r.code, 125);
  t.is(r.stderr, `nbox: ${home} is not an nbox store: it holds ".profile" and no version file; give an empty or new directory\n`);
  t.deepEqual(await tree(home), before);
  t.is((await stat(home)).mode, mode);
});

test('names nbox does not make in <root>/tmp and <root>/layers survive open and rmi', async (t) => {
  await mkdir(join(store.root, 'tmp', 'keepme'));
  await writeFile(join(store.root, 'tmp', 'report.txt'), 'mine');
  await mkdir(join(store.root, 'layers', 'backup'));
  await writeFile(join(store.root, 'layers', 'backup', 'notes'), 'mine');
  t.teardown(async () => {
    for (const entry of ['tmp/keepme', 'tmp/report.txt', 'layers/backup']) await rm(join(store.root, entry), { recursive: true, force: true });
  });
  const id = await store.nbox.importImage(tarOf('/etc', ['hostname']), { tags: ['swept:latest'] });
  const r = await cli(store.root, ['rmi', 'swept']);
  t.is(r.stdout, `Untagged: swept:latest\nDeleted: ${id}\n`, r.stderr);
  t.deepEqual((await readdir(join(store.root, 'tmp'))).sort(), ['keepme', 'report.txt']);
  t.true((await readdir(join(store.root, 'layers'))).includes('backup'));
  t.is(await readFile(join(store.root, 'layers', 'backup', 'notes'), 'utf8'), 'mine');
});

test('a root on procfs fails at once on one line instead of hanging', async (t) => {
  for (const root of ['/proc/self', '/proc/self/nbox']) {
    // The guard only ends a hang: the old code never returned from this.
    const r = await cli(root, ['images'], { timeout: 60_000 });
    t.is(r.code, 125, root);
    t.is(r.stderr, `nbox: cannot keep a store in ${root}: it is on proc, which cannot hold one\n`);
  }
});

test('rmi of a tagged image works on a full disk', async (t) => {
  const dir = await tempDir(t);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'nbox-full-test', dir]);
  t.teardown(() => void execFileSync('umount', [dir]));
  const root = join(dir, 'store');
  const nbox = await Nbox.open({ root });
  const id = await nbox.importImage(tarOf(await makeRootfs(await tempDir(t))), { tags: ['full:v1'] });
  // Fill what is left; dd ends on ENOSPC.
  spawnSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
  t.throws(() => execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'probe')}`, 'bs=4k', 'count=1'], { stdio: 'pipe' }), { message: /No space left/ });
  await rm(join(dir, 'probe'), { force: true });
  const r = await cli(root, ['rmi', 'full:v1']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, `Untagged: full:v1\nDeleted: ${id}\n`);
  t.deepEqual(JSON.parse(await readFile(join(root, 'images', 'repositories.json'), 'utf8')), {});
  t.deepEqual(await readdir(join(root, 'layers')), []);
});

test('removeTree never empties a mount inside the tree: EXDEV, and the mounted files are kept', async (t) => {
  const dir = await tempDir(t);
  const root = await StoreRoot.open(join(dir, 'root'));
  const host = join(dir, 'host');
  await mkdir(host);
  await writeFile(join(host, 'precious'), 'kept');
  const mountPoint = join(root.containersDir, 'doomed', 'upper', 'mnt');
  await mkdir(mountPoint, { recursive: true });
  execFileSync('mount', ['--bind', host, mountPoint]);
  // Before the directory's removal (teardowns run last first); the rename into tmp/ moved the mount.
  t.teardown(() => {
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const target = line.split(' ')[1];
      if (target?.startsWith(`${dir}/`)) spawnSync('umount', ['-l', target]);
    }
  });
  const err = await t.throwsAsync(root.removeTree(join(root.containersDir, 'doomed')));
  t.like(err, { step: 'remove-tree', errnoName: 'EXDEV' });
  t.is(await readFile(join(host, 'precious'), 'utf8'), 'kept');
});
