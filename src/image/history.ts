// `docker history`: an image's history entries, newest first, each with the
// image ID that step produced where nbox still has it.
import type { ImageRecord } from './images';
import type { Store } from './store';

/** HistoryItem is one row of `history`. */
export interface HistoryItem {
  /** Image ID, or '<missing>' for steps of a base image built elsewhere. */
  id: string;
  created: Date | null;
  createdBy: string;
  /** Bytes of the step's layer; 0 for metadata-only steps. */
  size: number;
  comment: string;
  tags: string[];
}

/** imageHistory pairs the newest entry with the image itself, the next with its parent, and so on (Docker's rule). */
export async function imageHistory(store: Store, image: ImageRecord): Promise<HistoryItem[]> {
  const diffIds = [...image.config.rootfs.diff_ids];
  const entries = image.config.history ?? [];
  const items: HistoryItem[] = [];
  for (const entry of entries) {
    let size = 0;
    if (!entry.empty_layer) {
      const diffId = diffIds.shift();
      size = diffId ? (await store.layers.read(diffId))?.size ?? 0 : 0;
    }
    items.push({
      id: '<missing>',
      created: entry.created ? new Date(entry.created) : null,
      createdBy: entry.created_by ?? '',
      size,
      comment: entry.comment ?? '',
      tags: [],
    });
  }
  items.reverse();
  let current: ImageRecord | undefined = image;
  for (const item of items) {
    if (!current) break;
    item.id = current.id;
    item.tags = current.tags;
    current = current.parent ? await store.images.resolve(current.parent).catch(() => undefined) : undefined;
  }
  return items;
}
