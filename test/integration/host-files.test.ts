// Host files nbox writes for the user: `save -o` and `export -o` must feed a
// device, a FIFO or a socket rather than replace it, and keep a symlinked output
// a symlink; `login` and `logout` keep a symlinked config.json.
import type { ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { cli, rootTest, sharedTestStore } from '../helpers/env';

const test = rootTest();
const store = sharedTestStore(test);

async function scratch(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-host-files-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

// tarNames lists a tar's member names.
function tarNames(tar: Buffer): string[] {
  return execFileSync('tar', ['-t'], { input: tar, encoding: 'utf8' }).trim().split('\n');
}

test('save -o a device node, or a link to one (the /dev/null and /dev/stdout shapes), writes into it and keeps it', async (t) => {
  const dir = await scratch(t);
  const device = join(dir, 'null');
  execFileSync('mknod', ['-m', '666', device, 'c', '1', '3']);
  await symlink(device, join(dir, 'stdout'));
  for (const output of [device, join(dir, 'stdout')]) {
    const r = await cli(store.root, ['save', '-o', output, 'bb']);
    t.is(r.code, 0, r.stderr);
    t.true((await stat(device)).isCharacterDevice(), output);
    t.is((await stat(device)).rdev, (await stat('/dev/null')).rdev);
  }
  t.true((await lstat(join(dir, 'stdout'))).isSymbolicLink());
  t.deepEqual((await readdir(dir)).sort(), ['null', 'stdout']);
});

test('save -o a link to /proc/self/fd/1 writes into nbox stdout and keeps the link', async (t) => {
  const dir = await scratch(t);
  const link = join(dir, 'stdout');
  await symlink('/proc/self/fd/1', link);
  const r = await cli(store.root, ['save', '-o', link, 'bb']);
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.includes('manifest.json'));
  t.is(await readlink(link), '/proc/self/fd/1');
});

test('save -o a FIFO feeds its reader', async (t) => {
  const dir = await scratch(t);
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  reader.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const read = new Promise((resolve) => reader.on('close', resolve));
  t.teardown(() => void reader.kill());
  const r = await cli(store.root, ['save', '-o', fifo, 'bb']);
  t.is(r.code, 0, r.stderr);
  // A replaced FIFO never gets its writer: the reader would wait forever.
  if (!(await stat(fifo)).isFIFO()) return t.fail('the FIFO was replaced');
  await read;
  t.true(tarNames(Buffer.concat(chunks)).includes('manifest.json'));
});

test('save -o a unix socket sends the archive to its listener', async (t) => {
  const dir = await scratch(t);
  const socketPath = join(dir, 'sock');
  const chunks: Buffer[] = [];
  let received!: () => void;
  const done = new Promise<void>((resolve) => (received = resolve));
  const server = createNetServer((socket) => {
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', received);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const r = await cli(store.root, ['save', '-o', socketPath, 'bb']);
  t.is(r.code, 0, r.stderr);
  if (!(await stat(socketPath)).isSocket()) return t.fail('the socket was replaced');
  await done;
  t.true(tarNames(Buffer.concat(chunks)).includes('manifest.json'));
});

// linkedTarget makes DIR/real/images.tar holding "old" and the link DIR/images.tar → real/images.tar.
async function linkedTarget(t: ExecutionContext): Promise<{ dir: string; target: string; link: string }> {
  const dir = await scratch(t);
  await mkdir(join(dir, 'real'));
  const target = join(dir, 'real', 'images.tar');
  const link = join(dir, 'images.tar');
  await writeFile(target, 'old');
  await symlink('real/images.tar', link);
  return { dir, target, link };
}

test('save -o through a symlink replaces its target and keeps the link', async (t) => {
  const { target, link } = await linkedTarget(t);
  const r = await cli(store.root, ['save', '-o', link, 'bb']);
  t.is(r.code, 0, r.stderr);
  t.is(await readlink(link), 'real/images.tar');
  t.true(tarNames(await readFile(target)).includes('manifest.json'));
});

test('export -o through a symlink replaces its target and keeps the link', async (t) => {
  const { target, link } = await linkedTarget(t);
  const made = await cli(store.root, ['run', '--name', 'exported', 'bb', 'true']);
  t.is(made.code, 0, made.stderr);
  t.teardown(async () => void (await cli(store.root, ['rm', 'exported'])));
  const exported = await cli(store.root, ['export', '-o', link, 'exported']);
  t.is(exported.code, 0, exported.stderr);
  t.is(await readlink(link), 'real/images.tar');
  t.true(tarNames(await readFile(target)).includes('bin/busybox') || tarNames(await readFile(target)).includes('./bin/busybox'));
});

test('a failed save -o through a symlink leaves the link and its target as they were', async (t) => {
  const { dir, target, link } = await linkedTarget(t);
  const failed = await cli(store.root, ['save', '-o', link, 'no-such-image']);
  t.is(failed.code, 1);
  t.is(await readFile(target, 'utf8'), 'old');
  t.deepEqual((await readdir(join(dir, 'real'))).sort(), ['images.tar']);
});

test('save -o through a dangling symlink makes the target through it', async (t) => {
  const { dir } = await linkedTarget(t);
  await symlink('real/new.tar', join(dir, 'new.tar'));
  t.is((await cli(store.root, ['save', '-o', join(dir, 'new.tar'), 'bb'])).code, 0);
  t.is(await readlink(join(dir, 'new.tar')), 'real/new.tar');
  t.true(tarNames(await readFile(join(dir, 'real', 'new.tar'))).includes('manifest.json'));
});

test('login and logout through a symlinked config.json keep the link and replace its target', async (t) => {
  const dir = await scratch(t);
  const registry = createHttpServer((request, response) => {
    response.writeHead(request.url === '/v2/' ? 200 : 404, { 'Content-Type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => registry.close(() => resolve())));
  const host = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
  await mkdir(join(dir, 'dotfiles'));
  await mkdir(join(dir, 'docker'));
  const target = join(dir, 'dotfiles', 'docker-config.json');
  const link = join(dir, 'docker', 'config.json');
  await writeFile(target, '{"credsStore": "none"}\n');
  await symlink('../dotfiles/docker-config.json', link);
  const env = { ...process.env, NBOX_ROOT: store.root, DOCKER_CONFIG: join(dir, 'docker'), NBOX_AUTH_FILE: '', REGISTRY_AUTH_FILE: '' };

  const login = await cli(store.root, ['login', '-u', 'alice', '--password-stdin', host], { env, input: 'secret\n' });
  t.is(login.stdout, 'Login Succeeded\n', login.stderr);
  t.is(await readlink(link), '../dotfiles/docker-config.json');
  t.deepEqual(JSON.parse(await readFile(target, 'utf8')), { credsStore: 'none', auths: { [host]: { auth: Buffer.from('alice:secret').toString('base64') } } });

  const logout = await cli(store.root, ['logout', host], { env });
  t.is(logout.stdout, `Removing login credentials for ${host}\n`, logout.stderr);
  t.is(await readlink(link), '../dotfiles/docker-config.json');
  t.deepEqual(JSON.parse(await readFile(target, 'utf8')), { credsStore: 'none', auths: {} });
});
