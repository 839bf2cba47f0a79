// The Images line of `docker system df`: how many images, how many a
// container uses, the bytes their layers hold, and what removing the unused
// ones would free.
import type { Store } from './store';

/** UsageLine is one line of `docker system df`. */
export interface UsageLine {
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/** imageUsage counts the images `images` lists; sizes are of the stored layers, each once. */
export async function imageUsage(store: Store, listed: number, inUse: Set<string>): Promise<UsageLine> {
  const images = await store.images.list();
  const layerSizes = new Map<string, number>();
  const used = new Set<string>();
  for (const image of images) {
    for (const diffId of image.config.rootfs.diff_ids) {
      if (!layerSizes.has(diffId)) layerSizes.set(diffId, (await store.layers.read(diffId))?.size ?? 0);
      if (inUse.has(image.id)) used.add(diffId);
    }
  }
  const sum = (ids: Iterable<string>) => [...ids].reduce((total, id) => total + (layerSizes.get(id) ?? 0), 0);
  const size = sum(layerSizes.keys());
  return { total: listed, active: images.filter((image) => inUse.has(image.id)).length, size, reclaimable: size - sum(used) };
}
