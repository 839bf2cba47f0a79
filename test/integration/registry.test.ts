// nbox pull, push, login and logout through the CLI against Debian's
// docker-registry on 127.0.0.1, without auth and with htpasswd: round trips
// that keep image IDs and digests, blobs neither uploaded nor downloaded twice,
// cross-repository mounts, a pull killed midway, bad input, podman and skopeo
// both ways, and FROM of an image only the registry has. nbox talks to each
// registry through a small proxy here that records every request, so a test
// can tell which blobs moved, and can stall one blob to kill a pull midway.
import type { ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BUSYBOX, cli, exitCodeOf, optionalTest, rootTest, sharedTestStore, spawnCli, writeContext, type CliResult } from '../helpers/env';
import { PODMAN_RUN, hasPodman, makePodman } from '../helpers/podman';
import { HTPASSWD_BIN, REGISTRY_BIN, freePort, startRegistry, type TestRegistry } from '../helpers/registry';

const test = rootTest();
const store = sharedTestStore(test);
const run = promisify(execFile);

const USER = 'alice';
const PASSWORD = 'pw-7f3c9e1d-secret';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

const registryMissing = existsSync(REGISTRY_BIN) && existsSync(HTPASSWD_BIN) ? null : `registry tests: ${REGISTRY_BIN} or ${HTPASSWD_BIN} missing`;
const registryTest = optionalTest(test, registryMissing);
const enabled = process.getuid?.() === 0 && existsSync(BUSYBOX) && registryMissing === null;
const interop = registryMissing ? registryTest : optionalTest(test, hasPodman() ? null : 'registry interop tests: podman missing');

/** Proxy forwards to one registry and records each request; stall picks responses it sends only the first bytes of. */
interface Proxy {
  host: string;
  requests: Array<{ method: string; path: string }>;
  stall?: (method: string, path: string) => boolean;
  close(): Promise<void>;
}

// A stalled response gets this many body bytes, then nothing more.
const STALL_AFTER = 1 << 20;

