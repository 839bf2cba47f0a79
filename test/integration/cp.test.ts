// `nbox cp` both ways, Docker's path rules, and the attacks of a hostile
// container: symlinks that point at host paths (absolute and `../` relative)
// must never make cp read or write outside the container.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';

import { cli, exitCodeOf, rootTest, sharedTestStore, spawnCli } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

// A host directory with a secret, at a path a container's symlinks name.
const HOST_DIR = `/tmp/nbox-cp-host-${process.pid}`;
const SECRET = 'host secret, never to be copied';

test.before(async () => {
  if (!store.root) return;
  await mkdir(HOST_DIR, { recursive: true });
  await writeFile(join(HOST_DIR, 'secret'), SECRET);
  // One exited container: its symlinks point at the host dir's path, from / and by `..`.
  const made = await cli(store.root, ['run', '--name', 'evil', 'bb', 'sh', '-c',
    `mkdir -p /data/sub ${HOST_DIR} && echo inside > /data/sub/f && echo top > /data/top && ln -s ${HOST_DIR} /abs && ln -s ${"../".repeat(24)}..${HOST_DIR} /data/rel && ln -s /data/top /data/link`]);
  if (made.code !== 0) throw new Error(`container setup failed: ${made.stderr}`);
});

test.after.always(async () => {
  await rm(HOST_DIR, { recursive: true, force: true });
});

async function scratchDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-cp-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function tarList(tar: Buffer): string[] {
  return execFileSync('tar', ['-t'], { input: tar, encoding: 'utf8' }).split('\n').filter(Boolean);
}

async function cpToStdout(args: string[]): Promise<{ code: number | null; tar: Buffer; stderr: string }> {
  const child = spawnCli(store.root, ['cp', ...args]);
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.end();
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, tar: Buffer.concat(chunks), stderr };
}

test('cp of a file out of a stopped container into a directory keeps its name', async (t) => {
  const out = await scratchDir(t);
  const r = await cli(store.root, ['cp', 'evil:/data/top', out]);
  t.is(r.code, 0, r.stderr);
  t.is(await readFile(join(out, 'top'), 'utf8'), 'top\n');
});

test('cp of a directory to a missing path creates it with the contents', async (t) => {
  const out = await scratchDir(t);
  t.is((await cli(store.root, ['cp', 'evil:/data/sub', join(out, 'copy')])).code, 0);
  t.is(await readFile(join(out, 'copy/f'), 'utf8'), 'inside\n');
});

test('cp of DIR/. into an existing directory copies the contents only', async (t) => {
  const out = await scratchDir(t);
  t.is((await cli(store.root, ['cp', 'evil:/data/sub/.', out])).code, 0);
  t.deepEqual(await readdir(out), ['f']);
});

test('cp - writes a tar named by the base name; a symlink is copied as a link, -L follows it', async (t) => {
  const plain = await cpToStdout(['evil:/data/link', '-']);
  t.is(plain.code, 0, plain.stderr);
  t.deepEqual(tarList(plain.tar), ['link']);
  t.regex(execFileSync('tar', ['-tv'], { input: plain.tar, encoding: 'utf8' }), /link -> \/data\/top/);
  const followed = await cpToStdout(['-L', 'evil:/data/link', '-']);
  t.is(execFileSync('tar', ['-xO'], { input: followed.tar, encoding: 'utf8' }), 'top\n');
});

test('cp of a missing path: Docker message, exit 1', async (t) => {
  const r = await cli(store.root, ['cp', 'evil:/nope', tmpdir()]);
  t.is(r.code, 1);
  t.is(r.stderr, 'nbox: Could not find the file /nope in container evil\n');
});

test('cp with an unknown container: No such container, exit 1', async (t) => {
  const r = await cli(store.root, ['cp', 'ghost:/etc', tmpdir()]);
  t.is(r.code, 1);
  t.is(r.stderr, 'nbox: No such container: ghost\n');
});

test('cp between two local paths is refused', async (t) => {
  const r = await cli(store.root, ['cp', '/etc/hostname', '/tmp/x']);
  t.is(r.code, 1);
  t.regex(r.stderr, /must specify at least one container source/);
});

