// `docker push`: each layer goes up as a gzip blob unless the registry already
// has it (a blob this layer was pulled or pushed as, checked with HEAD) or can
// mount it from another repository on the same registry; the compressed blob is
// made once, on every core, and kept. Config, then a Docker schema 2 manifest
// under the tag, come last, so a failed push leaves no tag pointing at missing blobs.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { NboxError } from '../errors';
import { GZIP_LAYER_TYPES, MediaType, type Descriptor, type ImageManifest } from '../image/oci';
import type { Store } from '../image/store';
import type { BlobDigest, LayerSource, StoredLayer } from '../image/stored-layer';
import { forEachLimited } from '../pool';
import { lookupCredentials } from './credentials';
import { RegistryClient } from './client';
import { formatRemoteReference, parseRemoteReference, type RemoteReference } from './reference';
import { countBytes, shortDigest, type TransferOptions } from './transfer';

/** PushResult is what the registry now holds under the tag: the manifest's digest and size. */
export interface PushResult {
  tag: string;
  digest: string;
  size: number;
}

// Docker's default max-concurrent-uploads.
const CONCURRENT_UPLOADS = 5;

/** pushImage uploads the local image ref to the registry its name points at. */
export async function pushImage(store: Store, ref: string, options: TransferOptions = {}): Promise<PushResult> {
  const remote = parseRemoteReference(ref);
  if (remote.digest) throw new NboxError('ERR_NBOX_USAGE', `cannot push a digest reference: ${ref}`);
  // A concurrent rmi must not collect the layers while they are read.
  const release = await store.layers.pin();
  const client = await pushClient(remote, options).catch(async (err: unknown) => {
    await release();
    throw err;
  });
  try {
    const image = await store.images.resolve(ref);
    const progress = options.progress ?? (() => undefined);
    const diffIds = image.config.rootfs.diff_ids;
    const layers: Descriptor[] = new Array(diffIds.length);
    await forEachLimited([...diffIds.keys()], CONCURRENT_UPLOADS, async (index) => {
      layers[index] = await pushLayer(store, client, remote, diffIds[index], progress);
    });
    const configBytes = await store.images.configBytes(image.id);
    const config = { digest: image.id, size: configBytes.length };
    if (!(await client.hasBlob(remote.repository, image.id))) await client.pushBlob(remote.repository, config, () => Readable.from([configBytes]));
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, ...config },
      layers,
    };
    const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
    const tag = remote.tag ?? 'latest';
    const digest = await client.putManifest(remote.repository, tag, MediaType.dockerManifest, bytes);
    await store.images.addRepoDigest(formatRemoteReference({ registry: remote.registry, repository: remote.repository }), digest, image.id);
    return { tag, digest, size: bytes.length };
  } finally {
    client.close();
    await release();
  }
}

async function pushLayer(store: Store, client: RegistryClient, remote: RemoteReference, diffId: string, progress: NonNullable<TransferOptions['progress']>): Promise<Descriptor> {
  // One progress line per layer, named by its diffID as Docker's push names it (not by the blob, which is made later).
  const shown = shortDigest(diffId);
  const layer = await store.layers.get(diffId);
  const known = (await layer.sources()).filter((source) => GZIP_LAYER_TYPES.has(source.mediaType) && source.registry === remote.registry);
  for (const source of known) {
    if (await client.hasBlob(remote.repository, source.digest)) {
      progress({ id: shown, status: 'Layer already exists' });
      return layerDescriptor(source);
    }
    if (source.repository !== remote.repository && (await client.mountBlob(remote.repository, source.digest, source.repository))) {
      // As Docker: the repository's path on the registry.
      progress({ id: shown, status: `Mounted from ${source.repository}` });
      await remember(layer, source, remote);
      return layerDescriptor(source);
    }
  }
  progress({ id: shown, status: 'Preparing' });
  const kept = await layer.keptCompressed();
  let blob: BlobDigest;
  if (kept && (await client.hasBlob(remote.repository, kept.digest))) {
    progress({ id: shown, status: 'Layer already exists' });
    blob = kept;
  } else if (kept) {
    progress({ id: shown, status: 'Pushing' });
    await client.pushBlob(remote.repository, kept, () => countBytes(createReadStream(kept.path), shown, 'Pushing', kept.size, progress));
    progress({ id: shown, status: 'Pushed' });
    blob = kept;
  } else {
    // First time out of the store: compressed, kept and uploaded in one pass.
    progress({ id: shown, status: 'Pushing' });
    // The blob is kept in the background (a cache: the push does not wait for it or fail with it).
    const { blob: compressing, digest } = layer.compress();
    try {
      blob = await client.pushBlobStream(remote.repository, countBytes(compressing, shown, 'Pushing', undefined, progress), digest);
    } catch (err) {
      // Stops the compression and drops its temp file.
      compressing.destroy();
      throw err;
    }
    progress({ id: shown, status: 'Pushed' });
  }
  const source: LayerSource = { ...blob, mediaType: MediaType.dockerLayerGzip, registry: remote.registry, repository: remote.repository };
  await remember(layer, source, remote);
  return layerDescriptor(source);
}

async function pushClient(remote: RemoteReference, options: TransferOptions): Promise<RegistryClient> {
  const credentials = options.credentials !== undefined ? options.credentials : await lookupCredentials(remote.registry, { path: options.authFile });
  return new RegistryClient({ registry: remote.registry, credentials, tlsVerify: options.tlsVerify });
}

function remember(layer: StoredLayer, source: LayerSource, remote: RemoteReference): Promise<void> {
  return layer.addSource({ ...source, registry: remote.registry, repository: remote.repository });
}

function layerDescriptor(source: LayerSource): Descriptor {
  return { mediaType: MediaType.dockerLayerGzip, digest: source.digest, size: source.size };
}
