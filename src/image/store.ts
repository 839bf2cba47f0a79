// The on-disk store under NBOX_ROOT: unpacked layers, image configs, tags, and
// the containers directory the runtime owns. Every file and directory appears
// by an atomic rename, so readers need no lock and `kill -9` at any moment
// leaves a consistent store; mutations of shared state run under `lock`.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { NboxError, isErrno } from '../errors';
import { addon } from '../sys/addon';
import { processStartTime } from '../sys/proc';
import type { LayerDigest } from './tar/unpack';
import { ImageConfig } from './oci';
import { normalizeReference, normalizeTag, splitReference } from './reference';
import { STORE_DIRS, STORE_LOCKS, STORE_MODE, VERSION_FILE, VERSION_TEXT, makeDirectory, prepareStoreRoot, restrictMode } from './store-root';

/** ImageRecord is a stored image: its ID (config digest), config, tags, total layer size and creation time. */
export interface ImageRecord {
  id: string;
  config: ImageConfig;
  tags: string[];
  /** `repository@sha256:…` names of the manifests this image was pulled or pushed as (Docker's RepoDigests). */
  repoDigests: string[];
  size: number;
  created: Date;
  /** The image this one was built on by one build step, when nbox built it. */
  parent?: string;
}

/** LayerRecord is the content of a layer's layer.json. */
export interface LayerRecord extends LayerDigest {
  created: string;
}

/** UnpackedLayer is a layer unpacked into a temporary directory, not yet in layers/. */
export interface UnpackedLayer extends LayerDigest {
  tempDir: string;
}

/** BlobDigest identifies a blob: its sha256 digest and size in bytes. */
export interface BlobDigest {
  digest: string;
  size: number;
}

/** CompressedLayer is a layer's gzip blob in the store. */
export interface CompressedLayer extends BlobDigest {
  path: string;
}

/** LayerSource is a compressed blob of a layer held by a registry repository. */
export interface LayerSource extends BlobDigest {
  mediaType: string;
  registry: string;
  repository: string;
}

/** Repositories maps `name:tag` to an image ID, as in repositories.json. */
type Repositories = Record<string, string>;

const digestPattern = /^sha256:([0-9a-f]{64})$/;
const hexRefPattern = /^(?:sha256:)?([0-9a-f]{1,64})$/;
// A temp entry's name (see tempPath): only names of this shape are ever swept.
const tempNamePattern = /^(\d+)-(\d+)-[0-9a-f]{12}(?:-[a-z][a-z-]*)?$/;
// The name of a layer or image directory; GC touches no other name.
const hexNamePattern = /^[0-9a-f]{64}$/;
// A layer's gzip blob and its digest, made when it first leaves the store.
// Level 1: on this kind of data it is twice level 6's speed for blobs ~5% larger.
const GZIP_BLOB = 'layer.tar.gz';
const GZIP_RECORD = 'gzip.json';
const GZIP_LEVEL = 1;
// Registry blobs known to hold the layer (see LayerSource).
const SOURCES = 'sources.json';
// A layer that came in as a tar keeps what replays that tar exactly (see tar/split.ts),
// or a marker saying it cannot be replayed.
const TAR_SPLIT = 'tar-split.gz';
const NO_TAR_SPLIT = 'no-tar-split';

/** Store is an opened nbox store root. */
export class Store {
  readonly root: string;
  readonly containersDir: string;
  /** Container names, one symlink each to its container's ID (owned by the runtime). */
  readonly containerNamesDir: string;
  /** Build cache entries, one file per cache key holding an image ID (owned by the builder). */
  readonly buildCacheDir: string;
  private readonly tmpDir: string;
  private readonly layersDir: string;
  private readonly imagesDir: string;
  private readonly lockPath: string;
  private readonly gcLockPath: string;
  private readonly repositoriesPath: string;
  // Marks async work that already holds this store's lock, so nested withLock calls don't deadlock.
  private readonly lockScope = new AsyncLocalStorage<true>();

