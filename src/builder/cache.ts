// The build cache: a step's key (its parent image, the instruction as it will
// run, and what it reads) names the image the step produced last time.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { isErrno } from '../errors';
import type { ImageConfig } from '../image/oci';
import type { Store } from '../image/store';

/** CacheKeyParts are everything that decides a step's result. */
export interface CacheKeyParts {
  /** Image ID the step starts from; '' for `scratch`. */
  parent: string;
  /** The instruction as it runs: keyword, flags and expanded arguments. */
  instruction: string;
  /** What else the step reads: build args in scope for RUN, a content digest for COPY/ADD. */
  inputs?: string[];
}

/** cacheKey hashes the parts into the key of a cache entry. */
export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256').update(JSON.stringify([parts.parent, parts.instruction, parts.inputs ?? []])).digest('hex');
}

/** BuildCache looks up and records step results in a store. */
export class BuildCache {
  constructor(private readonly store: Store) {}

  /** lookup returns the image a step with this key produced, if it is still stored. */
  async lookup(key: string): Promise<{ id: string; config: ImageConfig } | undefined> {
    let id: string;
    try {
      id = (await readFile(join(this.store.root.buildCacheDir, key), 'utf8')).trim();
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
    // An entry whose image was removed since is a miss, not an error.
    const config = await this.store.images.config(id).catch(() => undefined);
    return config && { id, config };
  }

  /** record remembers that the step with this key produced image id. */
  async record(key: string, id: string): Promise<void> {
    await this.store.root.writeFileAtomic(join(this.store.root.buildCacheDir, key), id, { durable: false });
  }
}