test('attack: an absolute symlink to a host dir cannot make cp read the host file', async (t) => {
  const out = await scratchDir(t);
  const r = await cli(store.root, ['cp', 'evil:/abs/secret', join(out, 'got')]);
  t.is(r.code, 1);
  t.regex(r.stderr, /Could not find the file \/abs\/secret in container evil/);
  t.false(existsSync(join(out, 'got')));
});

test('attack: a ../ relative symlink to a host dir cannot make cp read the host file', async (t) => {
  const r = await cpToStdout(['evil:/data/rel/secret', '-']);
  t.is(r.code, 1);
  t.false(r.tar.includes(SECRET));
});

test('attack: copying the symlinked directory itself with -L archives the container\'s directory, not the host\'s', async (t) => {
  const r = await cpToStdout(['-L', 'evil:/abs', '-']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(tarList(r.tar), ['abs/']);
  t.false(r.tar.includes(SECRET));
});

test('attack: cp into a symlink to a host dir writes inside the container only', async (t) => {
  const src = await scratchDir(t);
  await writeFile(join(src, 'planted'), 'planted');
  for (const dest of ['evil:/abs/', 'evil:/data/rel/']) {
    const r = await cli(store.root, ['cp', join(src, 'planted'), dest]);
    t.is(r.code, 0, r.stderr);
    t.false(existsSync(join(HOST_DIR, 'planted')), `${dest} wrote into the host's directory`);
  }
  // It landed where the container's own symlink leads: its own copy of that path.
  const back = await cpToStdout([`evil:${HOST_DIR}/planted`, '-']);
  t.is(execFileSync('tar', ['-xO'], { input: back.tar, encoding: 'utf8' }), 'planted');
});

test('attack: a tar entry below a container symlink replaces the link, never follows it', async (t) => {
  const src = await scratchDir(t);
  await mkdir(join(src, 'abs'));
  await writeFile(join(src, 'abs/through'), 'through');
  const r = await cli(store.root, ['cp', join(src, 'abs'), 'evil:/']);
  t.is(r.code, 0, r.stderr);
  t.false(existsSync(join(HOST_DIR, 'through')));
  const back = await cpToStdout(['evil:/abs/through', '-']);
  t.is(execFileSync('tar', ['-xO'], { input: back.tar, encoding: 'utf8' }), 'through');
});

test('cp into a container: a file keeps its mode, root owns it unless -a', async (t) => {
  const src = await scratchDir(t);
  await writeFile(join(src, 'tool'), 'x', { mode: 0o750 });
  execFileSync('chown', ['1234:4321', join(src, 'tool')]);
  t.is((await cli(store.root, ['cp', join(src, 'tool'), 'evil:/data/plain'])).code, 0);
  t.is((await cli(store.root, ['cp', '-a', join(src, 'tool'), 'evil:/data/kept'])).code, 0);
  const listing = execFileSync('tar', ['-tv', '--numeric-owner'], { input: (await cpToStdout(['evil:/data/.', '-'])).tar, encoding: 'utf8' });
  t.regex(listing, /-rwxr-x--- 0\/0 .* \.\/plain/);
  t.regex(listing, /-rwxr-x--- 1234\/4321 .* \.\/kept/);
});

test('cp - into a container unpacks a tar stream; the copy shows in diff', async (t) => {
  const src = await scratchDir(t);
  await writeFile(join(src, 'streamed'), 'streamed');
  const tar = execFileSync('tar', ['-c', '-C', src, 'streamed']);
  const child = spawnCli(store.root, ['cp', '-', 'evil:/tmp']);
  child.stdin!.end(tar);
  t.is(await exitCodeOf(child), 0);
  t.regex((await cli(store.root, ['diff', 'evil'])).stdout, /^A \/tmp\/streamed$/m);
});

test('cp into and out of a running container', async (t) => {
  const running = spawnCli(store.root, ['run', '--name', 'busy', 'bb', 'sh', '-c', 'echo up > /tmp/up; sleep 300'], { stdio: 'ignore' });
  t.teardown(async () => {
    if (running.exitCode === null) running.kill('SIGKILL');
    await exitCodeOf(running);
    await cli(store.root, ['rm', '-f', 'busy']);
  });
  let out: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 200 && !out.includes('up\n'); i++) {
    out = (await cpToStdout(['busy:/tmp/up', '-'])).tar;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.true(out.includes('up\n'));
  const src = await scratchDir(t);
  await writeFile(join(src, 'in'), 'in');
  t.is((await cli(store.root, ['cp', join(src, 'in'), 'busy:/tmp/in'])).code, 0);
  t.is(execFileSync('tar', ['-xO'], { input: (await cpToStdout(['busy:/tmp/in', '-'])).tar, encoding: 'utf8' }), 'in');
  // The running container sees the copy at once, also in a directory only its image held (/etc):
  // cp writes through the container's own mounts, not into its upper dir beneath the overlay.
  t.is((await cli(store.root, ['cp', join(src, 'in'), 'busy:/etc/in'])).code, 0);
  t.is((await cli(store.root, ['exec', 'busy', 'cat', '/etc/in'])).stdout, 'in');
  // procfs's /proc/self means nothing from outside the container: Docker's message, not an fd path of nbox's.
  const self = await cli(store.root, ['cp', 'busy:/proc/self/status', '-']);
  t.is(self.stderr, 'nbox: Could not find the file /proc/self/status in container busy\n');
});

// The swaps below happen at fixed points of a copy made through the library:
// after the container path was looked up, before it is read or written.
async function upperOf(ref: string): Promise<string> {
  return join((await store.nbox.containerRecord(ref)).dir, 'upper');
}

function swapForHostLink(upper: string, name: string): void {
  rmSync(join(upper, name), { recursive: true });
  symlinkSync(HOST_DIR, join(upper, name));
}

test('attack: a directory swapped for a host symlink after the lookup cannot make cp read the host file', async (t) => {
  // The decoy is as long as the secret: a read of the wrong file would not even fail on its size.
  const decoy = 'd'.repeat(SECRET.length);
  t.is((await cli(store.root, ['run', '--name', 'swap-out', 'bb', 'sh', '-c', `mkdir /s && printf ${decoy} > /s/secret`])).code, 0);
  const tar = await store.nbox.copyFromContainer('swap-out', '/s/secret');
  swapForHostLink(await upperOf('swap-out'), 's');
  const chunks: Buffer[] = [];
  await t.throwsAsync(async () => {
    for await (const chunk of tar) chunks.push(chunk as Buffer);
  });
  t.false(Buffer.concat(chunks).includes(SECRET));
});

test('attack: a directory swapped for a host symlink after the lookup cannot make cp write into the host', async (t) => {
  t.is((await cli(store.root, ['run', '--name', 'swap-in', 'bb', 'sh', '-c', 'mkdir /w'])).code, 0);
  const upper = await upperOf('swap-in');
  const src = await scratchDir(t);
  await writeFile(join(src, 'dropped'), 'dropped');
  // The swap happens when the tar has been read, between the lookup of /w and the writes.
  const tar = new PassThrough();
  const body = execFileSync('tar', ['-c', '-C', src, 'dropped']);
  tar.end(body);
  tar.once('end', () => swapForHostLink(upper, 'w'));
  await t.throwsAsync(store.nbox.copyToContainer('swap-in', '/w', tar));
  t.false(existsSync(join(HOST_DIR, 'dropped')));
});

test('attack: a directory swapped for a host symlink after the lookup cannot make cp list the host directory', async (t) => {
  t.is((await cli(store.root, ['run', '--name', 'swap-list', 'bb', 'sh', '-c', 'mkdir /s && echo decoy > /s/decoy'])).code, 0);
  const tar = await store.nbox.copyFromContainer('swap-list', '/s');
  swapForHostLink(await upperOf('swap-list'), 's');
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of tar) chunks.push(chunk as Buffer);
  } catch {
    // Failing is fine; what was streamed until then is what counts.
  }
  t.false(Buffer.concat(chunks).includes('secret'), 'a host file name was archived');
});