  private constructor(
    root: string,
    private readonly tempOwner: string,
  ) {
    this.root = root;
    this.containersDir = path.join(root, 'containers');
    this.containerNamesDir = path.join(root, 'names');
    this.buildCacheDir = path.join(root, 'buildcache');
    this.tmpDir = path.join(root, 'tmp');
    this.layersDir = path.join(root, 'layers');
    this.imagesDir = path.join(root, 'images');
    this.lockPath = path.join(root, 'lock');
    this.gcLockPath = path.join(root, 'gc.lock');
    this.repositoriesPath = path.join(this.imagesDir, 'repositories.json');
  }

  /** open creates the store layout under root if needed (or adopts an unmarked store of the earlier layout),
   * makes its directories root's alone, and removes temp entries of dead processes. */
  static async open(root: string): Promise<Store> {
    const startTime = processStartTime(process.pid);
    if (startTime < 0) throw new NboxError('ERR_NBOX_STORE', 'cannot read /proc/self/stat: is /proc mounted?');
    const { dir, state } = await prepareStoreRoot(root);
    const store = new Store(dir, `${process.pid}-${startTime}`);
    // Independent of each other: at once, as every command opens the store.
    await Promise.all([
      restrictMode(dir),
      ...STORE_DIRS.map(async (name) => {
        const sub = path.join(dir, name);
        if (!(await makeDirectory(sub, STORE_MODE))) await restrictMode(sub);
      }),
      ...STORE_LOCKS.map(async (name) => (await fs.open(path.join(dir, name), 'a', 0o600)).close()),
    ]);
    if (state === 'unmarked') await store.writeFileAtomic(path.join(dir, VERSION_FILE), VERSION_TEXT);
    await store.sweepTemp();
    return store;
  }

  /** withLock runs fn holding the store's exclusive lock; nested calls from within fn reuse it. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    if (this.lockScope.getStore()) return fn();
    const lockFile = await fs.open(this.lockPath, 'a');
    try {
      // flock has no async form; poll. A dead holder's lock is dropped by the kernel.
      for (let delay = 2; !addon().tryLock(lockFile.fd, true); delay = Math.min(delay * 2, 50)) await sleep(delay);
      return await this.lockScope.run(true, fn);
    } finally {
      await lockFile.close();
    }
  }

  /** makeTempDir creates a directory in tmp/, named `<pid>-<starttime>-<random>[-label]` so open() can tell whether its owner is alive. */
  async makeTempDir(label?: string): Promise<string> {
    const dir = this.tempPath(label);
    await fs.mkdir(dir);
    return dir;
  }

