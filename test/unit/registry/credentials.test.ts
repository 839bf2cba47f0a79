import test from 'ava';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialsPath, lookupCredentials, removeCredentials, saveCredentials } from '../../../src/registry/credentials';

async function tempConfigDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-creds-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('credentialsPath follows options, NBOX_AUTH_FILE, REGISTRY_AUTH_FILE, DOCKER_CONFIG, HOME', (t) => {
  t.is(credentialsPath({ path: '/x/auth.json', env: { NBOX_AUTH_FILE: '/y' } }), '/x/auth.json');
  t.is(credentialsPath({ env: { NBOX_AUTH_FILE: '/y', REGISTRY_AUTH_FILE: '/z' } }), '/y');
  t.is(credentialsPath({ env: { REGISTRY_AUTH_FILE: '/z', DOCKER_CONFIG: '/d' } }), '/z');
  t.is(credentialsPath({ env: { DOCKER_CONFIG: '/d', HOME: '/h' } }), '/d/config.json');
  t.is(credentialsPath({ env: { HOME: '/h' } }), '/h/.docker/config.json');
});

test('saveCredentials writes Docker config.json with mode 0600 in a 0700 directory, keeping other keys', async (t) => {
  const dir = await tempConfigDir(t);
  const file = join(dir, 'docker', 'config.json');
  const env = { DOCKER_CONFIG: join(dir, 'docker') };
  await saveCredentials('127.0.0.1:5000', { username: 'alice', password: 'pa:ss' }, { env });
  t.is((await stat(file)).mode & 0o777, 0o600);
  t.is((await stat(join(dir, 'docker'))).mode & 0o777, 0o700);
  await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')), credsStore: 'none', proxies: { default: {} } }));
  await saveCredentials('docker.io', { username: 'bob', password: 'hub' }, { env });
  const config = JSON.parse(await readFile(file, 'utf8'));
  t.deepEqual(config.auths, {
    '127.0.0.1:5000': { auth: Buffer.from('alice:pa:ss').toString('base64') },
    'https://index.docker.io/v1/': { auth: Buffer.from('bob:hub').toString('base64') },
  });
  t.is(config.credsStore, 'none');
  t.deepEqual(config.proxies, { default: {} });
  t.is((await stat(file)).mode & 0o777, 0o600);
  t.deepEqual(await lookupCredentials('127.0.0.1:5000', { env }), { username: 'alice', password: 'pa:ss' });
  t.deepEqual(await lookupCredentials('index.docker.io', { env }), { username: 'bob', password: 'hub' });
  t.is(await lookupCredentials('other:1', { env }), null);
});

test('lookupCredentials matches URL keys by host and reads username/password entries', async (t) => {
  const path = join(await tempConfigDir(t), 'auth.json');
  await writeFile(path, JSON.stringify({ auths: { 'https://reg.example:5000/v2/': { auth: Buffer.from('u:p').toString('base64') }, other: { username: 'v', password: 'q' } } }));
  t.deepEqual(await lookupCredentials('reg.example:5000', { path }), { username: 'u', password: 'p' });
  t.deepEqual(await lookupCredentials('other', { path }), { username: 'v', password: 'q' });
});

test('saveCredentials replaces an entry written under another key for the same registry', async (t) => {
  const path = join(await tempConfigDir(t), 'auth.json');
  await writeFile(path, JSON.stringify({ auths: { 'http://localhost:5000/': { auth: Buffer.from('old:o').toString('base64') } } }));
  await saveCredentials('localhost:5000', { username: 'new', password: 'n' }, { path });
  t.deepEqual(Object.keys(JSON.parse(await readFile(path, 'utf8')).auths), ['localhost:5000']);
});

test('removeCredentials forgets one registry and refuses when not logged in', async (t) => {
  const path = join(await tempConfigDir(t), 'auth.json');
  await saveCredentials('a:1', { username: 'u', password: 'p' }, { path });
  await saveCredentials('b:2', { username: 'u', password: 'p' }, { path });
  await removeCredentials('a:1', { path });
  t.is(await lookupCredentials('a:1', { path }), null);
  t.truthy(await lookupCredentials('b:2', { path }));
  const err = await t.throwsAsync(removeCredentials('a:1', { path }));
  t.is(err?.message, 'Not logged in to a:1');
  t.is((err as { code?: string }).code, 'ERR_NBOX_AUTH');
  await t.throwsAsync(removeCredentials('docker.io', { path: join(path, '..', 'missing.json') }), { message: 'Not logged in to docker.io' });
});

test('a corrupt credentials file is one clear error', async (t) => {
  const path = join(await tempConfigDir(t), 'auth.json');
  await writeFile(path, '{"auths":');
  await t.throwsAsync(lookupCredentials('a', { path }), { message: `${path} is not valid JSON` });
});

test('save and remove through a symlinked config.json replace its target and keep the link, as docker does', async (t) => {
  const dir = await tempConfigDir(t);
  await mkdir(join(dir, 'dotfiles'));
  await mkdir(join(dir, 'docker'));
  const target = join(dir, 'dotfiles', 'docker-config.json');
  const link = join(dir, 'docker', 'config.json');
  await writeFile(target, JSON.stringify({ credsStore: 'none' }));
  await symlink('../dotfiles/docker-config.json', link);
  const env = { DOCKER_CONFIG: join(dir, 'docker') };
  await saveCredentials('a:1', { username: 'u', password: 'p' }, { env });
  t.true((await lstat(link)).isSymbolicLink());
  t.is(await readlink(link), '../dotfiles/docker-config.json');
  t.deepEqual(JSON.parse(await readFile(target, 'utf8')), { credsStore: 'none', auths: { 'a:1': { auth: Buffer.from('u:p').toString('base64') } } });
  await removeCredentials('a:1', { env });
  t.true((await lstat(link)).isSymbolicLink());
  t.deepEqual(JSON.parse(await readFile(target, 'utf8')), { credsStore: 'none', auths: {} });
  t.deepEqual((await readdir(join(dir, 'docker'))).sort(), ['config.json']);

  // A dangling link: its target is made, as docker's CLI makes it.
  const dangling = join(dir, 'dangling.json');
  await symlink('dotfiles/later.json', dangling);
  await saveCredentials('b:2', { username: 'v', password: 'q' }, { path: dangling });
  t.true((await lstat(dangling)).isSymbolicLink());
  t.deepEqual(JSON.parse(await readFile(join(dir, 'dotfiles', 'later.json'), 'utf8')).auths, { 'b:2': { auth: Buffer.from('v:q').toString('base64') } });
  t.is((await stat(join(dir, 'dotfiles', 'later.json'))).mode & 0o777, 0o600);
});
