// Layers in the store: staged in tmp/ (an overlay upper dir, a COPY's result,
// an unpacked tar), sealed with their diffID, committed into layers/ by rename,
// pinned while a build or transfer runs on them, and collected when no image
// references them.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { NboxError } from '../errors';
import { corrupt, exists, parseJson, readIfExists, writeDurably } from '../store/files';
import type { Release } from '../store/lock';
import type { StoreRoot } from '../store/root';
import type { LayerDigest } from './tar/unpack';
import type { ImageConfig } from './oci';
import { LAYER_FILES, StoredLayer } from './stored-layer';
import { isoTime } from '../iso-time';

/** LayerRecord is the content of a layer's layer.json. */
export interface LayerRecord extends LayerDigest {
  created: string;
}

/** StagedLayer is a layer being made: write it into dir, then seal it, or abort. */
export interface StagedLayer {
  /** Where the layer's files go (an overlay upper dir, a COPY's destination). */
  readonly dir: string;
  /** A path beside dir on the same filesystem (an overlay work dir must share its upper dir's),
   * for the maker to create if it needs one; seal and abort remove it. */
  readonly scratch: string;
  /** seal computes the diffID of what dir holds and gives the layer, ready to commit; a second seal is refused. */
  seal(): Promise<SealedLayer>;
  /** abort removes what was staged; after a successful seal it leaves the sealed layer alone. */
  abort(): Promise<void>;
}

/** SealedLayer is a finished layer in tmp/, not yet in layers/ (see Layers.commit). */
export class SealedLayer implements LayerDigest {
  constructor(
    private readonly root: StoreRoot,
    /** The layer's temp directory; commit renames it into layers/. */
    readonly tempDir: string,
    readonly diffId: string,
    readonly size: number,
  ) {}

  /** discard removes the layer unless it was committed. */
  async discard(): Promise<void> {
    await this.root.removeTree(this.tempDir);
  }
}

const digestPattern = /^sha256:([0-9a-f]{64})$/;
// The name of a layer directory; collection touches no other name.
const hexNamePattern = /^[0-9a-f]{64}$/;

/** Layers are a store's layers. */
export class Layers {
  constructor(private readonly root: StoreRoot) {}

  /** begin stages a new layer in tmp/. */
  async begin(): Promise<StagedLayer> {
    const temp = await this.root.makeTempDir('layer');
    const staged = new Staging(this.root, temp);
    await fs.mkdir(staged.dir).catch(async (err: unknown) => {
      await this.root.removeTree(temp);
      throw err;
    });
    return staged;
  }

  /** unpack unpacks a (possibly gzipped) tar stream into a sealed layer, keeping what replays the tar exactly. */
  async unpack(tarStream: Readable): Promise<SealedLayer> {
    const staged = (await this.begin()) as Staging;
    try {
      // Loaded on use: tar and zlib are not needed to run a container.
      const { unpackLayer } = await import('./tar/unpack');
      const { split, ...digest } = await unpackLayer(tarStream, staged.dir);
      await writeDurably(path.join(staged.temp, split ? LAYER_FILES.tarSplit : LAYER_FILES.noTarSplit), split ?? '');
      return await staged.sealAs(async () => digest);
    } catch (err) {
      await staged.abort();
      throw err;
    }
  }

  /** commit moves a sealed layer into layers/, or discards it if that layer is
   * already stored; true if added. Until an image references the layer, only
   * pin keeps a concurrent image removal from collecting it. */
  async commit(layer: SealedLayer): Promise<boolean> {
    return this.root.withLock(async () => {
      const dir = this.dirOf(layer.diffId);
      if (await exists(dir)) {
        await layer.discard();
        return false;
      }
      await fs.rename(layer.tempDir, dir);
      return true;
    });
  }

  /** remove deletes a stored layer (an image commit undoing the layers it added). */
  async remove(diffId: string): Promise<void> {
    await this.root.removeTree(this.dirOf(diffId));
  }

  /** read returns a stored layer's record (diffID, tar size), or undefined when it is not stored. */
  async read(diffId: string): Promise<LayerRecord | undefined> {
    const dir = this.dirOf(diffId);
    const file = path.join(dir, LAYER_FILES.record);
    const bytes = await readIfExists(file);
    if (bytes === undefined) {
      if (await exists(dir)) throw corrupt(file, 'missing');
      return undefined;
    }
    const record = parseJson(bytes, file) as Partial<LayerRecord>;
    if (typeof record?.size !== 'number' || record.diffId !== diffId) throw corrupt(file, 'not a layer record');
    return record as LayerRecord;
  }

