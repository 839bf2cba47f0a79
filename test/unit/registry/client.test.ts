import test, { type ExecutionContext } from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { HOST_PLATFORM } from '../../../src/image/platform';
import { RegistryClient, type RegistryClientOptions } from '../../../src/registry/client';
import { MediaType } from '../../../src/registry/media-types';
import { freePort, makeSelfSignedCert } from '../../helpers/registry';
import { FakeRegistry, digestOf, type FakeRegistryOptions } from './helpers/fake-registry';

const PASSWORD = 'correct-horse-battery';
const HOST_ARCH = HOST_PLATFORM.architecture;
// An architecture that is not this machine's, for list entries the client must pass over.
const OTHER_ARCH = HOST_ARCH === 'arm64' ? 'amd64' : 'arm64';
const users = { alice: PASSWORD };

async function setup(
  t: ExecutionContext,
  fakeOptions: FakeRegistryOptions = {},
  clientOptions: Partial<RegistryClientOptions> = {},
): Promise<{ fake: FakeRegistry; client: RegistryClient }> {
  const fake = await FakeRegistry.start({ users, ...fakeOptions });
  const client = new RegistryClient({ registry: fake.host, ...clientOptions });
  t.teardown(async () => {
    client.close();
    await fake.close();
  });
  return { fake, client };
}

