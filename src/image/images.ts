// Images in the store: configs addressed by their digest (the image ID), the
// names and tags that point at them (repositories.json), and the repository
// digests they were pulled or pushed as. Names change under the store lock.
import type * as Crypto from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NboxError } from '../errors';
import { corrupt, exists, parseJson, readIfExists, writeDurably } from '../store/files';
import type { StoreRoot } from '../store/root';
import type { Layers, SealedLayer } from './layers';
import type { ImageConfig } from './oci';
import { normalizeReference, normalizeTag, splitReference } from './reference';
import { textOrder } from '../order';
import { isJsonObject, misfit, type JsonKind } from '../json-shape';

// node:crypto loads on first use, not with the module: milliseconds of every nbox start.
function crypto(): typeof Crypto {
  return require('node:crypto') as typeof Crypto;
}

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

/** Repositories maps `name:tag` to an image ID, as in repositories.json. */
type Repositories = Record<string, string>;

const digestPattern = /^sha256:([0-9a-f]{64})$/;
const hexRefPattern = /^(?:sha256:)?([0-9a-f]{1,64})$/;
// The name of an image directory; nothing else in images/ is one.
const hexNamePattern = /^[0-9a-f]{64}$/;

/** Images are a store's images and their names. */
export class Images {
  private readonly repositoriesPath: string;

  constructor(
    private readonly root: StoreRoot,
    private readonly layers: Layers,
  ) {
    this.repositoriesPath = path.join(root.imagesDir, 'repositories.json');
  }

