// Volumes as Docker has them: named volumes in the store (`volume create|ls|inspect|rm|prune`),
// `-v NAME:/path`, copy-up of the image's content into a new volume, the image's VOLUMEs as
// anonymous volumes that `rm -v` and `--rm` remove, `--mount`, `--volumes-from`, inspect's Mounts.
import { existsSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { cli, makeRootfs, rootTest, sharedTestStore, tarOf, type CliResult } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

test.before(async () => {
  if (!store.root) return;
  // vimg: /data filled (owner 1000, mode 0750) and declared a VOLUME.
  const parent = await mkdtemp(join(tmpdir(), 'nbox-vol-img-'));
  try {
    const rootfs = await makeRootfs(parent);
    await mkdir(join(rootfs, 'data/sub'), { recursive: true });
    await writeFile(join(rootfs, 'data/f'), 'from image\n');
    await writeFile(join(rootfs, 'data/sub/g'), 'deep\n');
    await chown(join(rootfs, 'data'), 1000, 1000);
    await chmod(join(rootfs, 'data'), 0o750);
    await store.nbox.importImage(tarOf(rootfs), { tags: ['vimg:latest'], changes: ['CMD ["sh"]', 'VOLUME /data'] });
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});

async function ok(t: { is(a: unknown, b: unknown, m?: string): void }, args: string[]): Promise<CliResult> {
  const r = await cli(store.root, args);
  t.is(r.code, 0, `nbox ${args.join(' ')}: ${r.stderr}`);
  return r;
}

const volumeNames = async () => (await readdir(join(store.root, 'volumes'))).sort();

test('volume create, ls, inspect and rm as Docker prints them', async (t) => {
  t.is((await ok(t, ['volume', 'create', 'v1'])).stdout, 'v1\n');
  // Docker's create is idempotent.
  t.is((await ok(t, ['volume', 'create', '--name', 'v1'])).stdout, 'v1\n');
  await ok(t, ['volume', 'create', '-l', 'team=a', '-l', 'tier', 'v2']);
  const anon = (await ok(t, ['volume', 'create'])).stdout.trim();
  t.regex(anon, /^[0-9a-f]{64}$/);
  const ls = await ok(t, ['volume', 'ls']);
  t.regex(ls.stdout, /^DRIVER\s+VOLUME NAME\n/);
  t.regex(ls.stdout, /local\s+v1\n/);
  t.is((await ok(t, ['volume', 'ls', '-q', '--filter', 'label=team=a'])).stdout, 'v2\n');
  t.is((await ok(t, ['volume', 'ls', '-q', '--filter', 'name=v'])).stdout.split('\n').filter(Boolean).filter((n) => n.startsWith('v')).join(','), 'v1,v2');
  t.is((await ok(t, ['volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Labels}}', '-f', 'label=team'])).stdout, 'v2 local team=a,tier=\n');
  const [inspected] = JSON.parse((await ok(t, ['volume', 'inspect', 'v1'])).stdout) as Record<string, unknown>[];
  t.deepEqual(Object.keys(inspected), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
  t.is(inspected.Mountpoint, join(store.root, 'volumes/v1/_data'));
  t.is(inspected.Labels, null);
  t.regex(inspected.CreatedAt as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const missing = await cli(store.root, ['volume', 'inspect', 'nope']);
  t.is(missing.code, 1);
  t.is(missing.stdout, '[]\n');
  t.is(missing.stderr, 'nbox: get nope: no such volume\n');
  t.is((await ok(t, ['volume', 'ls', '-q', '--filter', 'label!=team', '--filter', 'name=v'])).stdout, 'v1\n');
  t.is((await ok(t, ['volume', 'prune', '-f', '--filter', 'label=team=a'])).stdout, 'Total reclaimed space: 0B\n', 'v2 is not anonymous');
  t.is((await ok(t, ['volume', 'prune', '-f', '--filter', 'all=true', '--filter', 'label=team=a'])).stdout, 'Deleted Volumes:\nv2\n\nTotal reclaimed space: 0B\n');
  t.is((await ok(t, ['volume', 'rm', 'v1', anon])).stdout, `v1\n${anon}\n`);
  const rmMissing = await cli(store.root, ['volume', 'rm', 'v1']);
  t.is(rmMissing.code, 1);
  t.is(rmMissing.stderr, 'nbox: get v1: no such volume\n');
  t.is((await cli(store.root, ['volume', 'rm', '-f', 'v1'])).code, 0);
  t.deepEqual(await volumeNames(), []);
});

test('bad volume names and bad flags: Docker\'s message, nothing created', async (t) => {
  const before = await volumeNames();
  const bad = await cli(store.root, ['volume', 'create', 'a']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^nbox: create a: "a" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed/);
  for (const [args, message] of [
    [['-v', 'x@y:/data'], /create x@y: "x@y" includes invalid characters/],
    [['-v', 'vol:data'], /invalid mount config for type "volume": invalid mount path: 'data' mount path must be absolute/],
    [['-v', '/data:rw'], /invalid volume specification: '\/data:rw'/],
    [['-v', 'vol:/data:bogus'], /invalid mode: bogus/],
    [['--mount', 'type=volume,src=vol'], /invalid argument "type=volume,src=vol" for "--mount" flag: target is required/],
    [['--mount', 'type=nfs,dst=/x'], /invalid mount config for type "nfs": mount type unknown/],
    [['--mount', 'type=bind,dst=/x'], /invalid mount config for type "bind": field Source must not be empty/],
    [['--mount', 'type=bind,src=/nonexistent-nbox,dst=/x'], /bind source path does not exist: \/nonexistent-nbox/],
    [['--mount', 'type=tmpfs,src=x,dst=/x'], /field Source must not be specified/],
    [['--mount', 'type=volume,dst=/x,tmpfs-size=1m'], /cannot mix 'tmpfs-\*' options with mount type 'volume'/],
    [['--mount', 'type=volume,dst=/x,readonly=maybe'], /invalid value for readonly: maybe/],
    [['--mount', 'type=volume,dst=/x,foo=1'], /unexpected key 'foo' in 'foo=1'/],
    [['-v', 'vol:/data', '-v', 'other:/data/'], /Duplicate mount point: \/data/],
    [['--volumes-from', 'nosuch'], /No such container: nosuch/],
  ] as const) {
    const r = await cli(store.root, ['run', '--rm', ...args, 'bb', 'true']);
    t.is(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, message);
    t.is(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  }
  t.deepEqual(await volumeNames(), before);
  t.is((await ok(t, ['ps', '-aq'])).stdout, '');
});

test('-v NAME:/path: the volume is made, outlives rm and rmi, and is refused to rm while a container has it', async (t) => {
  await ok(t, ['run', '--name', 'writer', '-v', 'keep:/store', 'bb', 'sh', '-c', 'echo kept > /store/file']);
  t.is(await readFile(join(store.root, 'volumes/keep/_data/file'), 'utf8'), 'kept\n');
  const inUse = await cli(store.root, ['volume', 'rm', 'keep']);
  t.is(inUse.code, 1);
  const id = (await ok(t, ['inspect', '-f', '{{.Id}}', 'writer'])).stdout.trim();
  t.is(inUse.stderr, `nbox: remove keep: volume is in use - [${id}]\n`);
  t.is((await cli(store.root, ['volume', 'prune', '-af'])).code, 0);
  t.true(existsSync(join(store.root, 'volumes/keep')), 'prune -a leaves a volume a stopped container uses');
  // rm -v takes anonymous volumes only.
  await ok(t, ['rm', '-v', 'writer']);
  t.true(existsSync(join(store.root, 'volumes/keep/_data/file')));
  // A copy of bb that is removed: the volume stays.
  await ok(t, ['tag', 'bb', 'bbcopy']);
  await ok(t, ['run', '--rm', '-v', 'keep:/store:ro', 'bbcopy', 'sh', '-c', 'cat /store/file && ! touch /store/x 2>/dev/null']);
  await ok(t, ['rmi', 'bbcopy']);
  const read = await ok(t, ['run', '--rm', '-v', 'keep:/store', 'bb', 'cat', '/store/file']);
  t.is(read.stdout, 'kept\n');
  await ok(t, ['volume', 'rm', 'keep']);
});

test('a new volume gets the image\'s content, owner and mode first; one with content keeps its own', async (t) => {
  const r = await ok(t, ['run', '--rm', '-v', 'filled:/data', 'vimg', 'sh', '-c', 'cat /data/f /data/sub/g && stat -c "%u %a" /data']);
  t.is(r.stdout, 'from image\ndeep\n1000 750\n');
  await writeFile(join(store.root, 'volumes/filled/_data/f'), 'changed\n');
  t.is((await ok(t, ['run', '--rm', '-v', 'filled:/data', 'vimg', 'cat', '/data/f'])).stdout, 'changed\n');
  // nocopy: the new volume stays empty.
  t.is((await ok(t, ['run', '--rm', '--mount', 'type=volume,src=bare,dst=/data,volume-nocopy', 'vimg', 'ls', '-A', '/data'])).stdout, '');
  await ok(t, ['volume', 'rm', 'filled', 'bare']);
});

test('the image\'s VOLUMEs become anonymous volumes; rm -v and --rm remove them, rm alone and named ones stay', async (t) => {
  const before = await volumeNames();
  await ok(t, ['run', '--name', 'anon', 'vimg', 'sh', '-c', 'echo more >> /data/f']);
  const [mount] = JSON.parse((await ok(t, ['inspect', '-f', '{{json .Mounts}}', 'anon'])).stdout) as Record<string, unknown>[];
  t.regex(mount.Name as string, /^[0-9a-f]{64}$/);
  t.like(mount, { Type: 'volume', Destination: '/data', Driver: 'local', Mode: '', RW: true, Propagation: '' });
  t.is(mount.Source, join(store.root, 'volumes', mount.Name as string, '_data'));
  t.is((await ok(t, ['inspect', '-f', '{{json .Config.Volumes}}', 'anon'])).stdout, '{"/data":{}}\n');
  t.is(await readFile(join(mount.Source as string, 'f'), 'utf8'), 'from image\nmore\n');
  const [inspected] = JSON.parse((await ok(t, ['volume', 'inspect', mount.Name as string])).stdout) as Record<string, unknown>[];
  t.deepEqual(inspected.Labels, { 'com.docker.volume.anonymous': '' });
  t.is((await ok(t, ['ps', '-a', '--format', '{{.Names}}', '--filter', `volume=${mount.Name as string}`])).stdout, 'anon\n');
  t.is((await ok(t, ['ps', '-a', '--format', '{{.Names}}', '--filter', 'volume=/data'])).stdout, 'anon\n');
  await ok(t, ['rm', '-v', 'anon']);
  t.deepEqual(await volumeNames(), before);
  // rm alone leaves it, for volume prune (anonymous ones only without -a).
  await ok(t, ['run', '--name', 'anon2', '-v', 'named:/other', 'vimg', 'true']);
  await ok(t, ['rm', 'anon2']);
  t.is((await volumeNames()).length, before.length + 2);
  const pruned = await ok(t, ['volume', 'prune', '-f']);
  t.regex(pruned.stdout, /^Deleted Volumes:\n[0-9a-f]{64}\n\nTotal reclaimed space: /);
  t.deepEqual(await volumeNames(), [...before, 'named'].sort());
  // -v over a VOLUME path replaces the anonymous volume.
  await ok(t, ['run', '--rm', '-v', 'named:/data', 'vimg', 'true']);
  t.deepEqual(await volumeNames(), [...before, 'named'].sort());
  // --rm: gone with the container, in the foreground and with -d.
  await ok(t, ['run', '--rm', 'vimg', 'true']);
  t.deepEqual(await volumeNames(), [...before, 'named'].sort());
  const id = (await ok(t, ['run', '-d', '--rm', 'vimg', 'true'])).stdout.trim();
  await cli(store.root, ['wait', id]);
  t.is((await ok(t, ['volume', 'ls', '-q'])).stdout, 'named\n');
  t.deepEqual(await volumeNames(), [...before, 'named'].sort());
  t.regex((await ok(t, ['volume', 'prune', '-af'])).stdout, /Deleted Volumes:\nnamed\n/);
});

test('--mount, --volumes-from and inspect\'s Mounts', async (t) => {
  const host = await mkdtemp(join(tmpdir(), 'nbox-vol-bind-'));
  t.teardown(() => rm(host, { recursive: true, force: true }));
  await writeFile(join(host, 'h'), 'host file\n');
  await ok(t, ['create', '--name', 'src', '-v', `${host}:/h:ro`, '-v', 'shared:/s', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=700', 'bb', 'true']);
  const mounts = JSON.parse((await ok(t, ['inspect', '-f', '{{json .Mounts}}', 'src'])).stdout) as Record<string, unknown>[];
  t.deepEqual(mounts, [
    { Type: 'bind', Source: host, Destination: '/h', Mode: 'ro', RW: false, Propagation: 'rprivate' },
    { Type: 'volume', Name: 'shared', Source: join(store.root, 'volumes/shared/_data'), Destination: '/s', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
    { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' },
  ]);
  const r = await ok(t, ['run', '--rm', '--volumes-from', 'src', 'bb', 'sh', '-c',
    'cat /h/h && echo via > /s/x && stat -c %a /t && grep -c " /t tmpfs" /proc/mounts && ! touch /h/nope 2>/dev/null']);
  t.is(r.stdout, 'host file\n700\n1\n');
  t.is((await ok(t, ['run', '--rm', '--volumes-from', 'src:ro', 'bb', 'sh', '-c', 'cat /s/x && ! touch /s/y 2>/dev/null'])).stdout, 'via\n');
  const bind = await ok(t, ['run', '--rm', '--mount', `type=bind,source=${host},target=/m,readonly`, '-v', `${host}:/z:Z`, 'bb', 'cat', '/m/h', '/z/h']);
  t.is(bind.stdout, 'host file\nhost file\n');
  t.regex(bind.stderr, /^nbox: note: -v .*:\/z:Z: the SELinux relabel option :z\/:Z is ignored/);
  // Parents are mounted before children, --tmpfs among them.
  await ok(t, ['run', '--rm', '-v', 'under-tmpfs:/tm/sub', '--tmpfs', '/tm', 'bb', 'sh', '-c', 'echo kept > /tm/sub/f']);
  t.is(await readFile(join(store.root, 'volumes/under-tmpfs/_data/f'), 'utf8'), 'kept\n');
  await ok(t, ['rm', 'src']);
  await ok(t, ['volume', 'rm', 'shared', 'under-tmpfs']);
});

test('system df counts volumes', async (t) => {
  await ok(t, ['volume', 'create', 'dfvol']);
  await writeFile(join(store.root, 'volumes/dfvol/_data/blob'), Buffer.alloc(4096));
  const df = await ok(t, ['system', 'df']);
  t.regex(df.stdout, /Local Volumes\s+1\s+0\s+4\.096kB\s+4\.096kB \(100%\)/);
  await ok(t, ['volume', 'rm', 'dfvol']);
});

// Attacks: a hostile image's VOLUME path, or a volume's own content, that points at host paths.
const HOST_DIR = `/tmp/nbox-vol-host-${process.pid}`;
const SECRET = 'host secret, never in a volume';

test('copy-up never follows an image\'s symlinks to the host', async (t) => {
  await mkdir(HOST_DIR, { recursive: true });
  t.teardown(() => rm(HOST_DIR, { recursive: true, force: true }));
  await writeFile(join(HOST_DIR, 'secret'), SECRET);
  const parent = await mkdtemp(join(tmpdir(), 'nbox-vol-evil-'));
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  const rootfs = await makeRootfs(parent);
  const { symlink } = await import('node:fs/promises');
  // /abs -> the host dir's path; /rel climbs out by ..; /links holds links to the secret.
  await symlink(HOST_DIR, join(rootfs, 'abs'));
  await symlink(`${'../'.repeat(16)}${HOST_DIR.slice(1)}`, join(rootfs, 'rel'));
  await symlink('/etc', join(rootfs, 'etclink'));
  await mkdir(join(rootfs, 'links'));
  await symlink(join(HOST_DIR, 'secret'), join(rootfs, 'links/abs'));
  await symlink(`${'../'.repeat(16)}${HOST_DIR.slice(1)}/secret`, join(rootfs, 'links/rel'));
  await store.nbox.importImage(tarOf(rootfs), { tags: ['evilvol:latest'], changes: ['VOLUME /abs /rel /etclink /links'] });
  const r = await ok(t, ['run', '--name', 'evil', 'evilvol', 'sh', '-c', 'echo pwned > /abs/secret; echo pwned > /rel/secret; ls /etclink; cat /links/abs /links/rel 2>&1; true']);
  t.is(await readFile(join(HOST_DIR, 'secret'), 'utf8'), SECRET);
  // /etclink resolves in the image: its volume holds the image's /etc, not the host's.
  t.regex(r.stdout, /^group\npasswd\n/);
  const mounts = JSON.parse((await ok(t, ['inspect', '-f', '{{json .Mounts}}', 'evil'])).stdout) as { Destination: string; Source: string }[];
  const source = (dest: string) => mounts.find((m) => m.Destination === dest)!.Source;
  t.deepEqual((await readdir(source('/etclink'))).sort(), ['group', 'passwd']);
  // The image had nothing at the in-root targets of /abs and /rel: their volumes got only what the container wrote.
  t.deepEqual(await readdir(source(`/abs`)).catch(() => []), []);
  for (const dest of ['/abs', '/rel']) {
    const mount = mounts.find((m) => m.Destination === dest);
    t.truthy(mount, dest);
  }
  // Links are copied as links, never followed.
  t.true((await lstat(join(source('/links'), 'abs'))).isSymbolicLink());
  t.true((await lstat(join(source('/links'), 'rel'))).isSymbolicLink());
  t.false(r.stdout.includes(SECRET));
  await ok(t, ['rm', '-v', 'evil']);
  t.is(await readFile(join(HOST_DIR, 'secret'), 'utf8'), SECRET);
});

test('a volume\'s symlinks never lead a mount or its removal to the host', async (t) => {
  await mkdir(HOST_DIR, { recursive: true });
  t.teardown(() => rm(HOST_DIR, { recursive: true, force: true }));
  await writeFile(join(HOST_DIR, 'secret'), SECRET);
  const made = `nbox-vol-made-${process.pid}`;
  t.teardown(() => rm(join('/tmp', made), { recursive: true, force: true }));
  await ok(t, ['run', '--rm', '-v', 'trap:/v', 'bb', 'sh', '-c',
    `ln -s ${HOST_DIR} /v/abs && ln -s ${'../'.repeat(16)}${HOST_DIR.slice(1)} /v/rel && ln -s ${HOST_DIR}/secret /v/file && ln -s /tmp /v/tmp && ln -s ../../../../../../tmp /v/reltmp`]);
  // Targets through the volume's links resolve inside the container's root: one whose in-root
  // parent is missing is refused, one that exists there is made there, never on the host.
  for (const mount of [['--mount', 'type=tmpfs,dst=/v/abs/t1'], ['--mount', 'type=tmpfs,dst=/v/rel/t2'], ['-v', 'other:/v/file'], ['-v', `${HOST_DIR}:/v/abs/x`]]) {
    const r = await cli(store.root, ['run', '--rm', '-v', 'trap:/v', ...mount, 'bb', 'sh', '-c', 'echo x > /v/abs/t1/f; echo y > /v/rel/t2/f; echo z > /v/file']);
    t.is(r.code, 125, mount.join(' '));
    t.regex(r.stderr, /bind-mount: mkdir \/v\/.*: No such file or directory/);
  }
  for (const link of ['tmp', 'reltmp']) {
    const r = await ok(t, ['run', '--rm', '-v', 'trap:/v', '--mount', `type=tmpfs,dst=/v/${link}/${made}`, 'bb', 'sh', '-c', `echo x > /v/${link}/${made}/f && grep -c " /tmp/${made} tmpfs" /proc/mounts`]);
    t.is(r.stdout, '1\n');
    t.false(existsSync(join('/tmp', made)), link);
  }
  // Copy-up into a new volume mounted under a link: resolved inside the root too (vimg's /tmp is empty).
  await ok(t, ['run', '--rm', '-v', 'trap:/v', '-v', `under:/v/tmp/${made}`, 'vimg', 'true']);
  t.false(existsSync(join('/tmp', made)));
  t.deepEqual((await readdir(HOST_DIR)).sort(), ['secret']);
  t.is(await readFile(join(HOST_DIR, 'secret'), 'utf8'), SECRET);
  // Removing a volume removes its links, not what they name.
  await ok(t, ['volume', 'rm', 'trap', 'under', 'other']);
  t.is(await readFile(join(HOST_DIR, 'secret'), 'utf8'), SECRET);
});

test('cp reads and writes a volume through its mount, and its symlinks never lead cp to the host', async (t) => {
  await mkdir(HOST_DIR, { recursive: true });
  t.teardown(() => rm(HOST_DIR, { recursive: true, force: true }));
  await writeFile(join(HOST_DIR, 'secret'), SECRET);
  await ok(t, ['run', '--name', 'cpvol', '-v', 'cpv:/v', 'bb', 'sh', '-c',
    `echo inside > /v/plain && ln -s ${HOST_DIR} /v/abs && ln -s ${'../'.repeat(16)}${HOST_DIR.slice(1)} /v/rel`]);
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', 'cpvol'])));
  const scratch = await mkdtemp(join(tmpdir(), 'nbox-vol-cp-'));
  t.teardown(() => rm(scratch, { recursive: true, force: true }));
  await ok(t, ['cp', 'cpvol:/v/plain', join(scratch, 'plain')]);
  t.is(await readFile(join(scratch, 'plain'), 'utf8'), 'inside\n');
  await writeFile(join(scratch, 'in'), 'copied in\n');
  await ok(t, ['cp', join(scratch, 'in'), 'cpvol:/v/in']);
  t.is(await readFile(join(store.root, 'volumes/cpv/_data/in'), 'utf8'), 'copied in\n');
  for (const link of ['abs', 'rel']) {
    const out = await cli(store.root, ['cp', `cpvol:/v/${link}/secret`, join(scratch, `got-${link}`)]);
    t.is(out.code, 1, out.stderr);
    t.false(existsSync(join(scratch, `got-${link}`)));
    await cli(store.root, ['cp', join(scratch, 'in'), `cpvol:/v/${link}/dropped`]);
  }
  t.deepEqual((await readdir(HOST_DIR)).sort(), ['secret']);
  await ok(t, ['rm', 'cpvol']);
  await ok(t, ['volume', 'rm', 'cpv']);
});

test('the library: nbox.volumes and run\'s typed mounts', async (t) => {
  const { nbox } = store;
  const created = await nbox.volumes.create({ name: 'apivol', labels: { app: 'x' } });
  t.like(created, { name: 'apivol', driver: 'local', labels: { app: 'x' }, mountpoint: join(store.root, 'volumes/apivol/_data') });
  t.deepEqual((await nbox.volumes.list({ filters: ['label=app=x'] })).map((v) => v.name), ['apivol']);
  const container = await nbox.run('vimg', {
    cmd: ['sh', '-c', 'cat /data/f > /api/copied'],
    volumes: [{ source: 'apivol', target: '/api' }],
    mounts: [{ type: 'tmpfs', source: '', target: '/scratch', readonly: false, mode: '', propagation: '' }],
    stdio: 'ignore',
  });
  t.is((await container.exited).exitCode, 0);
  t.is(await readFile(join(created.mountpoint, 'copied'), 'utf8'), 'from image\n');
  const anonymous = (await nbox.containerRecord(container.id)).config.mounts?.find((m) => m.anonymous)?.source;
  t.regex(anonymous ?? '', /^[0-9a-f]{64}$/);
  const inUse = await t.throwsAsync(nbox.volumes.remove('apivol'));
  t.is(inUse?.message, `remove apivol: volume is in use - [${container.id}]`);
  await nbox.removeContainer(container.id, { volumes: true });
  t.false(existsSync(join(store.root, 'volumes', anonymous!)));
  t.deepEqual(await nbox.volumes.prune({ all: true }), { deleted: ['apivol'], spaceReclaimed: 11 });
  t.is((await t.throwsAsync(nbox.volumes.inspect('apivol')))?.message, 'get apivol: no such volume');
});
