// `docker image prune [-a]`: which images go, in Docker's order, and the
// space their layers held.
import type { ImageRecord } from './images';
import type { Store } from './store';

/** PrunedImage is one line of Docker's "Deleted Images:" list. */
export type PrunedImage = { untagged: string } | { deleted: string };

/** ImagePruneResult is what a prune removed and the bytes its layers freed. */
export interface ImagePruneResult {
  deleted: PrunedImage[];
  spaceReclaimed: number;
}

/** PruneDeps is what the prune needs from the rest of the engine. */
export interface PruneDeps {
  /** IDs of the images a container (running or not) is made from: they stay. */
  inUse: Set<string>;
  /** remove is `rmi` of one name or ID, with Docker's untag/delete policy. */
  remove(ref: string): Promise<{ untagged: string[]; deleted: string[] }>;
}

/** pruneImages removes the dangling images (no tag, no child image), or with
 * `all` every image no container uses, children before the images they are built on. */
export async function pruneImages(store: Store, deps: PruneDeps, all: boolean): Promise<ImagePruneResult> {
  const layersBefore = await storedLayerSizes(store, await store.images.list());
  const deleted: PrunedImage[] = [];
  const tried = new Set<string>();
  for (;;) {
    const images = await store.images.list();
    const parents = new Set(images.map((image) => image.parent));
    const next = images.find((image) => !tried.has(image.id) && !parents.has(image.id) && !deps.inUse.has(image.id) && (all || image.tags.length === 0));
    if (!next) break;
    tried.add(next.id);
    // As Docker: each name is removed in turn (digest names of a dangling image
    // too), and removing the last deletes the image and its unused parents.
    while (await store.images.has(next.id)) {
      const current = await store.images.resolve(next.id);
      const result = await deps.remove([...current.tags, ...current.repoDigests][0] ?? current.id);
      deleted.push(...result.untagged.map((name) => ({ untagged: name })), ...result.deleted.map((id) => ({ deleted: id })));
    }
  }
  let spaceReclaimed = 0;
  for (const [diffId, size] of layersBefore) if (!(await store.layers.has(diffId))) spaceReclaimed += size;
  return { deleted, spaceReclaimed };
}

async function storedLayerSizes(store: Store, images: ImageRecord[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const diffId of new Set(images.flatMap((image) => image.config.rootfs.diff_ids))) {
    const layer = await store.layers.read(diffId);
    if (layer) sizes.set(diffId, layer.size);
  }
  return sizes;
}
