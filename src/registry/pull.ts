// `docker pull`: manifest (platform picked from a list), config, then the layers
// the store lacks, several at once, each unpacked while it downloads and
// committed as soon as it is checked, so a pull killed midway leaves valid
// layers that the next pull reuses. The image and its tag come last.
import type { Readable } from 'node:stream';
import { NboxError } from '../errors';
import { GZIP_LAYER_TYPES, MediaType, type ImageConfig } from '../image/oci';
import { parseIncomingImageConfig } from '../image/images';
import type { Store } from '../image/store';
import { forEachLimited } from '../pool';
import { lookupCredentials } from './credentials';
import { RegistryClient } from './client';
import { formatRemoteReference, parseRemoteReference } from './reference';
import { countBytes, shortDigest, type TransferOptions } from './transfer';
import { sha256Digest } from '../image/digest';

/** PullResult says what a pull stored: the image ID, the manifest digest, the tag (none for a pull by digest), and whether it was already there. */
export interface PullResult {
  id: string;
  digest: string;
  tag?: string;
  upToDate: boolean;
}

// Docker's default max-concurrent-downloads.
const CONCURRENT_DOWNLOADS = 3;
const TAR_TYPES = new Set([...GZIP_LAYER_TYPES, MediaType.ociLayer, 'application/vnd.docker.image.rootfs.diff.tar']);

/** pullImage fetches ref from its registry into the store and tags it; on failure no image or tag is added. */
export async function pullImage(store: Store, ref: string, options: TransferOptions = {}): Promise<PullResult> {
  const remote = parseRemoteReference(ref);
  const progress = options.progress ?? (() => undefined);
  const credentials = options.credentials !== undefined ? options.credentials : await lookupCredentials(remote.registry, { path: options.authFile });
  const client = new RegistryClient({ registry: remote.registry, credentials, tlsVerify: options.tlsVerify });
  const release = await store.layers.pin();
  try {
    const manifest = await client.getManifest(remote.repository, remote.digest ?? remote.tag ?? 'latest');
    const configBytes = await client.fetchBlobBytes(remote.repository, manifest.config);
    const config = parseConfig(configBytes, ref);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw new NboxError('ERR_NBOX_REGISTRY', `${ref}: the manifest lists ${manifest.layers.length} layers but the config ${config.rootfs.diff_ids.length}`);
    }
    for (const layer of manifest.layers) {
      if (!TAR_TYPES.has(layer.mediaType)) throw new NboxError('ERR_NBOX_REGISTRY', `${ref}: unsupported layer type ${layer.mediaType}`);
    }
    const tag = remote.tag ? formatRemoteReference({ ...remote, digest: undefined }) : undefined;
    const id = sha256Digest(configBytes);
    const upToDate = await store.images.has(id);

    if (!upToDate) {
      const indexed = manifest.layers.map((layer, index) => ({ layer, diffId: config.rootfs.diff_ids[index] }));
      // The first failure stops the other downloads instead of waiting for them, and is the one reported.
      const downloading = new Set<Readable>();
      let firstFailure: unknown;
      const fail = (err: unknown) => {
        if (firstFailure === undefined) firstFailure = err;
        for (const blob of downloading) blob.destroy(new NboxError('ERR_NBOX_REGISTRY', 'download stopped: another layer failed'));
        throw firstFailure;
      };
      await forEachLimited(indexed, CONCURRENT_DOWNLOADS, async ({ layer, diffId }) => {
        const shown = shortDigest(layer.digest);
        if (await store.layers.has(diffId)) return progress({ id: shown, status: 'Already exists' });
        progress({ id: shown, status: 'Pulling fs layer' });
        const blob = countBytes(await client.getBlob(remote.repository, layer).catch(fail), shown, 'Downloading', layer.size, progress);
        downloading.add(blob);
        const unpacked = await store.layers.unpack(blob).catch(fail).finally(() => downloading.delete(blob));
        if (unpacked.diffId !== diffId) {
          await unpacked.discard();
          throw new NboxError('ERR_NBOX_REGISTRY', `layer ${layer.digest} of ${ref} unpacks to ${unpacked.diffId}, not the diffID ${diffId} its config names`);
        }
        await store.layers.commit(unpacked);
        if (GZIP_LAYER_TYPES.has(layer.mediaType)) {
          await (await store.layers.get(diffId)).addSource({ digest: layer.digest, size: layer.size, mediaType: layer.mediaType, registry: remote.registry, repository: remote.repository });
        }
        progress({ id: shown, status: 'Pull complete' });
      }).catch(fail);
    }
    await store.images.commit([], configBytes, tag ? [tag] : []);
    // Docker's RepoDigests name what was asked for: a list's digest when the reference named a list.
    const digest = manifest.indexDigest ?? manifest.digest;
    await store.images.addRepoDigest(formatRemoteReference({ registry: remote.registry, repository: remote.repository }), digest, id);
    return { id, digest, tag, upToDate };
  } finally {
    client.close();
    await release();
  }
}

function parseConfig(bytes: Buffer, ref: string): ImageConfig {
  try {
    return parseIncomingImageConfig(bytes);
  } catch (err) {
    throw new NboxError('ERR_NBOX_REGISTRY', `${ref}: invalid image config: ${(err as Error).message}`);
  }
}
