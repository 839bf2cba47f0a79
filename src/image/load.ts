// `docker load`: a docker-archive (manifest.json) or an OCI image layout
// (index.json), compressed or not. The archive is unpacked to a temp dir (blobs
// may come in any order), every layer is unpacked and checked against its
// digests, and only then are the images committed: a bad archive leaves the
// store as it was.
import { createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract } from 'tar-stream';
import { NboxError, isErrno } from '../errors';
import { MediaType, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from './oci';
import { HOST_PLATFORM } from './platform';
import { normalizeTag } from './reference';
import { sha256Digest, verifyingStream } from './digest';
import { parseIncomingImageConfig } from './images';
import type { SealedLayer } from './layers';
import type { Store } from './store';
import { uncompressed } from './tar/compression';

/** LoadedImage is an image load added: its ID and the tags it got. */
export interface LoadedImage {
  id: string;
  tags: string[];
}

/** ArchiveImage is one image found in an archive, before its layers are unpacked. */
interface ArchiveImage {
  configBytes: Buffer;
  /** Layer blobs in order: archive path, and the digest and size the blob itself must have (OCI) if known. */
  layers: Array<{ file: string; blob?: { digest: string; size: number } }>;
  tags: string[];
}

const digestPattern = /^sha256:[0-9a-f]{64}$/;

/** loadImages reads an image archive from input and stores its images; all or nothing. */
export async function loadImages(store: Store, input: Readable): Promise<LoadedImage[]> {
  const temp = await store.root.makeTempDir('load');
  const unpacked = new Map<string, SealedLayer>();
  const release = await store.layers.pin();
  try {
    await extractArchive(input, temp);
    const images = await readArchive(temp);
    for (const image of images) {
      const config = parseConfig(image.configBytes);
      if (config.rootfs.diff_ids.length !== image.layers.length) throw loadError(`image config lists ${config.rootfs.diff_ids.length} layers but the archive has ${image.layers.length}`);
      for (const [index, layer] of image.layers.entries()) {
        const diffId = config.rootfs.diff_ids[index];
        if (unpacked.has(diffId) || (await store.layers.has(diffId))) continue;
        const result = await store.layers.unpack(await verifiedBlob(temp, layer.file, layer.blob));
        unpacked.set(diffId, result);
        if (result.diffId !== diffId) throw loadError(`layer ${layer.file} does not match its diffID ${diffId} (it hashes to ${result.diffId})`);
      }
    }
    return await store.root.withLock(async () => {
      const loaded: LoadedImage[] = [];
      for (const image of images) {
        const diffIds = parseConfig(image.configBytes).rootfs.diff_ids;
        const layers = diffIds.flatMap((diffId) => {
          const layer = unpacked.get(diffId);
          unpacked.delete(diffId);
          return layer ? [layer] : [];
        });
        loaded.push({ id: await store.images.commit(layers, image.configBytes, image.tags), tags: image.tags });
      }
      return loaded;
    });
  } finally {
    for (const layer of unpacked.values()) await layer.discard();
    await store.root.removeTree(temp);
    await release();
  }
}

// extractArchive writes the archive's regular files under dir; names that would leave it are refused.
async function extractArchive(input: Readable, dir: string): Promise<void> {
  const { stages } = await uncompressed(input);
  const extractor = tarExtract();
  let entries = 0;
  const reading = (async () => {
    for await (const entry of extractor) {
      const name = path.posix.normalize(entry.header.name).replace(/^(\.\/)+/, '');
      if (entry.header.type !== 'file' || name.startsWith('../') || path.posix.isAbsolute(name)) {
        entry.resume();
        continue;
      }
      const target = path.join(dir, name);
      try {
        await fs.mkdir(path.dirname(target), { recursive: true });
        // A member given twice is its last copy, as Docker reads an archive.
        await fs.rm(target, { force: true });
        await pipeline(entry, createWriteStream(target, { flags: 'wx' }));
      } catch (err) {
        throw loadError(`cannot extract ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      entries++;
    }
  })();
  try {
    await Promise.all([pipeline([...stages, extractor as unknown as NodeJS.WritableStream]), reading]);
  } catch (err) {
    throw err instanceof NboxError ? err : loadError(`not a valid tar archive: ${(err as Error).message}`);
  }
  if (entries === 0) throw loadError('the archive is empty or not a tar archive');
}

async function readArchive(dir: string): Promise<ArchiveImage[]> {
  const manifest = await readIfExists(path.join(dir, 'manifest.json'));
  if (manifest) return readDockerArchive(dir, manifest);
  const index = await readIfExists(path.join(dir, 'index.json'));
  if (index) return readOciLayout(dir, index);
  throw loadError('not an image archive: it holds neither manifest.json (docker-archive) nor index.json (OCI layout)');
}

async function readDockerArchive(dir: string, manifestBytes: Buffer): Promise<ArchiveImage[]> {
  const entries = parseJson(manifestBytes, 'manifest.json') as Array<{ Config?: string; RepoTags?: string[] | null; Layers?: string[] }>;
  if (!Array.isArray(entries)) throw loadError('manifest.json is not a list of images');
  const images: ArchiveImage[] = [];
  for (const entry of entries) {
    if (typeof entry?.Config !== 'string' || !Array.isArray(entry.Layers)) throw loadError('manifest.json: an entry lacks Config or Layers');
    images.push({
      configBytes: await readMember(dir, entry.Config),
      layers: entry.Layers.map((file) => ({ file: checkedMember(file) })),
      tags: (entry.RepoTags ?? []).map((tag) => tagOf(tag)),
    });
  }
  return images;
}

const MAX_INDEX_DEPTH = 8;
const MAX_DESCRIPTORS = 4096;

async function readOciLayout(dir: string, indexBytes: Buffer): Promise<ArchiveImage[]> {
  const images: ArchiveImage[] = [];
  const byManifest = new Map<string, ArchiveImage>();
  // A hostile layout's nested indexes fan out (200 entries a level, three levels: 8 million visits, each a
  // blob read and hashed); a real one holds a few.
  let descriptors = 0;
  const visit = async (index: ImageIndex, inherited: string[], depth: number) => {
    if (!Array.isArray(index?.manifests)) throw loadError('index.json has no manifests list');
    if (depth > MAX_INDEX_DEPTH) throw loadError(`index.json: image indexes nest more than ${MAX_INDEX_DEPTH} deep`);
    for (const descriptor of index.manifests) {
      if (++descriptors > MAX_DESCRIPTORS) throw loadError(`index.json: more than ${MAX_DESCRIPTORS} manifests`);
      const tags = [...inherited, ...ociTags(descriptor)];
      if (descriptor.platform && (descriptor.platform.os !== HOST_PLATFORM.os || descriptor.platform.architecture !== HOST_PLATFORM.architecture)) continue;
      const bytes = await readBlob(dir, descriptor);
      if (descriptor.mediaType === MediaType.ociIndex || descriptor.mediaType === MediaType.dockerManifestList) {
        await visit(parseJson(bytes, descriptor.digest) as ImageIndex, tags, depth + 1);
        continue;
      }
      const manifest = parseJson(bytes, descriptor.digest) as ImageManifest;
      if (!manifest?.config || !Array.isArray(manifest.layers)) throw loadError(`manifest ${descriptor.digest} lacks config or layers`);
      // One manifest listed under several names is one image with several tags.
      const existing = byManifest.get(descriptor.digest);
      if (existing) {
        for (const tag of tags) if (!existing.tags.includes(tag)) existing.tags.push(tag);
        continue;
      }
      const image = {
        configBytes: await readBlob(dir, manifest.config),
        layers: manifest.layers.map((layer) => ({ file: blobFile(layer.digest), blob: layer })),
        tags,
      };
      byManifest.set(descriptor.digest, image);
      images.push(image);
    }
  };
  await visit(parseJson(indexBytes, 'index.json') as ImageIndex, [], 0);
  return images;
}

// ociTags reads a manifest's name: containerd's full name, else an OCI ref.name that is a whole reference (not just a tag).
function ociTags(descriptor: Descriptor): string[] {
  const full = descriptor.annotations?.['io.containerd.image.name'];
  if (full) return [tagOf(full)];
  const refName = descriptor.annotations?.['org.opencontainers.image.ref.name'];
  return refName && /[:/]/.test(refName) ? [tagOf(refName)] : [];
}

async function readBlob(dir: string, descriptor: Descriptor): Promise<Buffer> {
  const bytes = await readMember(dir, blobFile(descriptor.digest));
  const actual = sha256Digest(bytes);
  if (actual !== descriptor.digest) throw loadError(`blob ${descriptor.digest} does not match its digest (it hashes to ${actual})`);
  return bytes;
}

// verifiedBlob opens a layer file of the archive (its manifest may name one the
// archive lacks) and streams it, failing at its end when it is not the blob its
// descriptor names. Opened before it is streamed: a stream that fails to open
// emits its error before anyone listens.
async function verifiedBlob(dir: string, name: string, expected: { digest: string; size: number } | undefined): Promise<Readable> {
  let handle: FileHandle;
  try {
    handle = await fs.open(path.join(dir, name), 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw loadError(`the archive lacks ${name}`);
    throw err;
  }
  const source = handle.createReadStream();
  if (!expected) return source;
  const check = verifyingStream(expected, (what) => loadError(`layer blob ${expected.digest} does not match its descriptor: ${what}`));
  source.once('error', (err) => check.destroy(err));
  // A small blob may fail its check before the unpack starts reading; the error
  // then waits in the stream (its reader sees it) instead of going uncaught.
  check.on('error', () => undefined);
  return source.pipe(check);
}

function blobFile(digest: string): string {
  if (!digestPattern.test(digest)) throw loadError(`invalid blob digest ${JSON.stringify(digest)}`);
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

function checkedMember(name: unknown): string {
  const normal = typeof name === 'string' ? path.posix.normalize(name) : '';
  if (normal === '' || normal === '..' || normal.startsWith('../') || path.posix.isAbsolute(normal)) throw loadError(`invalid path in archive manifest: ${JSON.stringify(name)}`);
  return normal;
}

async function readMember(dir: string, name: string): Promise<Buffer> {
  const bytes = await readIfExists(path.join(dir, checkedMember(name)));
  if (!bytes) throw loadError(`the archive lacks ${name}`);
  return bytes;
}

function parseConfig(bytes: Buffer): ImageConfig {
  try {
    return parseIncomingImageConfig(bytes);
  } catch (err) {
    throw loadError(`invalid image config: ${(err as Error).message}`);
  }
}

function tagOf(name: string): string {
  try {
    return normalizeTag(name);
  } catch {
    throw loadError(`invalid image name in archive: ${JSON.stringify(name)}`);
  }
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw loadError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'EISDIR')) return undefined;
    throw err;
  }
}

function loadError(message: string): NboxError {
  return new NboxError('ERR_NBOX_IMPORT', `load: ${message}`);
}
