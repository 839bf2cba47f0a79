// `docker builder prune` and the Build Cache line of `docker system df`: the build cache is the step cache (buildcache/, a
// key → image ID per step) and the RUN cache mounts (cache-mounts/). The images
// the steps made stay: they are images, for `image prune`.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { NboxError } from '../errors';
import type { UsageItem, UsageLine } from '../image/disk-usage';
import type { Store } from '../image/store';
import { treeSize } from '../image/tree-size';

/** BuildCachePruneResult names the cache entries removed and the bytes they held. */
export interface BuildCachePruneResult {
  deleted: string[];
  spaceReclaimed: number;
}

/** buildCacheUsage is the Build Cache line of `docker system df`: entries and bytes, all reclaimable. */
export async function buildCacheUsage(store: Store): Promise<UsageLine> {
  const items: UsageItem[] = [];
  for (const dir of cacheDirs(store)) {
    const cacheType = dir === store.root.cacheMountsDir ? 'exec.cachemount' : 'regular';
    for (const name of await readdir(dir).catch(() => [])) {
      const st = await lstat(join(dir, name)).catch(() => undefined);
      if (!st || name.endsWith('.lock')) continue;
      const size = st.isDirectory() ? await treeSize(join(dir, name)) : st.size;
      items.push({ id: name, size, cacheType, created: st.birthtime.getTime() > 0 ? st.birthtime : st.ctime, lastUsed: st.mtime });
    }
  }
  const size = items.reduce((total, item) => total + item.size, 0);
  return { total: items.length, active: 0, size, reclaimable: size, items };
}

function cacheDirs(store: Store): string[] {
  return [store.root.buildCacheDir, store.root.cacheMountsDir];
}

/** pruneBuildCache removes every step cache entry and cache mount. A running
 * build (or save, load, pull, push) may be using them: then nothing is removed. */
export async function pruneBuildCache(store: Store): Promise<BuildCachePruneResult> {
  const result = await store.layers.whileUnpinned(async () => {
    const deleted: string[] = [];
    let spaceReclaimed = 0;
    for (const dir of cacheDirs(store)) {
      for (const name of await readdir(dir).catch(() => [])) {
        const entry = join(dir, name);
        spaceReclaimed += (await lstat(entry)).isDirectory() ? await treeSize(entry) : (await lstat(entry)).size;
        await store.root.removeTree(entry);
        if (!name.endsWith('.lock')) deleted.push(name);
      }
    }
    return { deleted, spaceReclaimed };
  });
  if (!result) throw new NboxError('ERR_NBOX_CONFLICT', 'the build cache is in use by a running build (or save, load, pull, push): try again when it ends');
  return result;
}
