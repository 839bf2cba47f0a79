// Media types of the manifests and blobs nbox exchanges with registries:
// Docker's image manifest v2 schema 2 and the OCI image spec.

import { MediaType } from '../image/oci';

export { MediaType };

/** IMAGE_MANIFEST_TYPES are the media types of a single image's manifest. */
export const IMAGE_MANIFEST_TYPES: readonly string[] = [MediaType.dockerManifest, MediaType.ociManifest];

/** INDEX_TYPES are the media types of a list of per-platform manifests. */
export const INDEX_TYPES: readonly string[] = [MediaType.dockerManifestList, MediaType.ociIndex];

/** MANIFEST_ACCEPT is the Accept header of a manifest request: every manifest type nbox can read. */
export const MANIFEST_ACCEPT = [...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES].join(', ');