// An image of one config and one layer, stored in the fake under repository:tag.
function storeImage(fake: FakeRegistry, repository: string, tag: string, architecture = HOST_ARCH): { digest: string; layer: Buffer } {
  const config = Buffer.from(JSON.stringify({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = Buffer.from(`layer for ${architecture}`);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: fake.putBlob(config), size: config.length },
    layers: [{ mediaType: MediaType.ociLayerGzip, digest: fake.putBlob(layer), size: layer.length }],
  };
  return { digest: fake.putManifest(repository, tag, MediaType.ociManifest, manifest), layer };
}

function storeIndex(fake: FakeRegistry, repository: string, tag: string, platforms: Array<{ architecture: string; variant?: string }>): string {
  const manifests = platforms.map((platform) => {
    const { digest } = storeImage(fake, repository, `${platform.architecture}${platform.variant ?? ''}`, platform.architecture);
    const bytes = fake.manifests.get(`${repository}@${digest}`)!.bytes;
    return { mediaType: MediaType.dockerManifest, digest, size: bytes.length, platform: { os: 'linux', ...platform } };
  });
  return fake.putManifest(repository, tag, MediaType.dockerManifestList, { schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('getManifest fetches an image manifest by tag and by digest', async (t) => {
  const { fake, client } = await setup(t);
  const { digest } = storeImage(fake, 'app', 'v1');
  const byTag = await client.getManifest('app', 'v1');
  t.is(byTag.digest, digest);
  t.is(byTag.mediaType, MediaType.ociManifest);
  t.is(digestOf(byTag.bytes), digest);
  t.is(byTag.layers.length, 1);
  t.is(byTag.config.mediaType, MediaType.ociConfig);
  t.is(byTag.indexDigest, undefined);
  t.is((await client.getManifest('app', digest)).digest, digest);
  t.regex(fake.requests[0].path, /^\/v2\/app\/manifests\/v1$/);
});

test('getManifest picks the host platform from a manifest list', async (t) => {
  const { fake, client } = await setup(t);
  const others = ['arm64', 'amd64', 's390x'].filter((architecture) => architecture !== HOST_ARCH).map((architecture) => ({ architecture }));
  const listDigest = storeIndex(fake, 'multi', 'latest', [others[0], { architecture: HOST_ARCH }, others[1], { architecture: 'arm', variant: 'v7' }]);
  const pulled = await client.getManifest('multi', 'latest');
  t.is(pulled.indexDigest, listDigest);
  t.is(pulled.digest, fake.putManifest('x', 'y', '', JSON.parse(fake.manifests.get(`multi:${HOST_ARCH}`)!.bytes.toString())));
  const arm = await client.getManifest('multi', 'latest', { os: 'linux', architecture: 'arm', variant: 'v7' });
  t.is(JSON.parse((await client.fetchBlobBytes('multi', arm.config)).toString()).architecture, 'arm');
});

test('getManifest names the missing platform', async (t) => {
  const { fake, client } = await setup(t);
  storeIndex(fake, 'foreign', 'latest', [{ architecture: OTHER_ARCH }]);
  const err = await t.throwsAsync(client.getManifest('foreign', 'latest'));
  t.is(err?.message, `no image for linux/${HOST_ARCH} in ${fake.host}/foreign:latest`);
  t.is((err as { code?: string }).code, 'ERR_NBOX_NO_SUCH_IMAGE');
});

test('getManifest turns the registry error body into one line', async (t) => {
  const { fake, client } = await setup(t);
  const err = await t.throwsAsync(client.getManifest('foo', 'bar'));
  t.is(err?.message, `manifest unknown: ${fake.host}/foo:bar`);
  t.is((err as { code?: string }).code, 'ERR_NBOX_NO_SUCH_IMAGE');
  fake.failWith = 'storage\nbackend down';
  const broken = await t.throwsAsync(client.getManifest('foo', 'bar'));
  t.is(broken?.message, `storage backend down: ${fake.host}/foo:bar`);
  t.is((broken as { code?: string }).code, 'ERR_NBOX_REGISTRY');
});

test('getManifest refuses a manifest that does not match the digest asked for', async (t) => {
  const { fake, client } = await setup(t);
  const { digest } = storeImage(fake, 'app', 'v1');
  const other = storeImage(fake, 'app', 'v2', OTHER_ARCH).digest;
  fake.manifests.set(`app@${digest}`, fake.manifests.get(`app@${other}`)!);
  await t.throwsAsync(client.getManifest('app', digest), { message: `digest mismatch for manifest ${fake.host}/app@${digest}: received ${other}` });
});

test('getBlob streams a blob and fails on a digest or size mismatch', async (t) => {
  const { fake, client } = await setup(t);
  const data = Buffer.from('the real layer content');
  const digest = fake.putBlob(data);
  t.deepEqual(await readAll(await client.getBlob('app', { digest, size: data.length })), data);
  fake.tampered.set(digest, Buffer.from('the fake layer content'));
  const tampered = await t.throwsAsync(readAll(await client.getBlob('app', { digest, size: data.length })));
  t.regex(tampered?.message ?? '', new RegExp(`^digest mismatch for blob ${fake.host}/app@${digest}: received sha256:`));
  t.is((tampered as { code?: string }).code, 'ERR_NBOX_REGISTRY');
  fake.tampered.set(digest, data.subarray(0, 10));
  await t.throwsAsync(readAll(await client.getBlob('app', { digest, size: data.length })), {
    message: `digest mismatch for blob ${fake.host}/app@${digest}: received 10 of ${data.length} bytes`,
  });
  fake.tampered.set(digest, Buffer.concat([data, data]));
  await t.throwsAsync(readAll(await client.getBlob('app', { digest, size: data.length })), { message: /more than the expected/ });
  const missing = digestOf(Buffer.from('nothing'));
  await t.throwsAsync(client.getBlob('app', { digest: missing, size: 7 }), { message: `blob unknown to registry: ${fake.host}/app@${missing}` });
});

test('getBlob fails when the registry drops the connection midway', async (t) => {
  const { fake, client } = await setup(t);
  const data = Buffer.alloc(100_000, 'd');
  const digest = fake.putBlob(data);
  fake.cut.set(digest, 30_000);
  const err = await t.throwsAsync(readAll(await client.getBlob('app', { digest, size: data.length })));
  t.is(err?.message, `blob ${fake.host}/app@${digest}: registry ${fake.host} closed the connection: aborted`);
  t.is((err as { code?: string }).code, 'ERR_NBOX_REGISTRY');
});

test('getBlob follows a redirect to storage, without credentials for another origin', async (t) => {
  const { fake, client } = await setup(t, { auth: 'bearer' }, { credentials: { username: 'alice', password: PASSWORD } });
  const storage = await FakeRegistry.start();
  t.teardown(() => storage.close());
  const data = Buffer.from('stored elsewhere');
  const digest = storage.putBlob(data);
  fake.redirectBlobsTo = `http://${storage.host}`;
  t.deepEqual(await readAll(await client.getBlob('app', { digest, size: data.length })), data);
  t.is(fake.requests.at(-1)?.authorization?.split(' ')[0], 'Bearer');
  t.deepEqual(storage.requests.map((r) => [r.path, r.authorization]), [[`/v2/app/blobs/${digest}`, undefined]]);
});

test('hasBlob and mountBlob', async (t) => {
  const { fake, client } = await setup(t);
  const digest = fake.putBlob(Buffer.from('shared'));
  const absent = digestOf(Buffer.from('absent'));
  t.true(await client.hasBlob('app', digest));
  t.false(await client.hasBlob('app', absent));
  t.true(await client.mountBlob('other', digest, 'app'));
  t.false(await client.mountBlob('other', absent, 'app'));
  t.like(fake.requests.at(-1), { method: 'DELETE' }, 'the upload the registry started instead is cancelled');
});

test('pushBlob uploads a small blob in one PUT', async (t) => {
  const { fake, client } = await setup(t);
  const data = Buffer.from('small blob');
  const digest = digestOf(data);
  await client.pushBlob('app', { digest, size: data.length }, () => Readable.from([data]));
  t.deepEqual(fake.blobs.get(digest), data);
  t.deepEqual(fake.requests.map((r) => r.method), ['POST', 'PUT']);
  t.is(fake.requests[1].bodyLength, data.length);
});

test('pushBlob uploads a large blob in PATCH chunks following each Location', async (t) => {
  const { fake, client } = await setup(t);
  const data = Buffer.alloc(10_000, 'x');
  data.write('distinct head');
  const digest = digestOf(data);
  const pieces = Array.from({ length: 10 }, (_, i) => data.subarray(i * 1000, (i + 1) * 1000));
  await client.pushBlob('app', { digest, size: data.length }, () => Readable.from(pieces), { monolithicMaxSize: 1024, chunkSize: 3000 });
  t.deepEqual(fake.blobs.get(digest), data);
  const patches = fake.requests.filter((r) => r.method === 'PATCH');
  t.deepEqual(patches.map((r) => r.contentRange), ['0-2999', '3000-5999', '6000-8999', '9000-9999']);
  t.regex(patches[1].path, /_state=s3000$/, 'the absolute Location of the previous answer is followed');
  const put = fake.requests.at(-1)!;
  t.is(put.method, 'PUT');
  t.is(put.bodyLength, 0);
  t.true(put.path.includes(`_state=s10000&digest=${encodeURIComponent(digest)}`));
});

test('pushBlob cancels the upload when the source is short', async (t) => {
  const { fake, client } = await setup(t);
  const data = Buffer.alloc(5000, 'y');
  const source = () => Readable.from([data.subarray(0, 4000)]);
  await t.throwsAsync(client.pushBlob('app', { digest: digestOf(data), size: data.length }, source, { monolithicMaxSize: 10, chunkSize: 3000 }), {
    message: `${fake.host}/app@${digestOf(data)}: the source ended after 4000 bytes`,
  });
  t.is(fake.requests.at(-1)?.method, 'DELETE');
  t.is(fake.blobs.size, 0);
});

test('pushBlob reports a digest the registry refuses', async (t) => {
  const { fake, client } = await setup(t);
  const wrong = digestOf(Buffer.from('other'));
  await t.throwsAsync(client.pushBlob('app', { digest: wrong, size: 3 }, () => Readable.from([Buffer.from('abc')])), {
    message: `provided digest did not match uploaded content: ${fake.host}/app@${wrong}`,
  });
});

test('putManifest stores a manifest and returns its digest', async (t) => {
  const { fake, client } = await setup(t);
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config: {}, layers: [] }));
  t.is(await client.putManifest('app', 'v1', MediaType.dockerManifest, bytes), digestOf(bytes));
  t.deepEqual(fake.manifests.get('app:v1'), { mediaType: MediaType.dockerManifest, bytes });
});

test('a 401 is answered with a bearer token and the request retried; the token is reused', async (t) => {
  const { fake, client } = await setup(t, { auth: 'bearer' }, { credentials: { username: 'alice', password: PASSWORD } });
  const data = Buffer.from('blob');
  const digest = fake.putBlob(data);
  t.true(await client.hasBlob('app', digest));
  t.deepEqual(
    fake.requests.map((r) => [r.method, r.path.split('?')[0], r.authorization?.split(' ')[0]]),
    [
      ['HEAD', `/v2/app/blobs/${digest}`, undefined],
      ['GET', '/token', 'Basic'],
      ['HEAD', `/v2/app/blobs/${digest}`, 'Bearer'],
    ],
  );
  await Promise.all([1, 2, 3].map(async () => t.deepEqual(await readAll(await client.getBlob('app', { digest, size: 4 })), data)));
  t.is(fake.tokensIssued, 1);
  await client.pushBlob('app', { digest: digestOf(Buffer.from('new')), size: 3 }, () => Readable.from([Buffer.from('new')]));
  t.is(fake.tokensIssued, 2, 'pushing needs a token with push access');
});

test('concurrent first requests share one token; anonymous tokens allow what the registry grants', async (t) => {
  const { fake, client } = await setup(t, { auth: 'bearer' });
  const data = Buffer.from('blob');
  const digest = fake.putBlob(data);
  await Promise.all([1, 2, 3, 4].map(() => client.hasBlob('app', digest)));
  t.is(fake.tokensIssued, 1);
  t.is(fake.requests.filter((r) => r.path === '/token' && r.authorization).length, 0);
  await t.throwsAsync(client.pushBlob('app', { digest, size: 4 }, () => Readable.from([data])), {
    message: `unauthorized: authentication required: ${fake.host}/app@${digest}`,
  });
});

test('a wrong password fails login without showing the password', async (t) => {
  for (const auth of ['basic', 'bearer'] as const) {
    const { fake, client } = await setup(t, { auth }, { credentials: { username: 'alice', password: 'wrong-pass-123' } });
    const err = await t.throwsAsync(client.ping());
    t.is(err?.message, `unauthorized: incorrect username or password for ${fake.host}`, auth);
    t.is((err as { code?: string }).code, 'ERR_NBOX_AUTH');
    t.false(JSON.stringify(err, Object.getOwnPropertyNames(err)).includes('wrong-pass-123'));
  }
});

test('Basic auth: the right password logs in, none is told to authenticate', async (t) => {
  const { fake, client } = await setup(t, { auth: 'basic' }, { credentials: { username: 'alice', password: PASSWORD } });
  await client.ping();
  storeImage(fake, 'app', 'v1');
  await client.getManifest('app', 'v1');
  t.is(fake.requests.filter((r) => !r.authorization).length, 1, 'only the first request goes unauthenticated');
  const anonymous = new RegistryClient({ registry: fake.host });
  t.teardown(() => anonymous.close());
  await t.throwsAsync(anonymous.getManifest('app', 'v1'), { message: `unauthorized: authentication required: ${fake.host}/app:v1`, code: 'ERR_NBOX_AUTH' } as never);
});

test('a registry echoing the password in an error has it masked', async (t) => {
  const { fake, client } = await setup(t, { auth: 'basic' }, { credentials: { username: 'alice', password: PASSWORD } });
  fake.failWith = `bad credentials alice:${PASSWORD}`;
  const err = await t.throwsAsync(client.ping());
  t.is(err?.message, `bad credentials alice:****: ${fake.host}`);
});

test('a registry that is down is one line', async (t) => {
  const port = await freePort();
  const client = new RegistryClient({ registry: `127.0.0.1:${port}` });
  t.teardown(() => client.close());
  await t.throwsAsync(client.ping(), { message: `registry 127.0.0.1:${port} is not reachable: connect ECONNREFUSED 127.0.0.1:${port}` });
});

test('TLS: a certificate in the file NODE_EXTRA_CA_CERTS names is trusted, beside Node\'s roots', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-tls-'));
  const { key, cert } = makeSelfSignedCert(dir, 'fake-registry');
  const { fake } = await setup(t, { tls: { key: await readFile(key), cert: await readFile(cert) } });
  // The nbox command starts node without the variable and puts it back (main.ts): the client reads the file itself.
  const before = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = cert;
  const client = new RegistryClient({ registry: fake.host, tlsVerify: true });
  if (before === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = before;
  t.teardown(async () => {
    client.close();
    await rm(dir, { recursive: true, force: true });
  });
  await client.ping();
  t.true(fake.requests.length > 0);
});

test('TLS: an untrusted certificate is one line; tlsVerify false accepts it; plain HTTP is the fallback', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nbox-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { key, cert } = makeSelfSignedCert(dir, 'fake-registry');
  const tls = { key: await readFile(key), cert: await readFile(cert) };
  const { fake } = await setup(t, { tls });
  const verifying = new RegistryClient({ registry: fake.host, tlsVerify: true });
  const insecure = new RegistryClient({ registry: fake.host, tlsVerify: false });
  t.teardown(() => [verifying, insecure].forEach((c) => c.close()));
  const err = await t.throwsAsync(verifying.ping());
  t.is(err?.message, `registry ${fake.host}: TLS failed: self-signed certificate; use --tls-verify=false for a registry without a trusted certificate or with plain HTTP`);
  await insecure.ping();
  t.is(fake.requests.length, 2, 'the HTTPS probe and the ping');
  const plain = await FakeRegistry.start();
  const fallback = new RegistryClient({ registry: plain.host, tlsVerify: false });
  t.teardown(async () => {
    fallback.close();
    await plain.close();
  });
  await fallback.ping();
  t.is(plain.requests.length, 1);
});