  /** add stores an image config (its layers must be stored) and points tags at it; returns the image ID.
   * parent names the image a build step started from, for `history` and `images`. */
  async add(configBytes: Buffer, tags: string[], parent?: string): Promise<string> {
    let config: ImageConfig;
    try {
      config = parseIncomingImageConfig(configBytes);
    } catch (err) {
      throw new NboxError('ERR_NBOX_STORE', `invalid image config: ${(err as Error).message}`);
    }
    const names = tags.map(normalizeTag);
    const hex = crypto().createHash('sha256').update(configBytes).digest('hex');
    const id = `sha256:${hex}`;
    return this.root.withLock(async () => {
      await this.layers.dirs(config);
      const dir = path.join(this.root.imagesDir, hex);
      if (!(await exists(dir))) {
        const temp = await this.root.makeTempDir('image');
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

  /** commit moves sealed layers into layers/ (dropping ones already stored) and adds their image, all under one lock hold; on failure it removes the layers it added. */
  async commit(layers: SealedLayer[], configBytes: Buffer, tags: string[], parent?: string): Promise<string> {
    return this.root.withLock(async () => {
      const added: string[] = [];
      try {
        for (const layer of layers) if (await this.layers.commit(layer)) added.push(layer.diffId);
        return await this.add(configBytes, tags, parent);
      } catch (err) {
        for (const diffId of added) await this.layers.remove(diffId);
        throw err;
      }
    });
  }

  /** resolve finds an image by name[:tag], `sha256:<id>`, full ID, or a unique ID prefix. */
  async resolve(ref: string): Promise<ImageRecord> {
    const hexRef = hexRefPattern.exec(ref);
    // As Docker: a full or `sha256:`-prefixed ID is an ID; a bare hex prefix is tried after names.
    if (hexRef && (hexRef[1].length === 64 || ref.startsWith('sha256:'))) return this.byIdPrefix(hexRef[1], ref);
    const repositories = await this.readRepositories();
    const id = repositories[repositoryKey(ref)];
    const image = id === undefined ? undefined : await this.read(id, repositories);
    if (image) return image;
    if (hexRef) return this.byIdPrefix(hexRef[1], ref);
    throw noSuchImage(ref);
  }

  /** config reads just an image's config (no tags, sizes or parent): for hot paths; undefined when not stored. */
  async config(id: string): Promise<ImageConfig | undefined> {
    const hex = digestPattern.exec(id)?.[1];
    return hex === undefined ? undefined : this.readConfig(hex);
  }

  /** configBytes reads an image's config exactly as stored: its sha256 is the image ID. */
  async configBytes(id: string): Promise<Buffer> {
    const hex = digestPattern.exec(id)?.[1];
    const bytes = hex === undefined ? undefined : await readIfExists(path.join(this.root.imagesDir, hex, 'config.json'));
    if (bytes === undefined) throw noSuchImage(id);
    return bytes;
  }

  /** has tells whether the image with this ID is still stored (one stat: for hot paths). */
  async has(id: string): Promise<boolean> {
    const hex = digestPattern.exec(id)?.[1];
    return hex !== undefined && exists(path.join(this.root.imagesDir, hex, 'config.json'));
  }

  /** list returns every stored image, newest first. */
  async list(): Promise<ImageRecord[]> {
    const repositories = await this.readRepositories();
    const images: ImageRecord[] = [];
    for (const hex of await this.hexes()) {
      const image = await this.read(`sha256:${hex}`, repositories);
      if (image) images.push(image);
    }
    return images.sort((a, b) => b.created.getTime() - a.created.getTime());
  }

  /** tag points targetName at the image sourceRef resolves to, moving it from any other image. */
  async tag(sourceRef: string, targetName: string): Promise<void> {
    const name = normalizeTag(targetName);
    await this.root.withLock(async () => {
      const { id } = await this.resolve(sourceRef);
      const repositories = await this.readRepositories();
      repositories[name] = id;
      await this.writeRepositories(repositories);
    });
  }

  /** addRepoDigest records that image id is the manifest `repository@digest` in a registry, so that name finds it. */
  async addRepoDigest(repository: string, digest: string, id: string): Promise<void> {
    const name = `${splitReference(repository).repository}@${digest}`;
    await this.root.withLock(async () => {
      const repositories = await this.readRepositories();
      if (repositories[name] === id || !(await this.has(id))) return;
      repositories[name] = id;
      await this.writeRepositories(repositories);
    });
  }

  /** untag removes the tag name and returns the ID it pointed to; the image itself stays. */
  async untag(name: string): Promise<string> {
    const key = repositoryKey(name);
    return this.root.withLock(async () => {
      const repositories = await this.readRepositories();
      const id = repositories[key];
      if (id === undefined) throw noSuchImage(name);
      delete repositories[key];
      await this.writeRepositories(repositories);
      return id;
    });
  }

  /** remove deletes the image with this ID and its names, then the layers no other image uses. */
  async remove(id: string): Promise<void> {
    await this.root.withLock(async () => {
      const image = await this.read(id);
      if (!image) throw noSuchImage(id);
      // Space is freed before the names are rewritten, so that rmi works on a full disk.
      // A crash in between leaves names of an image that is gone: they resolve to
      // nothing, and the next write of the names drops them.
      await this.root.removeTree(path.join(this.root.imagesDir, id.slice('sha256:'.length)));
      await this.layers.collect(() => this.layersInUse());
      if (image.tags.length + image.repoDigests.length > 0) {
        const repositories = await this.readRepositories();
        for (const name of [...image.tags, ...image.repoDigests]) delete repositories[name];
        await this.writeRepositories(repositories);
      }
    });
  }

  private async layersInUse(): Promise<Set<string>> {
    const inUse = new Set<string>();
    for (const hex of await this.hexes()) {
      for (const diffId of (await this.readConfig(hex))?.rootfs.diff_ids ?? []) inUse.add(diffId);
    }
    return inUse;
  }

  private async hexes(): Promise<string[]> {
    return (await fs.readdir(this.root.imagesDir)).filter((name) => hexNamePattern.test(name));
  }

  private async byIdPrefix(prefix: string, ref: string): Promise<ImageRecord> {
    const matches = (await this.hexes()).filter((hex) => hex.startsWith(prefix));
    if (matches.length > 1) throw new NboxError('ERR_NBOX_USAGE', `ambiguous image ID prefix ${ref}: ${matches.length} images match`);
    const image = matches.length === 1 ? await this.read(`sha256:${matches[0]}`) : undefined;
    if (!image) throw noSuchImage(ref);
    return image;
  }

  // readConfig returns undefined when the image directory is gone (removed
  // concurrently); a directory without a valid config.json is corruption.
  private async readConfig(hex: string): Promise<ImageConfig | undefined> {
    const dir = path.join(this.root.imagesDir, hex);
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

  private async read(id: string, repositories?: Repositories): Promise<ImageRecord | undefined> {
    const hex = digestPattern.exec(id)?.[1];
    if (hex === undefined) return undefined;
    const config = await this.readConfig(hex);
    if (!config) return undefined;
    const dir = path.join(this.root.imagesDir, hex);
    let size = 0;
    for (const diffId of config.rootfs.diff_ids) {
      const layer = await this.layers.read(diffId);
      if (!layer) {
        if (!(await exists(dir))) return undefined;
        throw new NboxError('ERR_NBOX_STORE', `layer ${diffId} of image ${id} is missing from the store`);
      }
      size += layer.size;
    }
    const tagged = repositories ?? (await this.readRepositories());
    const names = Object.keys(tagged).filter((name) => tagged[name] === id);
    const tags = names.filter((name) => !name.includes('@'));
    const repoDigests = names.filter((name) => name.includes('@'));
    const created = config.created ? new Date(config.created) : (await fs.stat(path.join(dir, 'config.json'))).mtime;
    const parent = (await readIfExists(path.join(dir, 'parent')))?.toString();
    return parent ? { id, config, tags, repoDigests, size, created, parent } : { id, config, tags, repoDigests, size, created };
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
    for (const id of new Set(Object.values(repositories))) stored.set(id, await this.has(id));
    const kept = Object.entries(repositories).filter(([, id]) => stored.get(id));
    const sorted = Object.fromEntries(kept.sort(([a], [b]) => textOrder(a, b)));
    await this.root.writeFileAtomic(this.repositoriesPath, `${JSON.stringify(sorted, null, 2)}\n`);
  }
}

// repositoryKey is where a reference is found in repositories.json: `name:tag`,
// or `name@digest` (a tag given beside a digest is ignored, as Docker does).
function repositoryKey(ref: string): string {
  const { repository, digest } = splitReference(ref);
  return digest ? `${repository}@${digest}` : normalizeReference(ref);
}

// The image spec's config fields a run or a build reads.
const IMAGE_CONFIG_FIELDS: Record<string, JsonKind> = {
  User: 'string', Env: 'strings', Entrypoint: 'strings', Cmd: 'strings', WorkingDir: 'string', Labels: 'string map',
  ExposedPorts: 'object', Volumes: 'object', StopSignal: 'string', Shell: 'strings', OnBuild: 'strings', Healthcheck: 'object',
};

/** parseImageConfig parses an image config and checks its rootfs.diff_ids; it throws a plain Error saying what is wrong. */
export function parseImageConfig(bytes: Buffer): ImageConfig {
  const config = JSON.parse(bytes.toString('utf8')) as ImageConfig;
  const diffIds = config?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || !diffIds.every((diffId) => typeof diffId === 'string' && digestPattern.test(diffId))) {
    throw new Error('rootfs.diff_ids must be a list of sha256 digests');
  }
  return config;
}

/** parseIncomingImageConfig is parseImageConfig for an image coming into the store (load, pull, import, a build),
 * which also checks the JSON types of the config fields a run or a build reads. */
export function parseIncomingImageConfig(bytes: Buffer): ImageConfig {
  const config = parseImageConfig(bytes);
  const body = (config as unknown as Record<string, unknown>).config;
  const wrong = body === undefined || body === null ? undefined : isJsonObject(body) ? misfit(body, IMAGE_CONFIG_FIELDS, 'Config') : 'config is not an object';
  if (wrong) throw new Error(wrong);
  return config;
}

/** noSuchImage is Docker's error for a reference that finds no image. */
export function noSuchImage(ref: string): NboxError {
  return new NboxError('ERR_NBOX_NO_SUCH_IMAGE', `No such image: ${ref}`);
}