test('attack: a directory swapped for a host symlink while export streams cannot make export read the host file', async (t) => {
  const decoy = 'd'.repeat(SECRET.length);
  // A large file ahead of the secret in the same directory: the stream is inside it when the swap happens,
  // after /s was listed and before /s/secret is read.
  t.is((await cli(store.root, ['run', '--name', 'swap-export', 'bb', 'sh', '-c', `mkdir /s && head -c 4000000 /dev/zero > /s/a && printf ${decoy} > /s/secret`])).code, 0);
  const tar = await store.nbox.exportContainer('swap-export');
  const chunks: Buffer[] = [];
  let swapped = false;
  try {
    for await (const chunk of tar) {
      chunks.push(chunk as Buffer);
      if (!swapped && Buffer.concat(chunks).includes('s/a\0')) {
        swapForHostLink(await upperOf('swap-export'), 's');
        swapped = true;
      }
    }
  } catch {
    // Failing is fine; what was streamed until then is what counts.
  }
  t.true(swapped);
  t.false(Buffer.concat(chunks).includes(SECRET));
});

test('cp reads and writes a directory bound with -v, both ways, and inspect lists the bind', async (t) => {
  const bound = await scratchDir(t);
  await writeFile(join(bound, 'from-host'), 'host side');
  const ro = await scratchDir(t);
  t.is((await cli(store.root, ['run', '--name', 'binds', '-v', `${bound}:/data`, '-v', `${ro}:/ro:ro`, 'bb', 'true'])).code, 0);
  t.is(execFileSync('tar', ['-xO'], { input: (await cpToStdout(['binds:/data/from-host', '-'])).tar, encoding: 'utf8' }), 'host side');
  t.deepEqual(tarList((await cpToStdout(['binds:/data', '-'])).tar).sort(), ['data/', 'data/from-host']);
  const src = await scratchDir(t);
  await writeFile(join(src, 'to-bind'), 'copied in');
  t.is((await cli(store.root, ['cp', join(src, 'to-bind'), 'binds:/data/'])).code, 0);
  t.is(await readFile(join(bound, 'to-bind'), 'utf8'), 'copied in');
  const refused = await cli(store.root, ['cp', join(src, 'to-bind'), 'binds:/ro/']);
  t.is(refused.code, 1);
  t.is(refused.stderr, 'nbox: mounted volume is marked read-only\n');
  t.deepEqual(await readdir(ro), []);
  const mounts = JSON.parse((await cli(store.root, ['inspect', '-f', '{{json .Mounts}}', 'binds'])).stdout);
  t.deepEqual(mounts, [
    { Type: 'bind', Source: bound, Destination: '/data', Mode: '', RW: true, Propagation: 'rprivate' },
    { Type: 'bind', Source: ro, Destination: '/ro', Mode: 'ro', RW: false, Propagation: 'rprivate' },
  ]);
});

