// `docker rmi`'s policy: a name given is untagged, and the image deleted with
// its last name; an image with several names is deleted only when forced; an
// image a container uses is never deleted, only (forced) stripped of its names.
// Deleting a built image also deletes the intermediate images of its steps
// that nothing else needs.
import { NboxError } from '../errors';
import type { ImageRecord, Images } from './images';
import { splitReference } from './reference';

/** RemoveImageResult lists what `removeImage` did, as `docker rmi` prints it. */
export interface RemoveImageResult {
  untagged: string[];
  deleted: string[];
}

/** ImageUser is a container, as far as the removal policy cares: its ID and its image's. */
export interface ImageUser {
  id: string;
  image: string;
}

/** RemoveImageRequest is one `rmi` argument and what the policy needs to judge it. */
export interface RemoveImageRequest {
  ref: string;
  force: boolean;
  /** The containers (running or not): an image one of them is made from stays. */
  users: () => Promise<ImageUser[]>;
}

/** removeImage untags a name, or deletes an image no container uses, as `docker rmi` does.
 * The caller holds the store lock, so the policy judges a store that does not change under it. */
export async function removeImage(images: Images, request: RemoveImageRequest): Promise<RemoveImageResult> {
  const { ref, force } = request;
  const image = await images.resolve(ref);
  const names = [...image.tags, ...image.repoDigests];
  const name = referenceName(ref);
  const byName = name !== undefined && names.includes(name);
  if (byName && names.length > 1) {
    // As Docker: a repository's digest names go with its last tag.
    const { repository } = splitReference(name);
    const lastOfRepository = !image.tags.some((tag) => tag !== name && splitReference(tag).repository === repository);
    const untagged = [name, ...(lastOfRepository && !name.includes('@') ? image.repoDigests.filter((digestName) => splitReference(digestName).repository === repository) : [])];
    if (untagged.length === names.length) {
      await images.remove(image.id);
      return { untagged, deleted: [image.id, ...(await removeUnusedParents(images, image, await request.users()))] };
    }
    for (const untag of untagged) await images.untag(untag);
    return { untagged, deleted: [] };
  }
  if (!byName && image.tags.length > 1 && !force) {
    throw new NboxError('ERR_NBOX_CONFLICT', `conflict: unable to delete ${shortId(image.id)} (must be forced) - image is referenced in multiple repositories`);
  }
  const users = await request.users();
  const user = users.find((candidate) => candidate.image === image.id);
  if (user) {
    if (!force) {
      const what = byName ? `remove repository reference "${ref}"` : `delete ${shortId(image.id)}`;
      throw new NboxError('ERR_NBOX_CONFLICT', `conflict: unable to ${what} (must force) - container ${shortId(user.id)} is using its referenced image ${shortId(image.id)}`);
    }
    // Docker keeps an image a container still uses: forced, it only loses its names.
    for (const untag of names) await images.untag(untag);
    return { untagged: names, deleted: [] };
  }
  await images.remove(image.id);
  return { untagged: names, deleted: [image.id, ...(await removeUnusedParents(images, image, users))] };
}

// An intermediate image is needed while it has a name, another child, or a container.
async function removeUnusedParents(images: Images, image: ImageRecord, users: ImageUser[]): Promise<string[]> {
  const deleted: string[] = [];
  let parentId = image.parent;
  while (parentId) {
    const all = await images.list();
    const parent = all.find((candidate) => candidate.id === parentId);
    const needed = !parent || parent.tags.length > 0 || all.some((other) => other.parent === parentId) ||
      users.some((user) => user.image === parentId);
    if (needed) break;
    await images.remove(parent.id);
    deleted.push(parent.id);
    parentId = parent.parent;
  }
  return deleted;
}

// referenceName is the name ref stands for in the store (`name:tag` or `name@digest`), or undefined if it cannot be a name.
function referenceName(ref: string): string | undefined {
  try {
    const { repository, tag, digest } = splitReference(ref);
    return digest ? `${repository}@${digest}` : `${repository}:${tag}`;
  } catch {
    return undefined;
  }
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
