// The registry client against Debian's docker-registry (distribution 2.8) on
// 127.0.0.1: without auth, with htpasswd Basic auth, and with Bearer tokens
// from a token server started here. The registry needs no root.
import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { RegistryClient } from '../../src/registry/client';
import type { Credentials } from '../../src/registry/credentials';
import { MediaType } from '../../src/registry/media-types';
import { parseRemoteReference } from '../../src/registry/reference';
import { sha256Digest } from '../../src/image/digest';
import { HOST_PLATFORM } from '../../src/image/platform';
import { HTPASSWD_BIN, REGISTRY_BIN, startRegistry, type RegistryAuthMode, type TestRegistry } from '../helpers/registry';

const USERS = { alice: 'alice-secret-pw' };
const ALICE: Credentials = { username: 'alice', password: USERS.alice };

/** A test image: a config, one layer big enough to be uploaded in chunks, and the manifest naming them. */
function makeImage(name: string): { config: Buffer; layer: Buffer; manifest: Buffer } {
  const layer = Buffer.alloc(3 * 1024 * 1024 + 123);
  for (let i = 0; i < layer.length; i += 4096) layer.write(`${name}:${i}`, i);
  const config = Buffer.from(JSON.stringify({ architecture: HOST_PLATFORM.architecture, os: HOST_PLATFORM.os, config: {}, rootfs: { type: 'layers', diff_ids: [sha256Digest(layer)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: sha256Digest(config), size: config.length },
      layers: [{ mediaType: MediaType.dockerLayerGzip, digest: sha256Digest(layer), size: layer.length }],
    }),
  );
  return { config, layer, manifest };
}

/** push uploads the image's blobs (skipping those present) and manifest; returns how many blobs it uploaded. */
async function push(client: RegistryClient, repository: string, tag: string, image: ReturnType<typeof makeImage>): Promise<number> {
  let uploaded = 0;
  for (const blob of [image.config, image.layer]) {
    const descriptor = { digest: sha256Digest(blob), size: blob.length };
    if (await client.hasBlob(repository, descriptor.digest)) continue;
    // Slices of 64 KiB, as a file stream would give them.
    const pieces = () => Readable.from(Array.from({ length: Math.ceil(blob.length / 65536) }, (_, i) => blob.subarray(i * 65536, (i + 1) * 65536)));
    await client.pushBlob(repository, descriptor, pieces, { monolithicMaxSize: 1024 * 1024, chunkSize: 1024 * 1024 });
    uploaded++;
  }
  await client.putManifest(repository, tag, MediaType.dockerManifest, image.manifest);
  return uploaded;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function clientFor(t: ExecutionContext, registry: TestRegistry, credentials: Credentials | null): RegistryClient {
  const client = new RegistryClient({ registry: registry.host, credentials });
  t.teardown(() => client.close());
  return client;
}

function registryTest(mode: RegistryAuthMode): typeof test {
  const missing = [REGISTRY_BIN, ...(mode === 'htpasswd' ? [HTPASSWD_BIN] : [])].filter((bin) => !existsSync(bin));
  if (missing.length > 0) {
    console.log(`skipping ${mode} registry tests: ${missing.join(', ')} missing`);
    return test.skip as unknown as typeof test;
  }
  return test;
}

for (const mode of ['none', 'htpasswd', 'token'] as const) {
  const credentials = mode === 'none' ? null : ALICE;
  const registryFor = registryTest(mode);
  let registry: TestRegistry | undefined;
  registryFor.before(async () => {
    registry = await startRegistry(mode, USERS);
  });
  registryFor.after.always(async () => {
    await registry?.stop();
  });

  registryFor(`${mode}: push, skip on second push, mount, and pull back with digest checks`, async (t) => {
    const client = clientFor(t, registry!, credentials);
    await client.ping();
    const image = makeImage(mode);
    t.is(await push(client, 'nbox/app', 'v1', image), 2);
    t.true(await client.hasBlob('nbox/app', sha256Digest(image.layer)));
    t.is(await push(client, 'nbox/app', 'v2', image), 0, 'a second push uploads no blob');

    const ref = parseRemoteReference(`${registry!.host}/nbox/app:v1`);
    const pulled = await client.getManifest(ref.repository, ref.tag!);
    t.is(pulled.digest, sha256Digest(image.manifest));
    t.is(pulled.mediaType, MediaType.dockerManifest);
    // Buffer.equals: ava's deepEqual is slow on megabytes.
    t.true((await client.fetchBlobBytes(ref.repository, pulled.config)).equals(image.config));
    t.true((await readAll(await client.getBlob(ref.repository, pulled.layers[0]))).equals(image.layer));
    t.is((await client.getManifest('nbox/app', pulled.digest)).digest, pulled.digest);

    const layerDigest = sha256Digest(image.layer);
    t.false(await client.hasBlob('nbox/copy', layerDigest));
    t.true(await client.mountBlob('nbox/copy', layerDigest, 'nbox/app'));
    t.true(await client.hasBlob('nbox/copy', layerDigest));
    t.false(await client.mountBlob('nbox/copy', sha256Digest(Buffer.from('never pushed')), 'nbox/app'));
  });

  registryFor(`${mode}: an unknown tag or repository is one line`, async (t) => {
    const client = clientFor(t, registry!, credentials);
    await push(client, 'nbox/known', 'v1', makeImage(`${mode}-known`));
    const err = await t.throwsAsync(client.getManifest('nbox/known', 'nope'));
    t.is(err?.message, `manifest unknown: ${registry!.host}/nbox/known:nope`);
    t.is((err as { code?: string }).code, 'ERR_NBOX_NO_SUCH_IMAGE');
    const unknownRepo = await t.throwsAsync(client.getManifest('nbox/nothing', 'latest'));
    t.is(unknownRepo?.message, `manifest unknown: ${registry!.host}/nbox/nothing:latest`);
    t.is((unknownRepo as { code?: string }).code, 'ERR_NBOX_NO_SUCH_IMAGE');
  });

  if (mode !== 'none') {
    registryFor(`${mode}: a wrong password or none is refused without showing a password`, async (t) => {
      const wrong = clientFor(t, registry!, { username: 'alice', password: 'not-her-password' });
      const err = await t.throwsAsync(wrong.ping());
      t.is(err?.message, `unauthorized: incorrect username or password for ${registry!.host}`);
      t.is((err as { code?: string }).code, 'ERR_NBOX_AUTH');
      const pushErr = await t.throwsAsync(push(wrong, 'nbox/app', 'v9', makeImage('x')));
      t.is(pushErr?.message, `unauthorized: incorrect username or password for ${registry!.host}`);
      for (const e of [err, pushErr]) t.false(JSON.stringify(e, Object.getOwnPropertyNames(e)).includes('not-her-password'));

      const anonymous = clientFor(t, registry!, null);
      const denied = await t.throwsAsync(anonymous.getManifest('nbox/app', 'v1'));
      t.is(denied?.message, `unauthorized: authentication required: ${registry!.host}/nbox/app:v1`);
    });
  }

  if (mode === 'token') {
    registryFor('token: tokens are fetched once per scope and reused', async (t) => {
      const client = clientFor(t, registry!, credentials);
      const before = registry!.tokenRequests.length;
      await push(client, 'nbox/tokens', 'v1', makeImage('tokens'));
      await client.getManifest('nbox/tokens', 'v1');
      // Other tests run alongside on the same token server.
      const scopes = registry!.tokenRequests
        .slice(before)
        .map((url) => url.searchParams.getAll('scope').join(' '))
        .filter((scope) => scope.includes('nbox/tokens'));
      t.deepEqual(scopes, ['repository:nbox/tokens:pull', 'repository:nbox/tokens:pull,push'], 'a pull,push token also serves the pull');
    });
  }
}