test('attack: a symlink inside a bound directory resolves inside it, never on the host', async (t) => {
  const bound = await scratchDir(t);
  t.is((await cli(store.root, ['run', '--name', 'bind-evil', '-v', `${bound}:/data`, 'bb', 'sh', '-c', `ln -s ${HOST_DIR} /data/abs && ln -s ../../../../..${HOST_DIR} /data/rel`])).code, 0);
  for (const link of ['abs', 'rel']) {
    const out = await cpToStdout([`bind-evil:/data/${link}/secret`, '-']);
    t.is(out.code, 1);
    t.false(out.tar.includes(SECRET));
  }
  const src = await scratchDir(t);
  await writeFile(join(src, 'dropped'), 'dropped');
  await cli(store.root, ['cp', join(src, 'dropped'), 'bind-evil:/data/abs/']);
  t.false(existsSync(join(HOST_DIR, 'dropped')));
});

// A bound file is a mount point in the container: cp reads its host file and writes it in place, so the
// mount stays and the container reads the new content through it.
async function boundFile(t: { teardown(fn: () => Promise<void>): void }, content: string): Promise<string> {
  const file = join(await scratchDir(t), 'bound');
  await writeFile(file, content);
  return file;
}

async function emptyStub(ref: string, name: string): Promise<boolean> {
  const stats = await lstat(join(await upperOf(ref), name));
  return stats.isFile() && stats.size === 0;
}

async function catOut(ref: string, path: string): Promise<string> {
  const out = await cpToStdout([`${ref}:${path}`, '-']);
  return out.code === 0 ? execFileSync('tar', ['-xO'], { input: out.tar, encoding: 'utf8' }) : `exit ${out.code}: ${out.stderr}`;
}