async function startProxy(upstream: TestRegistry): Promise<Proxy> {
  const [upstreamHost, upstreamPort] = upstream.host.split(':');
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    proxy.requests.push({ method, path });
    const stalled = proxy.stall?.(method, path) ?? false;
    // The Host header goes through unchanged, so the registry's Location URLs point back here.
    const forward = http.request({ host: upstreamHost, port: Number(upstreamPort), method, path, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (!stalled) return void answer.pipe(res);
      let sent = 0;
      answer.on('data', (chunk: Buffer) => {
        if (sent >= STALL_AFTER) return void answer.pause();
        sent += chunk.length;
        res.write(chunk);
      });
    });
    forward.on('error', () => res.destroy());
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  const proxy: Proxy = {
    host: '',
    requests: [],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

// Registries and their proxies, shared by the file's (serial) tests; a temp credentials file, never ~/.docker.
let open: TestRegistry;
let secured: TestRegistry;
let openProxy: Proxy;
let securedProxy: Proxy;
let scratchRoot: string;
let authFile: string;

if (enabled) {
  test.before(async () => {
    scratchRoot = await mkdtemp(join(tmpdir(), 'nbox-registry-test-'));
    authFile = join(scratchRoot, 'auth.json');
    open = await startRegistry('none');
    secured = await startRegistry('htpasswd', { [USER]: PASSWORD });
    openProxy = await startProxy(open);
    securedProxy = await startProxy(secured);
  });
  test.after.always(async () => {
    await openProxy?.close();
    await securedProxy?.close();
    await open?.stop();
    await secured?.stop();
    if (scratchRoot) await rm(scratchRoot, { recursive: true, force: true });
  });
}

/** nb runs the CLI on root with the test's credentials file. */
function nb(root: string, args: string[], input?: string): Promise<CliResult> {
  return cli(root, args, { input, env: { ...process.env, NBOX_ROOT: root, NBOX_AUTH_FILE: authFile } });
}

async function scratch(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(scratchRoot, 'scratch-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** emptyStore is a store root that does not exist yet: the CLI creates it, with no image at all. */
async function emptyStore(t: ExecutionContext): Promise<string> {
  return join(await scratch(t), 'store');
}

async function imageId(root: string, ref: string): Promise<string> {
  const inspected = await nb(root, ['inspect', ref]);
  return inspected.code === 0 ? (JSON.parse(inspected.stdout)[0].Id as string) : `no image ${ref}: ${inspected.stderr}`;
}

/** build builds a Dockerfile body on top of bb, tagged tag; unless told not to, a first layer with a nonce keeps
 * the image's layers its own (no cache hit, no blob shared with another test). */
async function build(t: ExecutionContext, tag: string, body: string, nonceLayer = true): Promise<string> {
  const nonce = nonceLayer ? `RUN echo ${Date.now()}-${Math.random().toString(16).slice(2)} > /nonce\n` : '';
  const context = await writeContext(t, { Dockerfile: `FROM bb\n${nonce}${body}` });
  const built = await nb(store.root, ['build', '-q', '-t', tag, context]);
  t.is(built.code, 0, built.stderr);
  return imageId(store.root, tag);
}

/** RemoteManifest is a manifest as the registry serves it, read around nbox. */
interface RemoteManifest {
  digest: string;
  mediaType: string;
  config: string;
  layers: string[];
}

async function remoteManifest(registry: TestRegistry, repository: string, reference: string): Promise<RemoteManifest> {
  const headers: Record<string, string> = { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' };
  if (registry === secured) headers.Authorization = `Basic ${BASIC}`;
  const response = await fetch(`http://${registry.host}/v2/${repository}/manifests/${reference}`, { headers });
  if (!response.ok) throw new Error(`manifest ${repository}:${reference}: HTTP ${response.status}`);
  const body = (await response.json()) as { mediaType: string; config: { digest: string }; layers: Array<{ digest: string }> };
  return { digest: response.headers.get('docker-content-digest')!, mediaType: body.mediaType, config: body.config.digest, layers: body.layers.map((layer) => layer.digest) };
}

/** uploadedBlobs are the digests of blob uploads the proxy saw completed (the final PUT of each). */
function uploadedBlobs(proxy: Proxy): string[] {
  return proxy.requests
    .filter((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'))
    .map((r) => new URL(r.path, 'http://proxy').searchParams.get('digest') ?? '')
    .sort();
}

/** downloadedBlobs are the digests of blobs the proxy saw fetched with GET. */
function downloadedBlobs(proxy: Proxy): string[] {
  return proxy.requests
    .filter((r) => r.method === 'GET' && /\/blobs\/sha256:[0-9a-f]{64}$/.test(r.path))
    .map((r) => r.path.slice(r.path.lastIndexOf('/') + 1))
    .sort();
}

function linesWith(output: string, status: string): string[] {
  return output.split('\n').filter((line) => line.endsWith(`: ${status}`));
}

/** oneLineError checks a CLI failure: exit 1 (a failed operation, as Docker), one `nbox: ` line on stderr matching pattern. */
function oneLineError(t: ExecutionContext, result: CliResult, pattern: RegExp): void {
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /^nbox: [^\n]+\n$/);
  t.regex(result.stderr, pattern);
}

/** storeEntries lists what a failed command must leave as it was: images, layers, temp entries and tags. */
async function storeEntries(root: string): Promise<string[]> {
  const entries: string[] = [];
  for (const dir of ['images', 'layers', 'tmp']) entries.push(...(await readdir(join(root, dir))).map((name) => `${dir}/${name}`));
  return [...entries, await readFile(join(root, 'images/repositories.json'), 'utf8').catch(() => '')].sort();
}

function blobDataPath(registry: TestRegistry, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(registry.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

for (const mode of ['none', 'htpasswd'] as const) {
  registryTest(`${mode}: push, rmi, pull and run keep the image ID; a second push uploads no blob and a second pull downloads none`, async (t) => {
    const registry = mode === 'none' ? open : secured;
    const proxy = mode === 'none' ? openProxy : securedProxy;
    const repository = `roundtrip/${mode}`;
    const ref = `${proxy.host}/${repository}:v1`;
    const outputs: string[] = [];
    const step = async (args: string[], input?: string) => {
      const result = await nb(store.root, args, input);
      outputs.push(result.stdout, result.stderr);
      return result;
    };
    const id = await build(t, `rt-${mode}:v1`, `RUN echo ${mode} > /one\nCMD ["cat", "/one"]\n`);
    t.is((await step(['tag', `rt-${mode}:v1`, ref])).code, 0);

    if (mode === 'htpasswd') {
      proxy.requests.length = 0;
      oneLineError(t, await step(['push', ref]), /unauthorized|authentication required/i);
      t.deepEqual(uploadedBlobs(proxy), []);
      const login = await step(['login', '-u', USER, '--password-stdin', proxy.host], `${PASSWORD}\n`);
      t.is(login.code, 0, login.stderr);
      t.is(login.stdout, 'Login Succeeded\n');
      t.is((await stat(authFile)).mode & 0o777, 0o600);
      t.deepEqual(JSON.parse(await readFile(authFile, 'utf8')).auths, { [proxy.host]: { auth: BASIC } });
    }

    proxy.requests.length = 0;
    const pushed = await step(['push', ref]);
    t.is(pushed.code, 0, pushed.stderr);
    const digest = /^v1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(pushed.stdout)?.[1] ?? 'no digest line';
    const manifest = await remoteManifest(registry, repository, 'v1');
    t.is(manifest.digest, digest);
    t.is(manifest.config, id);
    t.is(manifest.layers.length, 3);
    t.deepEqual(uploadedBlobs(proxy), [id, ...manifest.layers].sort());
    // Progress lines name each layer by its short diffID, from Preparing to Pushed (one line per layer on a terminal).
    const diffIds = JSON.parse((await step(['inspect', ref])).stdout)[0].RootFS.Layers as string[];
    const progressIds = pushed.stdout.split('\n').filter((line) => /^[0-9a-f]{12}: /.test(line)).map((line) => line.slice(0, 12));
    t.deepEqual([...new Set(progressIds)].sort(), diffIds.map((diffId) => diffId.slice(7, 19)).sort());

    proxy.requests.length = 0;
    const again = await step(['push', ref]);
    t.is(again.code, 0, again.stderr);
    t.is(linesWith(again.stdout, 'Layer already exists').length, 3, again.stdout);
    t.deepEqual(uploadedBlobs(proxy), []);
    t.regex(again.stdout, new RegExp(`^v1: digest: ${digest} size: \\d+$`, 'm'));

    t.is((await step(['rmi', ref, `rt-${mode}:v1`])).code, 0);
    t.regex(await imageId(store.root, ref), /^no image/);
    proxy.requests.length = 0;
    const pulled = await step(['pull', ref]);
    t.is(pulled.code, 0, pulled.stderr);
    t.true(pulled.stdout.includes(`Digest: ${digest}\nStatus: Downloaded newer image for ${ref}\n`), pulled.stdout);
    // bb's layer is still in the store (bb is); the two layers of this image come down.
    t.is(linesWith(pulled.stdout, 'Already exists').length, 1, pulled.stdout);
    t.deepEqual(downloadedBlobs(proxy), [id, ...manifest.layers.slice(1)].sort());
    t.is(await imageId(store.root, ref), id);
    const ran = await step(['run', '--rm', ref]);
    t.is(ran.stdout, `${mode}\n`, ran.stderr);

    proxy.requests.length = 0;
    const repull = await step(['pull', ref]);
    t.is(repull.code, 0, repull.stderr);
    t.true(repull.stdout.includes(`Status: Image is up to date for ${ref}\n`), repull.stdout);
    t.deepEqual(downloadedBlobs(proxy).filter((blob) => manifest.layers.includes(blob)), []);

    if (mode === 'htpasswd') {
      const logout = await step(['logout', proxy.host]);
      t.is(logout.stdout, `Removing login credentials for ${proxy.host}\n`, logout.stderr);
      t.deepEqual(JSON.parse(await readFile(authFile, 'utf8')).auths, {});
      t.is((await stat(authFile)).mode & 0o777, 0o600);
      oneLineError(t, await step(['pull', ref]), /unauthorized|authentication required/i);
      const again = await step(['logout', proxy.host]);
      t.is(again.code, 0, again.stderr);
      t.is(again.stdout, `Not logged in to ${proxy.host}\n`);
    }
    for (const output of outputs) {
      t.false(output.includes(PASSWORD));
      t.false(output.includes(BASIC));
    }
    await step(['rmi', ref]);
  });
}

registryTest('a push to another repository of the same registry mounts the layers; a pulled image pushes back to the same digest', async (t) => {
  const id = await build(t, 'mounted:v1', 'RUN echo mounted > /m\n');
  const first = `${openProxy.host}/mount/first:v1`;
  const second = `${openProxy.host}/mount/second:v1`;
  t.is((await nb(store.root, ['tag', 'mounted:v1', first])).code, 0);
  t.is((await nb(store.root, ['tag', 'mounted:v1', second])).code, 0);
  const pushed = await nb(store.root, ['push', first]);
  t.is(pushed.code, 0, pushed.stderr);
  const manifest = await remoteManifest(open, 'mount/first', 'v1');

  openProxy.requests.length = 0;
  const mounted = await nb(store.root, ['push', second]);
  t.is(mounted.code, 0, mounted.stderr);
  // bb's layer may come from an earlier test's repository; the other two from the first push.
  t.is(mounted.stdout.split('\n').filter((line) => line.includes(': Mounted from ')).length, 3, mounted.stdout);
  t.is(linesWith(mounted.stdout, 'Mounted from mount/first').length >= 2, true, mounted.stdout);
  t.is(openProxy.requests.filter((r) => r.method === 'POST' && r.path.includes('mount=')).length, 3);
  // Only the config (a few hundred bytes, never mounted) is uploaded.
  t.deepEqual(uploadedBlobs(openProxy), [id]);
  t.is((await remoteManifest(open, 'mount/second', 'v1')).digest, manifest.digest);

  // Pulled into another store and pushed elsewhere: the same blobs, not recompressed, so the same manifest digest.
  const other = await emptyStore(t);
  t.is((await nb(other, ['pull', second])).code, 0);
  const third = `${openProxy.host}/mount/third:v1`;
  t.is((await nb(other, ['tag', second, third])).code, 0);
  openProxy.requests.length = 0;
  const back = await nb(other, ['push', third]);
  t.is(back.code, 0, back.stderr);
  t.is(linesWith(back.stdout, 'Mounted from mount/second').length, 3, back.stdout);
  t.deepEqual(uploadedBlobs(openProxy), [id]);
  t.regex(back.stdout, new RegExp(`^v1: digest: ${manifest.digest} size: \\d+$`, 'm'));

  // A pull by digest gets the same image, and no tag.
  const byDigest = await emptyStore(t);
  const pulledByDigest = await nb(byDigest, ['pull', `${openProxy.host}/mount/first@${manifest.digest}`]);
  t.is(pulledByDigest.code, 0, pulledByDigest.stderr);
  t.true(pulledByDigest.stdout.includes(`Digest: ${manifest.digest}\n`), pulledByDigest.stdout);
  t.is(await imageId(byDigest, id), id);
  t.deepEqual((await nb(byDigest, ['images'])).stdout.trim().split('\n').slice(1).map((row) => row.split(/\s{3,}/).slice(0, 3)), [['<none>', '<none>', id.slice(7, 19)]]);
  // The digest names the image from now on, as Docker's RepoDigests do: inspect, run and rmi find it by it.
  const digestRef = `${openProxy.host}/mount/first@${manifest.digest}`;
  t.deepEqual(JSON.parse((await nb(byDigest, ['inspect', digestRef])).stdout)[0].RepoDigests, [digestRef]);
  t.is((await nb(byDigest, ['run', '--rm', digestRef, 'true'])).code, 0);
  // With a tag beside it, removing the digest name only untags it; the last name deletes the image.
  t.is((await nb(byDigest, ['tag', digestRef, 'kept:v1'])).code, 0);
  t.is((await nb(byDigest, ['rmi', digestRef])).stdout, `Untagged: ${digestRef}\n`);
  t.is(await imageId(byDigest, 'kept:v1'), id);
  t.is((await nb(byDigest, ['rmi', 'kept:v1'])).stdout, `Untagged: kept:v1\nDeleted: ${id}\n`);
  await nb(store.root, ['rmi', first, second, 'mounted:v1']);
});

registryTest('a pull killed with SIGKILL midway leaves a valid store; the next pull reuses the finished layers', async (t) => {
  const id = await build(t, 'killed:v1', 'RUN head -c 20000000 /dev/urandom > /big\nRUN echo small > /small\nCMD ["cat", "/small"]\n');
  const ref = `${openProxy.host}/killed/app:v1`;
  t.is((await nb(store.root, ['tag', 'killed:v1', ref])).code, 0);
  t.is((await nb(store.root, ['push', ref])).code, 0);
  const manifest = await remoteManifest(open, 'killed/app', 'v1');
  const big = manifest.layers[2];
  const root = await emptyStore(t);

  // The big layer's blob stops after its first MiB: the pull is midway through it for as long as the test wants.
  openProxy.stall = (method, path) => method === 'GET' && path.endsWith(`/blobs/${big}`);
  t.teardown(() => (openProxy.stall = undefined));
  const child = spawnCli(root, ['pull', ref], { env: { ...process.env, NBOX_ROOT: root, NBOX_AUTH_FILE: authFile } });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString();
      // Every layer but the stalled one is complete (and so committed).
      if (linesWith(output, 'Pull complete').length === manifest.layers.length - 1) resolve();
    });
    child.on('exit', () => reject(new Error(`pull ended before it was killed: ${output}`)));
  });
  t.true(downloadedBlobs(openProxy).includes(big));
  process.kill(child.pid!, 'SIGKILL');
  await exitCodeOf(child);
  openProxy.stall = undefined;
  t.true((await readdir(join(root, 'tmp'))).length > 0, 'the big layer was being unpacked');

  const listed = await nb(root, ['images']);
  t.is(listed.code, 0, listed.stderr);
  t.false(listed.stdout.includes('killed/app'));
  t.deepEqual(await readdir(join(root, 'tmp')), [], 'temp entries of the killed pull are swept on open');
  t.deepEqual((await readdir(join(root, 'images'))).filter((name) => name !== 'repositories.json'), []);
  t.is((await readdir(join(root, 'layers'))).length, manifest.layers.length - 1);
  t.regex(await imageId(root, ref), /^no image/);

  openProxy.requests.length = 0;
  const resumed = await nb(root, ['pull', ref]);
  t.is(resumed.code, 0, resumed.stderr);
  t.is(linesWith(resumed.stdout, 'Already exists').length, manifest.layers.length - 1, resumed.stdout);
  t.is(linesWith(resumed.stdout, 'Pull complete').length, 1, resumed.stdout);
  t.deepEqual(downloadedBlobs(openProxy), [id, big].sort());
  t.is(await imageId(root, ref), id);
  const ran = await nb(root, ['run', '--rm', ref, 'sh', '-c', 'cat /small; wc -c < /big']);
  t.is(ran.stdout, 'small\n20000000\n', ran.stderr);
  await nb(store.root, ['rmi', ref, 'killed:v1']);
});

registryTest('unknown tag or repository, wrong password, registry down: one line, non-zero exit, store unchanged, no password shown', async (t) => {
  const before = await storeEntries(store.root);
  oneLineError(t, await nb(store.root, ['pull', `${openProxy.host}/roundtrip/none:nope`]), /manifest unknown|not found/i);
  oneLineError(t, await nb(store.root, ['pull', `${openProxy.host}/no/such:v1`]), /unknown|not found/i);

  const dir = await scratch(t);
  const wrong = await nb(store.root, ['login', '--authfile', join(dir, 'auth.json'), '-u', USER, '--password-stdin', securedProxy.host], 'not-the-password\n');
  oneLineError(t, wrong, /unauthorized|incorrect|authentication/i);
  t.false(existsSync(join(dir, 'auth.json')));
  t.false(wrong.stdout.includes('not-the-password') || wrong.stderr.includes('not-the-password'));
  // Wrong credentials saved by hand: the pull fails without showing them.
  const badAuth = Buffer.from(`${USER}:stale-password-42`).toString('base64');
  await writeFile(join(dir, 'stale.json'), JSON.stringify({ auths: { [securedProxy.host]: { auth: badAuth } } }), { mode: 0o600 });
  const stale = await nb(store.root, ['pull', '--authfile', join(dir, 'stale.json'), `${securedProxy.host}/roundtrip/htpasswd:v1`]);
  oneLineError(t, stale, /unauthorized|incorrect|authentication/i);
  for (const text of [stale.stdout, stale.stderr]) t.false(text.includes('stale-password-42') || text.includes(badAuth));

  const down = `127.0.0.1:${await freePort()}`;
  oneLineError(t, await nb(store.root, ['pull', `${down}/any/thing:v1`]), /not reachable|ECONNREFUSED/);
  t.is((await nb(store.root, ['tag', 'bb', `${down}/any/thing:v1`])).code, 0);
  oneLineError(t, await nb(store.root, ['push', `${down}/any/thing:v1`]), /not reachable|ECONNREFUSED/);
  t.is((await nb(store.root, ['rmi', `${down}/any/thing:v1`])).code, 0);
  t.deepEqual(await storeEntries(store.root), before);
});

registryTest('a tampered or truncated blob in the registry fails the pull on one line and adds no layer, image or tag', async (t) => {
  for (const damage of ['tampered', 'truncated'] as const) {
    // bb and one layer of random bytes: bb's layer is stored, so a failed pull could add only the damaged one.
    await build(t, `${damage}:v1`, 'RUN head -c 300000 /dev/urandom > /r\n', false);
    const ref = `${openProxy.host}/damaged/${damage}:v1`;
    t.is((await nb(store.root, ['tag', `${damage}:v1`, ref])).code, 0);
    t.is((await nb(store.root, ['push', ref])).code, 0);
    t.is((await nb(store.root, ['rmi', ref, `${damage}:v1`])).code, 0);
    const manifest = await remoteManifest(open, `damaged/${damage}`, 'v1');
    const data = blobDataPath(open, manifest.layers[1]);
    const blob = await readFile(data);
    t.teardown(() => writeFile(data, blob));
    if (damage === 'tampered') {
      const flipped = Buffer.from(blob);
      flipped[flipped.length >> 1] ^= 0xff;
      await writeFile(data, flipped);
    } else {
      await writeFile(data, blob.subarray(0, blob.length >> 1));
    }
    const before = await storeEntries(store.root);
    const pulled = await nb(store.root, ['pull', ref]);
    oneLineError(t, pulled, /digest|size|unexpected end|incorrect|invalid|truncated/i);
    t.deepEqual(await storeEntries(store.root), before, damage);
    t.regex(await imageId(store.root, ref), /^no image/);
    await writeFile(data, blob);
  }
});

registryTest('a layer that fails stops the other downloads of the pull at once', async (t) => {
  await build(t, 'stopped:v1', 'RUN head -c 3000000 /dev/urandom > /big\nRUN head -c 300000 /dev/urandom > /small\n', false);
  const ref = `${openProxy.host}/stopped/app:v1`;
  t.is((await nb(store.root, ['tag', 'stopped:v1', ref])).code, 0);
  t.is((await nb(store.root, ['push', ref])).code, 0);
  t.is((await nb(store.root, ['rmi', ref, 'stopped:v1'])).code, 0);
  const manifest = await remoteManifest(open, 'stopped/app', 'v1');
  // The big layer never finishes arriving; the small one is damaged.
  openProxy.stall = (method, path) => method === 'GET' && path.endsWith(`/blobs/${manifest.layers[1]}`);
  t.teardown(() => (openProxy.stall = undefined));
  const data = blobDataPath(open, manifest.layers[2]);
  const blob = await readFile(data);
  t.teardown(() => writeFile(data, blob));
  const flipped = Buffer.from(blob);
  flipped[flipped.length >> 1] ^= 0xff;
  await writeFile(data, flipped);
  const before = await storeEntries(store.root);
  // Without the stop, this pull would wait on the stalled layer until ava's timeout.
  oneLineError(t, await nb(store.root, ['pull', ref]), /digest mismatch for blob/);
  t.deepEqual(await storeEntries(store.root), before);
});

interop('podman pulls and runs what nbox pushes; nbox pulls and runs what podman and skopeo push, with the same IDs and digests', async (t) => {
  const podman = await makePodman();
  t.teardown(() => podman.podman(['rmi', '-a', '-f']).catch(() => '').then(() => podman.cleanup()));
  const skopeo = async (args: string[]) => (await run('skopeo', args, { maxBuffer: 1 << 24 })).stdout;
  const dir = await scratch(t);
  const host = open.host;
  const id = await build(t, 'interop:v1', 'RUN echo interop > /hello\nCMD ["cat", "/hello"]\n');
  const fromNbox = `${host}/interop/nbox:v1`;
  t.is((await nb(store.root, ['tag', 'interop:v1', fromNbox])).code, 0);
  const pushed = await nb(store.root, ['push', fromNbox]);
  t.is(pushed.code, 0, pushed.stderr);
  const digest = /^v1: digest: (sha256:[0-9a-f]{64})/m.exec(pushed.stdout)![1];

  // nbox → registry → podman: same image ID, same manifest digest, and it runs.
  await podman.podman(['pull', '-q', '--tls-verify=false', fromNbox]);
  t.is((await podman.podman(['image', 'inspect', '--format', '{{.Id}} {{.Digest}}', fromNbox])).trim(), `${id.slice(7)} ${digest}`);
  t.is(await podman.podman([...PODMAN_RUN, fromNbox]), 'interop\n');

  // podman → registry → nbox.
  const fromPodman = `${host}/interop/podman:v1`;
  await podman.podman(['push', '-q', '--tls-verify=false', '--digestfile', join(dir, 'digest'), fromNbox, `docker://${fromPodman}`]);
  const podmanDigest = (await readFile(join(dir, 'digest'), 'utf8')).trim();
  const podmanManifest = await remoteManifest(open, 'interop/podman', 'v1');
  t.is(podmanManifest.digest, podmanDigest);
  const viaPodman = await emptyStore(t);
  const pulledPodman = await nb(viaPodman, ['pull', fromPodman]);
  t.is(pulledPodman.code, 0, pulledPodman.stderr);
  t.true(pulledPodman.stdout.includes(`Digest: ${podmanDigest}\n`), pulledPodman.stdout);
  t.is(await imageId(viaPodman, fromPodman), id);
  t.is((await nb(viaPodman, ['run', '--rm', fromPodman])).stdout, 'interop\n');
  // Pushed back by nbox: podman's blobs as they are (mounted, not recompressed) under the same config.
  const back = `${host}/interop/back:v1`;
  t.is((await nb(viaPodman, ['tag', fromPodman, back])).code, 0);
  const pushedBack = await nb(viaPodman, ['push', back]);
  t.is(pushedBack.code, 0, pushedBack.stderr);
  t.is(linesWith(pushedBack.stdout, 'Mounted from interop/podman').length, 3, pushedBack.stdout);
  const backManifest = await remoteManifest(open, 'interop/back', 'v1');
  t.deepEqual([backManifest.config, backManifest.layers], [id, podmanManifest.layers]);

  // skopeo from podman's store → registry → nbox.
  const fromSkopeo = `${host}/interop/skopeo:v1`;
  await skopeo(['copy', '--quiet', '--dest-tls-verify=false', `${podman.storage}${fromNbox}`, `docker://${fromSkopeo}`]);
  const viaSkopeo = await emptyStore(t);
  t.is((await nb(viaSkopeo, ['pull', fromSkopeo])).code, 0);
  t.is(await imageId(viaSkopeo, fromSkopeo), id);
  t.is((await nb(viaSkopeo, ['run', '--rm', fromSkopeo])).stdout, 'interop\n');

  // skopeo registry → registry copies the manifest as it is: the digest nbox pushed, the image nbox has.
  const copied = `${host}/interop/copy:v1`;
  await skopeo(['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${fromNbox}`, `docker://${copied}`]);
  const pulledCopy = await nb(store.root, ['pull', copied]);
  t.is(pulledCopy.code, 0, pulledCopy.stderr);
  t.true(pulledCopy.stdout.includes(`Digest: ${digest}\nStatus: Image is up to date for ${copied}\n`), pulledCopy.stdout);

  // skopeo through an OCI layout: converting to OCI rewrites the config, so the image ID is the layout's config digest.
  const layout = join(dir, 'layout');
  await skopeo(['copy', '--quiet', `${podman.storage}${fromNbox}`, `oci:${layout}:v1`]);
  const ociIndex = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const ociManifest = JSON.parse(await readFile(join(layout, 'blobs/sha256', ociIndex.manifests[0].digest.slice(7)), 'utf8'));
  const fromLayout = `${host}/interop/oci:v1`;
  await skopeo(['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${fromLayout}`]);
  const remoteOci = await remoteManifest(open, 'interop/oci', 'v1');
  t.is(remoteOci.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  const viaLayout = await emptyStore(t);
  const pulledOci = await nb(viaLayout, ['pull', fromLayout]);
  t.is(pulledOci.code, 0, pulledOci.stderr);
  t.true(pulledOci.stdout.includes(`Digest: ${remoteOci.digest}\n`), pulledOci.stdout);
  t.is(await imageId(viaLayout, fromLayout), ociManifest.config.digest);
  t.is((await nb(viaLayout, ['run', '--rm', fromLayout])).stdout, 'interop\n');
  await nb(store.root, ['rmi', fromNbox, copied, 'interop:v1']);
});

// Written last: FROM of an image the store lacks pulls it (the builder part is being written alongside).
registryTest('FROM an image only the registry has pulls it, then builds on it', async (t) => {
  const base = `${openProxy.host}/from/base:v1`;
  const id = await build(t, 'from-base:v1', 'RUN echo base > /base\n');
  t.is((await nb(store.root, ['tag', 'from-base:v1', base])).code, 0);
  t.is((await nb(store.root, ['push', base])).code, 0);
  const root = await emptyStore(t);
  const context = await writeContext(t, { Dockerfile: `FROM ${base}\nRUN cat /base > /copied\nCMD ["cat", "/copied"]\n` });
  const built = await nb(root, ['build', '-t', 'child:v1', context]);
  t.is(built.code, 0, built.stderr);
  t.regex(built.stdout, /Pull complete/);
  // The pull prints what `pull` prints into a pipe: no line per downloaded chunk.
  const lines = built.stdout.split('\n');
  const pullLines = lines.slice(1, lines.findIndex((line) => line.startsWith(' ---> ')));
  const plain = (await nb(await emptyStore(t), ['pull', base])).stdout.trim().split('\n').slice(0, -1);
  t.is(pullLines[0], 'v1: Pulling from from/base');
  t.deepEqual(pullLines.slice(-2), plain.slice(-2));
  t.deepEqual(pullLines.slice(0, -2).sort(), plain.slice(0, -2).sort());
  t.false(built.stdout.includes('Downloading'), built.stdout);
  t.is(await imageId(root, base), id);
  t.is((await nb(root, ['run', '--rm', 'child:v1'])).stdout, 'base\n');
  await nb(store.root, ['rmi', base, 'from-base:v1']);
});