  /** writeFileAtomic replaces the file at target (inside the store) with data: temp file, fsync (unless durable is false), rename. */
  async writeFileAtomic(target: string, data: string | Buffer, options: { durable?: boolean } = {}): Promise<void> {
    const temp = this.tempPath();
    try {
      // Rename alone makes the write atomic for readers and kill -9; the
      // fsync is for power loss, which disposable container state can skip.
      if (options.durable === false) await fs.writeFile(temp, data, { flag: 'wx', mode: 0o644 });
      else await writeDurably(temp, data);
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
  }

  /** removeTree deletes a file or directory inside the store by first renaming it into tmp/; missing is fine. */
  async removeTree(target: string): Promise<void> {
    const doomed = this.tempPath();
    try {
      await fs.rename(target, doomed);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    await fs.rm(doomed, { recursive: true, force: true });
  }

  /** addImage stores an image config (its layers must be stored) and points tags at it; returns the image ID.
   * parent names the image a build step started from, for `history` and `images`. */
  async addImage(configBytes: Buffer, tags: string[], parent?: string): Promise<string> {
    let config: ImageConfig;
    try {
      config = parseImageConfig(configBytes);
    } catch (err) {
      throw new NboxError('ERR_NBOX_STORE', `invalid image config: ${(err as Error).message}`);
    }
    const names = tags.map(normalizeTag);
    const hex = createHash('sha256').update(configBytes).digest('hex');
    const id = `sha256:${hex}`;
    return this.withLock(async () => {
      await this.layerDirs(config);
      const dir = path.join(this.imagesDir, hex);
      if (!(await exists(dir))) {
        const temp = await this.makeTempDir('image');
        await writeDurably(path.join(temp, 'config.json'), configBytes);
        if (parent) await writeDurably(path.join(temp, 'parent'), parent);
        await fs.rename(temp, dir);
      }
      if (names.length > 0) {
        const repositories = await this.readRepositories();
        for (const name of names) repositories[name] = id;
        await this.writeRepositories(repositories);
      }
      return id;
    });
  }

  /** resolveImage finds an image by name[:tag], `sha256:<id>`, full ID, or a unique ID prefix. */
  async resolveImage(ref: string): Promise<ImageRecord> {
    const hexRef = hexRefPattern.exec(ref);
    // As Docker: a full or `sha256:`-prefixed ID is an ID; a bare hex prefix is tried after names.
    if (hexRef && (hexRef[1].length === 64 || ref.startsWith('sha256:'))) return this.imageByIdPrefix(hexRef[1], ref);
    const repositories = await this.readRepositories();
    const id = repositories[repositoryKey(ref)];
    const image = id === undefined ? undefined : await this.readImage(id, repositories);
    if (image) return image;
    if (hexRef) return this.imageByIdPrefix(hexRef[1], ref);
    throw noSuchImage(ref);
  }

  /** imageConfig reads just an image's config (no tags, sizes or parent): for hot paths; undefined when not stored. */
  async imageConfig(id: string): Promise<ImageConfig | undefined> {
    const hex = digestPattern.exec(id)?.[1];
    return hex === undefined ? undefined : this.readConfig(hex);
  }

  /** imageConfigBytes reads an image's config exactly as stored: its sha256 is the image ID. */
  async imageConfigBytes(id: string): Promise<Buffer> {
    const hex = digestPattern.exec(id)?.[1];
    const bytes = hex === undefined ? undefined : await readIfExists(path.join(this.imagesDir, hex, 'config.json'));
    if (bytes === undefined) throw noSuchImage(id);
    return bytes;
  }

  /** hasImage tells whether the image with this ID is still stored (one stat: for hot paths). */
  async hasImage(id: string): Promise<boolean> {
    const hex = digestPattern.exec(id)?.[1];
    return hex !== undefined && exists(path.join(this.imagesDir, hex, 'config.json'));
  }

  /** listImages returns every stored image, newest first. */
  async listImages(): Promise<ImageRecord[]> {
    const repositories = await this.readRepositories();
    const images: ImageRecord[] = [];
    for (const hex of await this.imageHexes()) {
      const image = await this.readImage(`sha256:${hex}`, repositories);
      if (image) images.push(image);
    }
    return images.sort((a, b) => b.created.getTime() - a.created.getTime());
  }

  /** tag points targetName at the image sourceRef resolves to, moving it from any other image. */
  async tag(sourceRef: string, targetName: string): Promise<void> {
    const name = normalizeTag(targetName);
    await this.withLock(async () => {
      const { id } = await this.resolveImage(sourceRef);
      const repositories = await this.readRepositories();
      repositories[name] = id;
      await this.writeRepositories(repositories);
    });
  }

  /** addRepoDigest records that image id is the manifest `repository@digest` in a registry, so that name finds it. */
  async addRepoDigest(repository: string, digest: string, id: string): Promise<void> {
    const name = `${splitReference(repository).repository}@${digest}`;
    await this.withLock(async () => {
      const repositories = await this.readRepositories();
      if (repositories[name] === id || !(await this.hasImage(id))) return;
      repositories[name] = id;
      await this.writeRepositories(repositories);
    });
  }

  /** untag removes the tag name and returns the ID it pointed to; the image itself stays. */
  async untag(name: string): Promise<string> {
    const key = repositoryKey(name);
    return this.withLock(async () => {
      const repositories = await this.readRepositories();
      const id = repositories[key];
      if (id === undefined) throw noSuchImage(name);
      delete repositories[key];
      await this.writeRepositories(repositories);
      return id;
    });
  }

  /** removeImage deletes the image with this ID and its names, then the layers no other image uses. */
  async removeImage(id: string): Promise<void> {
    await this.withLock(async () => {
      const image = await this.readImage(id);
      if (!image) throw noSuchImage(id);
      // Space is freed before the names are rewritten, so that rmi works on a full disk.
      // A crash in between leaves names of an image that is gone: they resolve to
      // nothing, and the next write of the names drops them.
      await this.removeTree(path.join(this.imagesDir, id.slice('sha256:'.length)));
      await this.collectLayers();
      if (image.tags.length + image.repoDigests.length > 0) {
        const repositories = await this.readRepositories();
        for (const name of [...image.tags, ...image.repoDigests]) delete repositories[name];
        await this.writeRepositories(repositories);
      }
    });
  }

  /** pinLayers keeps every stored layer from collection until the returned release is called:
   * a build runs on layers of images that an `rmi` may untag and delete meanwhile. */
  async pinLayers(): Promise<() => Promise<void>> {
    const pin = await fs.open(this.gcLockPath, 'a');
    for (let delay = 2; !addon().tryLock(pin.fd, false); delay = Math.min(delay * 2, 50)) await sleep(delay);
    return () => pin.close();
  }

  /** whileUnpinned runs fn while no build or transfer pins the layers (they hold
   * the pin for their whole run); undefined, without running fn, when one does. */
  async whileUnpinned<T>(fn: () => Promise<T>): Promise<T | undefined> {
    const gc = await fs.open(this.gcLockPath, 'a');
    try {
      return addon().tryLock(gc.fd, true) ? await fn() : undefined;
    } finally {
      await gc.close();
    }
  }

  // collectLayers removes the layers no image references, unless a build
  // pins them (they are then collected by a later removal).
  private async collectLayers(): Promise<void> {
    const gc = await fs.open(this.gcLockPath, 'a');
    try {
      if (!addon().tryLock(gc.fd, true)) return;
      const inUse = new Set<string>();
      for (const hex of await this.imageHexes()) {
        for (const diffId of (await this.readConfig(hex))?.rootfs.diff_ids ?? []) inUse.add(diffId);
      }
      for (const hex of await fs.readdir(this.layersDir)) {
        if (hexNamePattern.test(hex) && !inUse.has(`sha256:${hex}`)) await this.removeTree(path.join(this.layersDir, hex));
      }
    } finally {
      await gc.close();
    }
  }

  /** layerDirs returns the `diff` directories of config's layers, topmost first, as overlay lowerdirs want them.
   * A layer the image holds twice (two `RUN true`) is listed once, where it is topmost: overlay refuses
   * a lower dir given twice (ELOOP), and the topmost copy already covers all the lower one could show. */
  async layerDirs(config: ImageConfig): Promise<string[]> {
    const dirs: string[] = [];
    for (const diffId of config.rootfs.diff_ids) {
      const dir = path.join(this.layerDir(diffId), 'diff');
      if (!(await exists(dir))) throw new NboxError('ERR_NBOX_STORE', `layer ${diffId} is missing from the store (${dir})`);
      dirs.push(dir);
    }
    return [...new Set(dirs.reverse())];
  }

  /** hasLayer tells whether the layer with this diffID is stored. */
  async hasLayer(diffId: string): Promise<boolean> {
    return exists(this.layerDir(diffId));
  }

  /** unpackLayer unpacks a tar stream into a temp directory without taking the lock; commitImage puts it in place. */
  async unpackLayer(tarStream: Readable): Promise<UnpackedLayer> {
    const tempDir = await this.makeTempDir('layer');
    try {
      await fs.mkdir(path.join(tempDir, 'diff'));
      // Loaded on use: tar and zlib are not needed to run a container.
      const { unpackLayer } = await import('./tar/unpack');
      const { split, ...digest } = await unpackLayer(tarStream, path.join(tempDir, 'diff'));
      await writeDurably(path.join(tempDir, split ? TAR_SPLIT : NO_TAR_SPLIT), split ?? '');
      const record: LayerRecord = { ...digest, created: new Date().toISOString() };
      await writeDurably(path.join(tempDir, 'layer.json'), `${JSON.stringify(record)}\n`);
      return { ...digest, tempDir };
    } catch (err) {
      await this.removeTree(tempDir);
      throw err;
    }
  }

  /** layerTar streams a stored layer as the exact tar its diffID was computed from:
   * replayed from its tar-split when it came in as a tar, else written from the directory. */
  async layerTar(diffId: string): Promise<Readable> {
    const dir = this.layerDir(diffId);
    const split = await readIfExists(path.join(dir, TAR_SPLIT));
    if (split) {
      const { replayTar } = await import('./tar/split-replay');
      return Readable.from(replayTar(split, path.join(dir, 'diff'), diffId), { objectMode: false });
    }
    if (!(await exists(dir))) throw new NboxError('ERR_NBOX_STORE', `layer ${diffId} is missing from the store`);
    if (await exists(path.join(dir, NO_TAR_SPLIT))) {
      throw new NboxError('ERR_NBOX_STORE', `layer ${diffId} came in as a tar that holds a path twice: its exact tar cannot be made again`);
    }
    const { layerTar } = await import('./tar/writer');
    return layerTar(path.join(dir, 'diff'), diffId);
  }

  /** compressedLayer returns the layer's gzip blob, compressing it on every core the first
   * time an image leaves the store (push, save) and keeping it in the layer's directory for reuse. */
  async compressedLayer(diffId: string): Promise<CompressedLayer> {
    const known = await this.keptCompressedLayer(diffId);
    if (known) return known;
    const { blob, stored } = this.compressLayer(diffId);
    for await (const _chunk of blob);
    return stored;
  }

  /** keptCompressedLayer returns the layer's gzip blob if one was made before. */
  async keptCompressedLayer(diffId: string): Promise<CompressedLayer | undefined> {
    const dir = this.layerDir(diffId);
    const recordPath = path.join(dir, GZIP_RECORD);
    const known = cachedRecord(await readIfExists(recordPath));
    if (!isBlobDigest(known) || !(await exists(path.join(dir, GZIP_BLOB)))) return undefined;
    return { digest: known.digest, size: known.size, path: path.join(dir, GZIP_BLOB) };
  }

  /** compressLayer streams the layer's gzip blob as it is made (a push uploads it meanwhile) and keeps it;
   * stored settles once blob has been read to its end, or was abandoned. */
  compressLayer(diffId: string): { blob: Readable; digest: Promise<BlobDigest>; stored: Promise<CompressedLayer> } {
    let settle!: { resolve: (layer: CompressedLayer) => void; reject: (err: unknown) => void };
    const stored = new Promise<CompressedLayer>((resolve, reject) => (settle = { resolve, reject }));
    stored.catch(() => undefined);
    // The blob's digest, known as soon as its last byte was read (before it is kept on disk).
    let settleDigest!: { resolve: (blob: BlobDigest) => void; reject: (err: unknown) => void };
    const digest = new Promise<BlobDigest>((resolve, reject) => (settleDigest = { resolve, reject }));
    digest.catch(() => undefined);
    const store = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      const blobPath = path.join(store.layerDir(diffId), GZIP_BLOB);
      const { parallelGzip } = await import('./tar/gzip');
      const temp = store.tempPath('gzip');
      const hash = createHash('sha256');
      let size = 0;
      const handle = await fs.open(temp, 'wx', 0o644);
      // Kept after the stream has ended, so a reader (an upload) does not wait for the fsync.
      const keep = async (blob: BlobDigest): Promise<CompressedLayer> => {
        await handle.sync();
        await handle.close();
        await fs.rename(temp, blobPath);
        await store.writeFileAtomic(path.join(store.layerDir(diffId), GZIP_RECORD), `${JSON.stringify(blob)}\n`);
        return { ...blob, path: blobPath };
      };
      const drop = async (err: unknown) => {
        await handle.close().catch(() => undefined);
        await fs.rm(temp, { force: true });
        settleDigest.reject(err);
        settle.reject(err);
      };
      let complete = false;
      try {
        for await (const chunk of parallelGzip(await store.layerTar(diffId), { level: GZIP_LEVEL })) {
          hash.update(chunk);
          size += chunk.length;
          await handle.write(chunk);
          yield chunk;
        }
        complete = true;
      } finally {
        if (complete) {
          const blob: BlobDigest = { digest: `sha256:${hash.digest('hex')}`, size };
          settleDigest.resolve(blob);
          keep(blob).then(settle.resolve, drop);
        }
        else await drop(new NboxError('ERR_NBOX_STORE', `compressing layer ${diffId} did not finish`));
      }
    }
    return { blob: Readable.from(chunks(), { objectMode: false }), digest, stored };
  }

  /** sealLayer turns a temp dir whose `diff/` holds a finished layer (an overlay upper dir, a COPY result) into an UnpackedLayer: its diffID is computed once, here. */
  async sealLayer(tempDir: string): Promise<UnpackedLayer> {
    const { digestLayerDir } = await import('./tar/writer');
    const digest = await digestLayerDir(path.join(tempDir, 'diff'));
    const record: LayerRecord = { ...digest, created: new Date().toISOString() };
    await writeDurably(path.join(tempDir, 'layer.json'), `${JSON.stringify(record)}\n`);
    return { ...digest, tempDir };
  }

  /** commitImage moves unpacked layers into layers/ (dropping ones already stored) and adds their image, all under one lock hold; on failure it removes the layers it added. */
  async commitImage(layers: UnpackedLayer[], configBytes: Buffer, tags: string[], parent?: string): Promise<string> {
    return this.withLock(async () => {
      const added: string[] = [];
      try {
        for (const layer of layers) if (await this.commitLayer(layer)) added.push(layer.diffId);
        return await this.addImage(configBytes, tags, parent);
      } catch (err) {
        for (const diffId of added) await this.removeTree(this.layerDir(diffId));
        throw err;
      }
    });
  }

  /** importLayer unpacks and commits a layer. Until an image references it, a concurrent removeImage may collect it: use unpackLayer and commitImage when that matters. */
  async importLayer(tarStream: Readable): Promise<LayerDigest> {
    const layer = await this.unpackLayer(tarStream);
    await this.commitLayer(layer);
    return { diffId: layer.diffId, size: layer.size };
  }

  /** layerSources lists the compressed blobs this layer is known to exist as in registries (it was pulled or pushed as them). */
  async layerSources(diffId: string): Promise<LayerSource[]> {
    const sources = cachedRecord(await readIfExists(path.join(this.layerDir(diffId), SOURCES)));
    return Array.isArray(sources) ? sources.filter(isLayerSource) : [];
  }

  /** addLayerSource records that a registry repository holds this layer as the given blob, for later pushes to skip or mount it. */
  async addLayerSource(diffId: string, source: LayerSource): Promise<void> {
    await this.withLock(async () => {
      if (!(await this.hasLayer(diffId))) return;
      const sources = await this.layerSources(diffId);
      if (sources.some((known) => known.digest === source.digest && known.registry === source.registry && known.repository === source.repository)) return;
      await this.writeFileAtomic(path.join(this.layerDir(diffId), SOURCES), `${JSON.stringify([...sources, source])}\n`, { durable: false });
    });
  }

  /** commitLayer moves an unpacked layer into layers/, or discards it if that
   * layer is already stored; true if added. Until an image references the layer,
   * only pinLayers keeps a concurrent removeImage from collecting it. */
  async commitLayer(layer: UnpackedLayer): Promise<boolean> {
    return this.withLock(async () => {
      const dir = this.layerDir(layer.diffId);
      if (await exists(dir)) {
        await this.removeTree(layer.tempDir);
        return false;
      }
      await fs.rename(layer.tempDir, dir);
      return true;
    });
  }

  private tempPath(label?: string): string {
    return path.join(this.tmpDir, `${this.tempOwner}-${randomBytes(6).toString('hex')}${label ? `-${label}` : ''}`);
  }

  // sweepTemp removes what killed processes left in tmp/. A process is the same
  // one only if its start time matches too, since pids are reused. A name nbox
  // does not make is not nbox's to remove.
  private async sweepTemp(): Promise<void> {
    for (const name of await fs.readdir(this.tmpDir)) {
      const owner = tempNamePattern.exec(name);
      if (!owner || String(processStartTime(Number(owner[1]))) === owner[2]) continue;
      await this.removeTree(path.join(this.tmpDir, name));
    }
  }

  private layerDir(diffId: string): string {
    const hex = digestPattern.exec(diffId)?.[1];
    if (hex === undefined) throw new NboxError('ERR_NBOX_STORE', `invalid layer diffID ${JSON.stringify(diffId)}`);
    return path.join(this.layersDir, hex);
  }

  private async imageHexes(): Promise<string[]> {
    return (await fs.readdir(this.imagesDir)).filter((name) => hexNamePattern.test(name));
  }

  private async imageByIdPrefix(prefix: string, ref: string): Promise<ImageRecord> {
    const matches = (await this.imageHexes()).filter((hex) => hex.startsWith(prefix));
    if (matches.length > 1) throw new NboxError('ERR_NBOX_USAGE', `ambiguous image ID prefix ${ref}: ${matches.length} images match`);
    const image = matches.length === 1 ? await this.readImage(`sha256:${matches[0]}`) : undefined;
    if (!image) throw noSuchImage(ref);
    return image;
  }

  // readConfig returns undefined when the image directory is gone (removed
  // concurrently); a directory without a valid config.json is corruption.
  private async readConfig(hex: string): Promise<ImageConfig | undefined> {
    const dir = path.join(this.imagesDir, hex);
    const file = path.join(dir, 'config.json');
    const bytes = await readIfExists(file);
    if (bytes === undefined) {
      if (await exists(dir)) throw corrupt(file, 'missing');
      return undefined;
    }
    try {
      return parseImageConfig(bytes);
    } catch (err) {
      throw corrupt(file, (err as Error).message);
    }
  }

  private async readImage(id: string, repositories?: Repositories): Promise<ImageRecord | undefined> {
    const hex = digestPattern.exec(id)?.[1];
    if (hex === undefined) return undefined;
    const config = await this.readConfig(hex);
    if (!config) return undefined;
    let size = 0;
    for (const diffId of config.rootfs.diff_ids) {
      const layer = await this.readLayer(diffId);
      if (!layer) {
        if (!(await exists(path.join(this.imagesDir, hex)))) return undefined;
        throw new NboxError('ERR_NBOX_STORE', `layer ${diffId} of image ${id} is missing from the store`);
      }
      size += layer.size;
    }
    const tagged = repositories ?? (await this.readRepositories());
    const names = Object.keys(tagged).filter((name) => tagged[name] === id);
    const tags = names.filter((name) => !name.includes('@'));
    const repoDigests = names.filter((name) => name.includes('@'));
    const created = config.created ? new Date(config.created) : (await fs.stat(path.join(this.imagesDir, hex, 'config.json'))).mtime;
    const parent = (await readIfExists(path.join(this.imagesDir, hex, 'parent')))?.toString();
    return parent ? { id, config, tags, repoDigests, size, created, parent } : { id, config, tags, repoDigests, size, created };
  }

  /** readLayer returns a stored layer's record (diffID, tar size), or undefined when it is not stored. */
  async readLayer(diffId: string): Promise<LayerRecord | undefined> {
    const dir = this.layerDir(diffId);
    const file = path.join(dir, 'layer.json');
    const bytes = await readIfExists(file);
    if (bytes === undefined) {
      if (await exists(dir)) throw corrupt(file, 'missing');
      return undefined;
    }
    const record = parseJson(bytes, file) as Partial<LayerRecord>;
    if (typeof record?.size !== 'number' || record.diffId !== diffId) throw corrupt(file, 'not a layer record');
    return record as LayerRecord;
  }

  private async readRepositories(): Promise<Repositories> {
    const bytes = await readIfExists(this.repositoriesPath);
    if (bytes === undefined) return {};
    const repositories = parseJson(bytes, this.repositoriesPath) as Repositories;
    const valid =
      typeof repositories === 'object' &&
      repositories !== null &&
      !Array.isArray(repositories) &&
      Object.values(repositories).every((id) => typeof id === 'string' && digestPattern.test(id));
    if (!valid) throw corrupt(this.repositoriesPath, 'expected an object of "name:tag": "sha256:<id>"');
    return repositories;
  }

  // writeRepositories also drops names whose image is gone (left by a removal that was killed).
  private async writeRepositories(repositories: Repositories): Promise<void> {
    const stored = new Map<string, boolean>();
    for (const id of new Set(Object.values(repositories))) stored.set(id, await this.hasImage(id));
    const kept = Object.entries(repositories).filter(([, id]) => stored.get(id));
    const sorted = Object.fromEntries(kept.sort(([a], [b]) => a.localeCompare(b)));
    await this.writeFileAtomic(this.repositoriesPath, `${JSON.stringify(sorted, null, 2)}\n`);
  }
}


// repositoryKey is where a reference is found in repositories.json: `name:tag`,
// or `name@digest` (a tag given beside a digest is ignored, as Docker does).
function repositoryKey(ref: string): string {
  const { repository, digest } = splitReference(ref);
  return digest ? `${repository}@${digest}` : normalizeReference(ref);
}

/** parseImageConfig parses an image config and checks its rootfs.diff_ids; it throws a plain Error saying what is wrong. */
export function parseImageConfig(bytes: Buffer): ImageConfig {
  const config = JSON.parse(bytes.toString('utf8')) as ImageConfig;
  const diffIds = config?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || !diffIds.every((diffId) => typeof diffId === 'string' && digestPattern.test(diffId))) {
    throw new Error('rootfs.diff_ids must be a list of sha256 digests');
  }
  return config;
}

// cachedRecord parses a cache file (gzip.json, sources.json): one that does not parse is as good as absent.
function cachedRecord(bytes: Buffer | undefined): unknown {
  try {
    return bytes === undefined ? undefined : JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isBlobDigest(value: unknown): value is BlobDigest {
  const record = value as Partial<BlobDigest> | undefined;
  return typeof record?.digest === 'string' && digestPattern.test(record.digest) && typeof record.size === 'number';
}

function isLayerSource(value: unknown): value is LayerSource {
  const source = value as Partial<LayerSource>;
  return isBlobDigest(value) && typeof source.registry === 'string' && typeof source.repository === 'string' && typeof source.mediaType === 'string';
}

function parseJson(bytes: Buffer, file: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw corrupt(file, (err as Error).message);
  }
}

function corrupt(file: string, detail: string): NboxError {
  return new NboxError('ERR_NBOX_STORE', `corrupt store file ${file}: ${detail}`);
}

function noSuchImage(ref: string): NboxError {
  return new NboxError('ERR_NBOX_NO_SUCH_IMAGE', `No such image: ${ref}`);
}

async function writeDurably(file: string, data: string | Buffer): Promise<void> {
  const handle = await fs.open(file, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ESRCH')) return undefined;
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}