test('cp into and out of a file bound with -v on a running container writes the host file; the mount stays', async (t) => {
  const file = await boundFile(t, 'old');
  const running = spawnCli(store.root, ['run', '--name', 'filebind-live', '-v', `${file}:/f`, 'bb', 'sh', '-c', 'touch /tmp/up; sleep 300'], { stdio: 'ignore' });
  t.teardown(async () => {
    if (running.exitCode === null) running.kill('SIGKILL');
    await exitCodeOf(running);
    await cli(store.root, ['rm', '-f', 'filebind-live']);
  });
  for (let i = 0; i < 200 && (await cpToStdout(['filebind-live:/tmp/up', '-'])).code !== 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(await catOut('filebind-live', '/f'), 'old');
  const src = await scratchDir(t);
  await writeFile(join(src, 'new'), 'new content');
  const r = await cli(store.root, ['cp', join(src, 'new'), 'filebind-live:/f']);
  t.is(r.code, 0, r.stderr);
  t.is(await readFile(file, 'utf8'), 'new content');
  t.regex((await cli(store.root, ['exec', 'filebind-live', 'cat', '/proc/mounts'])).stdout, / \/f /);
  t.is((await cli(store.root, ['exec', 'filebind-live', 'cat', '/f'])).stdout, 'new content');
  t.is(await catOut('filebind-live', '/f'), 'new content');
  // The container's own /etc/hosts alike: written in its file in the container directory, still mounted.
  await writeFile(join(src, 'hosts'), '10.9.9.9\tcopied\n');
  t.is((await cli(store.root, ['cp', join(src, 'hosts'), 'filebind-live:/etc/hosts'])).code, 0);
  t.is(await readFile(join((await store.nbox.containerRecord('filebind-live')).dir, 'hosts'), 'utf8'), '10.9.9.9\tcopied\n');
  t.regex((await cli(store.root, ['exec', 'filebind-live', 'cat', '/proc/mounts'])).stdout, / \/etc\/hosts /);
  t.is((await cli(store.root, ['exec', 'filebind-live', 'cat', '/etc/hosts'])).stdout, '10.9.9.9\tcopied\n');
});

test('cp into and out of a file bound with -v on a stopped container writes the host file; start still mounts it', async (t) => {
  const file = await boundFile(t, 'old');
  t.is((await cli(store.root, ['run', '--name', 'filebind-stopped', '-v', `${file}:/f`, 'bb', 'cat', '/f'])).code, 0);
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', 'filebind-stopped'])));
  t.is(await catOut('filebind-stopped', '/f'), 'old');
  const src = await scratchDir(t);
  await writeFile(join(src, 'new'), 'new content');
  const r = await cli(store.root, ['cp', join(src, 'new'), 'filebind-stopped:/f']);
  t.is(r.code, 0, r.stderr);
  t.is(await readFile(file, 'utf8'), 'new content');
  t.is(await catOut('filebind-stopped', '/f'), 'new content');
  // Nothing landed in the container's own layer beneath the mount: its mount point stays an empty stub.
  t.is(await emptyStub('filebind-stopped', 'f'), true);
  // Read through the mount: the stub beneath it is empty.
  t.is((await cli(store.root, ['start', '-a', 'filebind-stopped'])).stdout, 'new content');
});

test('cp of /etc/hosts and /etc/resolv.conf out of and into a stopped container uses its own files, which start mounts', async (t) => {
  // No bridge: a bridge's start writes /etc/hosts anew with the container's address, as Docker's does.
  t.is((await cli(store.root, ['run', '--name', 'etcfiles', '--network', 'none', '--add-host', 'known:10.1.2.3', 'bb', 'cat', '/etc/hosts'])).code, 0);
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', 'etcfiles'])));
  const dir = (await store.nbox.containerRecord('etcfiles')).dir;
  t.regex(await catOut('etcfiles', '/etc/hosts'), /^10\.1\.2\.3\tknown$/m);
  t.is(await catOut('etcfiles', '/etc/resolv.conf'), await readFile(join(dir, 'resolv.conf'), 'utf8'));
  const src = await scratchDir(t);
  await writeFile(join(src, 'hosts'), '10.9.9.9\tcopied\n');
  const r = await cli(store.root, ['cp', join(src, 'hosts'), 'etcfiles:/etc/hosts']);
  t.is(r.code, 0, r.stderr);
  t.is(await readFile(join(dir, 'hosts'), 'utf8'), '10.9.9.9\tcopied\n');
  t.is((await cli(store.root, ['start', '-a', 'etcfiles'])).stdout, '10.9.9.9\tcopied\n');
  t.is(await emptyStub('etcfiles', 'etc/hosts'), true);
});

test('cp into a file bound read-only is refused, nothing changed', async (t) => {
  const file = await boundFile(t, 'kept');
  t.is((await cli(store.root, ['run', '--name', 'filebind-ro', '-v', `${file}:/f:ro`, 'bb', 'true'])).code, 0);
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', 'filebind-ro'])));
  const src = await scratchDir(t);
  await writeFile(join(src, 'f'), 'replaced');
  for (const dest of ['filebind-ro:/f', 'filebind-ro:/']) {
    const r = await cli(store.root, ['cp', join(src, 'f'), dest]);
    t.is(r.code, 1, dest);
    t.is(r.stderr, 'nbox: mounted volume is marked read-only\n');
  }
  t.is(await readFile(file, 'utf8'), 'kept');
  t.is(await emptyStub('filebind-ro', 'f'), true);
});

test('cp of a directory onto a bound file: Docker\'s error, nothing changed', async (t) => {
  const file = await boundFile(t, 'kept');
  t.is((await cli(store.root, ['run', '--name', 'filebind-dir', '-v', `${file}:/f`, 'bb', 'true'])).code, 0);
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', 'filebind-dir'])));
  const src = await scratchDir(t);
  await mkdir(join(src, 'f'));
  await writeFile(join(src, 'f/inside'), 'x');
  const tar = execFileSync('tar', ['-c', '-C', src, 'f']);
  const child = spawnCli(store.root, ['cp', '-', 'filebind-dir:/']);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.end(tar);
  t.is(await exitCodeOf(child), 1);
  t.is(stderr, 'nbox: cannot overwrite non-directory "/f" with directory "/"\n');
  t.is(await readFile(file, 'utf8'), 'kept');
  t.is(await emptyStub('filebind-dir', 'f'), true);
});

test('attack: a bound file\'s host name swapped for a symlink is not followed, neither read nor written', async (t) => {
  const file = await boundFile(t, 'old');
  t.is((await cli(store.root, ['run', '--name', 'filebind-link', '-v', `${file}:/f`, 'bb', 'true'])).code, 0);
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', 'filebind-link'])));
  await rm(file);
  symlinkSync(join(HOST_DIR, 'secret'), file);
  t.false((await cpToStdout(['-L', 'filebind-link:/f', '-'])).tar.includes(SECRET));
  const src = await scratchDir(t);
  await writeFile(join(src, 'new'), 'new');
  const r = await cli(store.root, ['cp', join(src, 'new'), 'filebind-link:/f']);
  t.is(r.code, 1);
  t.is(await readFile(join(HOST_DIR, 'secret'), 'utf8'), SECRET);
});

// sharedWithSub is a host directory a container gets whole (writable), and its subdirectory sub, bound again.
async function sharedWithSub(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const shared = await scratchDir(t);
  await mkdir(join(shared, 'sub'));
  await writeFile(join(shared, 'sub', 'secret'), 'bound');
  return shared;
}

// The container swaps the bound source's directory for a symlink to the host directory, through the bind of its parent.
const SWAP_SUB = `mv /shared/sub /shared/sub.old && ln -s ${HOST_DIR} /shared/sub`;

test('attack: a running container that swaps its bound file\'s directory for a host symlink, through a bind of the parent, cannot make cp read or write the host file', async (t) => {
  const shared = await sharedWithSub(t);
  const made = await cli(store.root, ['run', '-d', '--name', 'bindswap-live', '-v', `${shared}:/shared`, '-v', `${shared}/sub/secret:/app/secret`, 'bb', 'sleep', '300']);
  t.is(made.code, 0, made.stderr);
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', 'bindswap-live'])));
  t.is((await cli(store.root, ['exec', 'bindswap-live', 'sh', '-c', SWAP_SUB])).code, 0);
  // cp sees the file the container has bound, as the container does.
  t.is(await catOut('bindswap-live', '/app/secret'), 'bound');
  const src = await scratchDir(t);
  await writeFile(join(src, 'secret'), 'copied');
  const r = await cli(store.root, ['cp', join(src, 'secret'), 'bindswap-live:/app/secret']);
  t.is(r.code, 0, r.stderr);
  t.is(await readFile(join(HOST_DIR, 'secret'), 'utf8'), SECRET);
  t.is(await readFile(join(shared, 'sub.old', 'secret'), 'utf8'), 'copied');
  t.is((await cli(store.root, ['exec', 'bindswap-live', 'cat', '/app/secret'])).stdout, 'copied');
  t.regex((await cli(store.root, ['exec', 'bindswap-live', 'cat', '/proc/mounts'])).stdout, / \/app\/secret /);
});

test('attack: a container that swapped its bound directory\'s source for a host symlink before it stopped cannot make cp reach the host directory', async (t) => {
  const shared = await sharedWithSub(t);
  const made = await cli(store.root, ['run', '--name', 'bindswap-stopped', '-v', `${shared}:/shared`, '-v', `${shared}/sub:/app`, 'bb', 'sh', '-c', SWAP_SUB]);
  t.is(made.code, 0, made.stderr);
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', 'bindswap-stopped'])));
  const refused = `nbox: the source of the mount at /app, ${shared}/sub, changed since the container started: a symlink or a file is on its path\n`;
  const out = await cpToStdout(['bindswap-stopped:/app/secret', '-']);
  t.is(out.code, 1);
  t.is(out.stderr, refused);
  t.false(out.tar.includes(SECRET));
  const src = await scratchDir(t);
  await writeFile(join(src, 'pwned'), 'pwned');
  const r = await cli(store.root, ['cp', join(src, 'pwned'), 'bindswap-stopped:/app/']);
  t.is(r.code, 1);
  t.is(r.stderr, refused);
  t.false(existsSync(join(HOST_DIR, 'pwned')));
  // The rest of the container is still there to copy: the shared bind, which holds the container's symlink.
  t.is(await catOut('bindswap-stopped', '/shared/sub.old/secret'), 'bound');
  // A container an older nbox started has no record of its binds: the path as configured is walked, and refused alike.
  await rm(join((await store.nbox.containerRecord('bindswap-stopped')).dir, 'bind-sources.json'));
  const unrecorded = await cpToStdout(['bindswap-stopped:/app/secret', '-']);
  t.is(unrecorded.stderr, refused);
  t.false(unrecorded.tar.includes(SECRET));
  t.is((await cli(store.root, ['cp', join(src, 'pwned'), 'bindswap-stopped:/app/'])).stderr, refused);
  t.false(existsSync(join(HOST_DIR, 'pwned')));
});

test('attack: a container swapping a directory and a symlink under cp makes each copy fail on one line, never a stack trace', async (t) => {
  const made = await cli(store.root, ['run', '-d', '--name', 'cp-race', 'bb', 'sh', '-c',
    'mkdir -p /r/dir && echo s > /r/dir/secret && ln -s /etc /r/link; while :; do mv /r/dir /r/a; mv /r/a /r/dir; mv /r/link /r/a; mv /r/a /r/link; done']);
  t.is(made.code, 0, made.stderr);
  t.teardown(async () => void (await cli(store.root, ['rm', '-f', 'cp-race'])));
  const failures = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const out = await cpToStdout(['cp-race:/r/a/secret', '-']);
    if (out.code !== 0) failures.add(out.stderr.replace(/\/proc\/self\/fd\/\d+/g, '/proc/self/fd/N'));
  }
  for (const stderr of failures) t.regex(stderr, /^nbox: [^\n]*\n$/, stderr);
});

test('cp of a host file named with a trailing slash: Docker\'s lstat line', async (t) => {
  const src = await scratchDir(t);
  await writeFile(join(src, 'plain'), 'x');
  const r = await cli(store.root, ['cp', `${join(src, 'plain')}/`, 'evil:/tmp/']);
  t.is(r.code, 1);
  t.is(r.stderr, `nbox: lstat ${join(src, 'plain')}/: not a directory\n`);
});
