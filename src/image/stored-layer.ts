// A layer in the store as the ones who send it out see it (save, push): its
// diffID and size, its exact tar, its gzip blob (made once, kept for reuse) and
// the registry blobs it is known to exist as.
import type * as Crypto from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type * as Stream from 'node:stream';
import type { Readable } from 'node:stream';
import { NboxError } from '../errors';
import { exists, readIfExists } from '../store/files';
import type { StoreRoot } from '../store/root';
import type { LayerDigest } from './tar/unpack';

// node:crypto loads on first use, not with the module: milliseconds of every nbox start.
function crypto(): typeof Crypto {
  return require('node:crypto') as typeof Crypto;
}

// node:stream loads on first use, not with the module: milliseconds of every nbox start.
function stream(): typeof Stream {
  return require('node:stream') as typeof Stream;
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

/** Compressing is a layer's gzip blob streamed as it is made; stored settles once blob was read to its end, or abandoned. */
export interface Compressing {
  blob: Readable;
  /** The blob's digest, known as soon as its last byte was read (before it is kept on disk). */
  digest: Promise<BlobDigest>;
  stored: Promise<CompressedLayer>;
}

/** The files of a layer's directory besides its `diff/` tree. */
export const LAYER_FILES = {
  record: 'layer.json',
  // A layer's gzip blob and its digest, made when it first leaves the store.
  gzipBlob: 'layer.tar.gz',
  gzipRecord: 'gzip.json',
  // Registry blobs known to hold the layer (see LayerSource).
  sources: 'sources.json',
  // A layer that came in as a tar keeps what replays that tar exactly (see
  // tar-split.ts), or a marker saying it cannot be replayed.
  tarSplit: 'tar-split.gz',
  noTarSplit: 'no-tar-split',
} as const;

// Level 1: on this kind of data it is twice level 6's speed for blobs ~5% larger.
const GZIP_LEVEL = 1;
const digestPattern = /^sha256:[0-9a-f]{64}$/;

/** StoredLayer is one committed layer: get it from Layers.get. */
export class StoredLayer implements LayerDigest {
  constructor(
    private readonly root: StoreRoot,
    /** The layer's directory in layers/. */
    readonly dir: string,
    readonly diffId: string,
    readonly size: number,
  ) {}

  /** uncompressed streams the exact tar the diffID was computed from: replayed
   * from its tar-split when it came in as a tar, else written from the directory. */
  async uncompressed(): Promise<Readable> {
    const split = await readIfExists(path.join(this.dir, LAYER_FILES.tarSplit));
    if (split) {
      const { replayTar } = await import('./tar/split-replay');
      return stream().Readable.from(replayTar(split, path.join(this.dir, 'diff'), this.diffId), { objectMode: false });
    }
    if (!(await exists(this.dir))) throw new NboxError('ERR_NBOX_STORE', `layer ${this.diffId} is missing from the store`);
    if (await exists(path.join(this.dir, LAYER_FILES.noTarSplit))) {
      throw new NboxError('ERR_NBOX_STORE', `layer ${this.diffId} came in as a tar that holds a path twice: its exact tar cannot be made again`);
    }
    const { layerTar } = await import('./tar/writer');
    return layerTar(path.join(this.dir, 'diff'), this.diffId);
  }

  /** compressed returns the layer's gzip blob, compressing it on every core the first
   * time the layer leaves the store (push, save) and keeping it for reuse. */
  async compressed(): Promise<CompressedLayer> {
    const known = await this.keptCompressed();
    if (known) return known;
    const { blob, stored } = this.compress();
    for await (const _chunk of blob);
    return stored;
  }

  /** keptCompressed returns the layer's gzip blob if one was made before. */
  async keptCompressed(): Promise<CompressedLayer | undefined> {
    const known = cachedRecord(await readIfExists(path.join(this.dir, LAYER_FILES.gzipRecord)));
    const blobPath = path.join(this.dir, LAYER_FILES.gzipBlob);
    if (!isBlobDigest(known) || !(await exists(blobPath))) return undefined;
    return { digest: known.digest, size: known.size, path: blobPath };
  }

  /** compress streams the layer's gzip blob as it is made (a push uploads it meanwhile) and keeps it. */
  compress(): Compressing {
    let settle!: { resolve: (layer: CompressedLayer) => void; reject: (err: unknown) => void };
    const stored = new Promise<CompressedLayer>((resolve, reject) => (settle = { resolve, reject }));
    stored.catch(() => undefined);
    let settleDigest!: { resolve: (blob: BlobDigest) => void; reject: (err: unknown) => void };
    const digest = new Promise<BlobDigest>((resolve, reject) => (settleDigest = { resolve, reject }));
    digest.catch(() => undefined);
    const layer = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      const blobPath = path.join(layer.dir, LAYER_FILES.gzipBlob);
      const { parallelGzip } = await import('./tar/gzip');
      const temp = layer.root.tempPath('gzip');
      const hash = crypto().createHash('sha256');
      let size = 0;
      const handle = await fs.open(temp, 'wx', 0o644);
      // Kept after the stream has ended, so a reader (an upload) does not wait for the fsync.
      const keep = async (blob: BlobDigest): Promise<CompressedLayer> => {
        await handle.sync();
        await handle.close();
        await fs.rename(temp, blobPath);
        await layer.root.writeFileAtomic(path.join(layer.dir, LAYER_FILES.gzipRecord), `${JSON.stringify(blob)}\n`);
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
        for await (const chunk of parallelGzip(await layer.uncompressed(), { level: GZIP_LEVEL })) {
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
        else await drop(new NboxError('ERR_NBOX_STORE', `compressing layer ${layer.diffId} did not finish`));
      }
    }
    return { blob: stream().Readable.from(chunks(), { objectMode: false }), digest, stored };
  }

  /** sources lists the compressed blobs this layer is known to exist as in registries (it was pulled or pushed as them). */
  async sources(): Promise<LayerSource[]> {
    const sources = cachedRecord(await readIfExists(path.join(this.dir, LAYER_FILES.sources)));
    return Array.isArray(sources) ? sources.filter(isLayerSource) : [];
  }

  /** addSource records that a registry repository holds this layer as the given blob, for later pushes to skip or mount it. */
  async addSource(source: LayerSource): Promise<void> {
    await this.root.withLock(async () => {
      if (!(await exists(this.dir))) return;
      const sources = await this.sources();
      if (sources.some((known) => known.digest === source.digest && known.registry === source.registry && known.repository === source.repository)) return;
      await this.root.writeFileAtomic(path.join(this.dir, LAYER_FILES.sources), `${JSON.stringify([...sources, source])}\n`, { durable: false });
    });
  }
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