  /** get returns a stored layer, for sending it out (save, push). */
  async get(diffId: string): Promise<StoredLayer> {
    const record = await this.read(diffId);
    if (!record) throw new NboxError('ERR_NBOX_STORE', `layer ${diffId} is missing from the store`);
    return new StoredLayer(this.root, this.dirOf(diffId), diffId, record.size);
  }

  /** has tells whether the layer with this diffID is stored. */
  async has(diffId: string): Promise<boolean> {
    return exists(this.dirOf(diffId));
  }

  /** dirs returns the `diff` directories of config's layers, topmost first, as overlay lowerdirs want them.
   * A layer the image holds twice (two `RUN true`) is listed once, where it is topmost: overlay refuses
   * a lower dir given twice (ELOOP), and the topmost copy already covers all the lower one could show. */
  async dirs(config: ImageConfig): Promise<string[]> {
    const dirs: string[] = [];
    for (const diffId of config.rootfs.diff_ids) {
      const dir = path.join(this.dirOf(diffId), 'diff');
      if (!(await exists(dir))) throw new NboxError('ERR_NBOX_STORE', `layer ${diffId} is missing from the store (${dir})`);
      dirs.push(dir);
    }
    return [...new Set(dirs.reverse())];
  }

  /** pin keeps every stored layer from collection until the returned release is called:
   * a build runs on layers of images that an `rmi` may untag and delete meanwhile. */
  pin(): Promise<Release> {
    return this.root.lock(this.root.gcLockPath, 'shared');
  }

  /** whileUnpinned runs fn while no build or transfer pins the layers (they hold
   * the pin for their whole run); undefined, without running fn, when one does. */
  async whileUnpinned<T>(fn: () => Promise<T>): Promise<T | undefined> {
    const release = await this.root.tryLock(this.root.gcLockPath, 'exclusive');
    if (!release) return undefined;
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  /** collect removes the layers no image references (inUse, asked once collection may run),
   * unless a build pins them: they are then collected by a later removal. */
  async collect(inUse: () => Promise<Set<string>>): Promise<void> {
    await this.whileUnpinned(async () => {
      const used = await inUse();
      for (const hex of await fs.readdir(this.root.layersDir)) {
        if (hexNamePattern.test(hex) && !used.has(`sha256:${hex}`)) await this.root.removeTree(path.join(this.root.layersDir, hex));
      }
    });
  }

  private dirOf(diffId: string): string {
    const hex = digestPattern.exec(diffId)?.[1];
    if (hex === undefined) throw new NboxError('ERR_NBOX_STORE', `invalid layer diffID ${JSON.stringify(diffId)}`);
    return path.join(this.root.layersDir, hex);
  }
}

// Staging is a StagedLayer: `<temp>/diff` is the layer, `<temp>/layer.json`
// its record once sealed; the whole temp dir is what commit renames.
class Staging implements StagedLayer {
  private state: 'open' | 'sealing' | 'sealed' | 'failed' | 'aborted' = 'open';

  constructor(
    private readonly root: StoreRoot,
    readonly temp: string,
  ) {}

  get dir(): string {
    return path.join(this.temp, 'diff');
  }

  get scratch(): string {
    return path.join(this.temp, 'scratch');
  }

  async seal(): Promise<SealedLayer> {
    return this.sealAs(async () => {
      const { digestLayerDir } = await import('./tar/writer');
      return digestLayerDir(this.dir);
    });
  }

  /** sealAs seals with the digest digestOf gives (an unpack already knows it). */
  async sealAs(digestOf: () => Promise<LayerDigest>): Promise<SealedLayer> {
    if (this.state !== 'open') throw new NboxError('ERR_NBOX_STORE', `a staged layer is sealed once: this one is ${this.state}`);
    this.state = 'sealing';
    try {
      await fs.rm(this.scratch, { recursive: true, force: true });
      const { diffId, size } = await digestOf();
      const record: LayerRecord = { diffId, size, created: isoTime() };
      await writeDurably(path.join(this.temp, LAYER_FILES.record), `${JSON.stringify(record)}\n`);
      this.state = 'sealed';
      return new SealedLayer(this.root, this.temp, diffId, size);
    } catch (err) {
      this.state = 'failed';
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'sealed' || this.state === 'aborted') return;
    this.state = 'aborted';
    await this.root.removeTree(this.temp);
  }
}
