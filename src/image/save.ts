// `docker save`: images as one tar stream. The default format is Docker's
// own since 25.0, an OCI image layout plus the legacy manifest.json and
// repositories files, so both docker-archive and OCI readers take it; its
// layers are the uncompressed tars (their digest is the diffID). `--format oci`
// writes a plain OCI layout with the gzip blobs the store keeps for push.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Pack } from 'tar-stream';
import { NboxError } from '../errors';
import { sha256Digest } from './digest';
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest } from './oci';
import { canonicalName, familiarName, parseReference, splitReference } from './reference';
import type { ImageRecord } from './images';
import type { Store } from './store';

/** SaveFormat is the archive layout: Docker's (docker-archive + OCI) or plain OCI with compressed layers. */
export type SaveFormat = 'docker' | 'oci';

/** SavedImage is one image to write, with the tags it is saved under. */
interface SavedImage {
  image: ImageRecord;
  tags: string[];
}

/** resolveSaveRefs maps save's arguments to images and tags as Docker does: a name
 * without tag saves every tag of that repository; an ID saves the image untagged. */
export async function resolveSaveRefs(store: Store, refs: string[]): Promise<SavedImage[]> {
  if (refs.length === 0) throw new NboxError('ERR_NBOX_USAGE', 'save needs at least one image');
  const byId = new Map<string, SavedImage>();
  const images = await store.images.list();
  for (const ref of refs) {
    const named = namedRepository(ref);
    const matches = named === undefined ? [] : images.filter((image) => image.tags.some((tag) => splitReference(tag).repository === named));
    if (matches.length > 0) {
      for (const image of matches) addTags(byId, image, image.tags.filter((tag) => splitReference(tag).repository === named));
      continue;
    }
    const image = await store.images.resolve(ref);
    const tag = image.tags.find((name) => name === safeNormalize(ref));
    addTags(byId, image, tag ? [tag] : []);
  }
  return [...byId.values()];
}

/** saveImages streams the archive of images in format; their layers stay pinned (safe from a concurrent rmi) until it ends. */
export async function saveImages(store: Store, images: SavedImage[], format: SaveFormat): Promise<Readable> {
  const release = await store.layers.pin();
  const archive = tarPack();
  writeArchive(store, images, format, archive)
    .then(
      () => archive.finalize(),
      (err: unknown) => archive.destroy(err as Error),
    )
    .finally(() => release());
  return Readable.from(archive, { objectMode: false });
}

async function writeArchive(store: Store, images: SavedImage[], format: SaveFormat, archive: Pack): Promise<void> {
  const written = new Set<string>();
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
  const legacy: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const repositories: Record<string, Record<string, string>> = {};
  const addBlob = async (digest: string, size: number, content: () => Promise<Readable> | Buffer) => {
    if (written.has(digest)) return;
    written.add(digest);
    const body = await content();
    if (Buffer.isBuffer(body)) archive.entry({ name: blobPath(digest), size, mode: 0o644 }, body);
    else await streamEntry(archive, blobPath(digest), size, body);
  };

  await addDirectory(archive, 'blobs/');
  await addDirectory(archive, 'blobs/sha256/');
  for (const { image, tags } of images) {
    const configBytes = await store.images.configBytes(image.id);
    await addBlob(image.id, configBytes.length, () => configBytes);
    const layers: Descriptor[] = [];
    for (const diffId of image.config.rootfs.diff_ids) {
      const layer = await store.layers.get(diffId);
      if (format === 'oci') {
        const blob = await layer.compressed();
        layers.push({ mediaType: MediaType.ociLayerGzip, digest: blob.digest, size: blob.size });
        await addBlob(blob.digest, blob.size, async () => createReadStream(blob.path));
      } else {
        layers.push({ mediaType: MediaType.ociLayer, digest: diffId, size: layer.size });
        await addBlob(diffId, layer.size, () => layer.uncompressed());
      }
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: image.id, size: configBytes.length },
      layers,
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = sha256Digest(manifestBytes);
    await addBlob(manifestDigest, manifestBytes.length, () => manifestBytes);
    const descriptor: Descriptor = { mediaType: MediaType.ociManifest, digest: manifestDigest, size: manifestBytes.length };
    if (tags.length === 0) index.manifests.push(descriptor);
    for (const tag of tags) index.manifests.push({ ...descriptor, annotations: refAnnotations(tag) });
    legacy.push({ Config: blobPath(image.id), RepoTags: tags.length > 0 ? tags : null, Layers: layers.map((layer) => blobPath(layer.digest)) });
    const top = image.config.rootfs.diff_ids.at(-1);
    for (const tag of tags) {
      const { repository, tag: name } = splitReference(tag);
      if (top && name) (repositories[repository] ??= {})[name] = top.slice('sha256:'.length);
    }
  }
  addFile(archive, 'index.json', JSON.stringify(index));
  addFile(archive, 'oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  if (format === 'docker') {
    addFile(archive, 'manifest.json', JSON.stringify(legacy));
    if (Object.keys(repositories).length > 0) addFile(archive, 'repositories', JSON.stringify(repositories));
  }
}

// refAnnotations name a manifest in index.json as Docker does: the full name for
// containerd (and nbox load), the tag alone as the OCI reference name.
function refAnnotations(tag: string): Record<string, string> {
  const { repository, tag: name = 'latest' } = splitReference(tag);
  return { 'io.containerd.image.name': `${canonicalName(repository)}:${name}`, 'org.opencontainers.image.ref.name': name };
}

function blobPath(digest: string): string {
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

function addFile(archive: Pack, name: string, content: string): void {
  archive.entry({ name, mode: 0o644 }, content);
}

function addDirectory(archive: Pack, name: string): Promise<void> {
  return new Promise((resolve, reject) => archive.entry({ name, type: 'directory', mode: 0o755 }, (err) => (err ? reject(err) : resolve())));
}

// streamEntry fails (never throws uncaught) when the body fails or the archive's reader went away.
async function streamEntry(archive: Pack, name: string, size: number, body: Readable): Promise<void> {
  if (archive.destroyed) throw new NboxError('ERR_NBOX_STORE', 'save: the archive was closed');
  await pipeline(body, archive.entry({ name, size, mode: 0o644 }) as unknown as NodeJS.WritableStream);
}

function addTags(byId: Map<string, SavedImage>, image: ImageRecord, tags: string[]): void {
  const saved = byId.get(image.id) ?? { image, tags: [] };
  for (const tag of tags) if (!saved.tags.includes(tag)) saved.tags.push(tag);
  byId.set(image.id, saved);
}

// namedRepository is the repository a bare name (no tag, no digest) refers to; undefined otherwise.
function namedRepository(ref: string): string | undefined {
  if (/^(sha256:)?[0-9a-f]{6,64}$/.test(ref)) return undefined;
  try {
    const parsed = parseReference(ref);
    return parsed.tag === undefined && parsed.digest === undefined ? familiarName(parsed) : undefined;
  } catch {
    return undefined;
  }
}

function safeNormalize(ref: string): string | undefined {
  try {
    const { repository, tag } = splitReference(ref);
    return tag ? `${repository}:${tag}` : undefined;
  } catch {
    return undefined;
  }
}
