// `docker import`: a rootfs tarball becomes a one-layer image.
import { Readable } from 'node:stream';
import { parseChanges } from './changes';
import { ImageConfig } from './oci';
import { HOST_PLATFORM } from './platform';
import { normalizeTag } from './reference';
import { Store } from './store';
import { isoTime } from '../iso-time';

/** ImportOptions are docker import's options: tags for the new image, `--change` instructions and `--message`. */
export interface ImportOptions {
  tags?: string[];
  changes?: string[];
  message?: string;
}


/** importImage stores the tar stream as a one-layer image and returns its ID; on failure the store is left unchanged. */
export async function importImage(store: Store, tarStream: Readable, options: ImportOptions = {}): Promise<string> {
  // Bad arguments fail before any unpacking.
  const body = parseChanges(options.changes ?? []);
  const tags = (options.tags ?? []).map(normalizeTag);
  const layer = await store.layers.unpack(tarStream);
  try {
    const created = isoTime();
    const config: ImageConfig = {
      created,
      architecture: HOST_PLATFORM.architecture,
      os: 'linux',
      config: body,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, created_by: '', comment: options.message ?? 'Imported from -' }],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    return await store.images.commit([layer], configBytes, tags);
  } finally {
    await layer.discard();
  }
}
