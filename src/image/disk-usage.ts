// The Images line of `docker system df`: how many images, how many a
// container uses, the bytes their layers hold, and what removing the unused
// ones would free.
import type { Store } from './store';

/** UsageLine is one line of `docker system df`, and its items for `df -v`. */
export interface UsageLine {
  total: number;
  active: number;
  size: number;
  reclaimable: number;
  items: UsageItem[];
}

/** UsageItem is one image, container, volume or build cache entry of `docker system df -v`. */
export interface UsageItem {
  /** An image's or container's ID, a volume's name, a cache entry's key. */
  id: string;
  size: number;
  /** An image's bytes in layers other images hold too. */
  sharedSize?: number;
  /** A container's bytes with its image's (Docker's SizeRootFs; `size` is its SizeRw). */
  rootFsSize?: number;
  /** The containers using a volume. */
  refCount?: number;
  /** A build cache entry's kind, as BuildKit names them: a step's result (regular) or a RUN cache mount (exec.cachemount). */
  cacheType?: 'regular' | 'exec.cachemount';
  created?: Date;
  lastUsed?: Date;
}

/** imageUsage counts the images `images` lists; sizes are of the stored layers, each once. */
export async function imageUsage(store: Store, listed: number, inUse: Set<string>): Promise<UsageLine> {
  const images = await store.images.list();
  const layerSizes = new Map<string, number>();
  const holders = new Map<string, number>();
  const used = new Set<string>();
  for (const image of images) {
    for (const diffId of new Set(image.config.rootfs.diff_ids)) {
      if (!layerSizes.has(diffId)) layerSizes.set(diffId, (await store.layers.read(diffId))?.size ?? 0);
      holders.set(diffId, (holders.get(diffId) ?? 0) + 1);
      if (inUse.has(image.id)) used.add(diffId);
    }
  }
  const sum = (ids: Iterable<string>) => [...ids].reduce((total, id) => total + (layerSizes.get(id) ?? 0), 0);
  const size = sum(layerSizes.keys());
  const items = images.map((image) => {
    const layers = new Set(image.config.rootfs.diff_ids);
    return { id: image.id, size: sum(layers), sharedSize: sum([...layers].filter((id) => (holders.get(id) ?? 0) > 1)) };
  });
  return { total: listed, active: images.filter((image) => inUse.has(image.id)).length, size, reclaimable: size - sum(used), items };
}
