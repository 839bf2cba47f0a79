// Manifest and index documents: their types, validation of what a registry
// sends, and the choice of one platform's manifest from a list.
import { NboxError } from '../errors';
import type { Descriptor, ImageIndex, ImageManifest } from '../image/oci';
import type { Platform } from '../image/platform';
import { IMAGE_MANIFEST_TYPES, INDEX_TYPES, MediaType } from './media-types';

export type { Descriptor, ImageIndex, ImageManifest, Platform };

/** ParsedManifest is a validated manifest document with the media type it was served as. */
export type ParsedManifest =
  | { kind: 'image'; mediaType: string; manifest: ImageManifest }
  | { kind: 'index'; mediaType: string; index: ImageIndex };

/** DIGEST_PATTERN matches the only digests nbox accepts: sha256, lowercase hex. */
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** parseManifest validates a manifest document; contentType is the response's Content-Type, subject names it in errors. */
export function parseManifest(bytes: Buffer, contentType: string | undefined, subject: string): ParsedManifest {
  const invalid = (why: string) => new NboxError('ERR_NBOX_REGISTRY', `invalid manifest for ${subject}: ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  if (!isObject(doc)) throw invalid('not a JSON object');
  if (doc.schemaVersion === 1) throw new NboxError('ERR_NBOX_REGISTRY', `unsupported manifest schema 1 (Docker image format v1) for ${subject}`);
  if (doc.schemaVersion !== 2) throw invalid(`schemaVersion ${JSON.stringify(doc.schemaVersion)}`);
  const mediaType = manifestMediaType(doc, contentType);
  if (INDEX_TYPES.includes(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw invalid('no manifests');
    for (const entry of doc.manifests) checkDescriptor(entry, invalid);
    return { kind: 'index', mediaType, index: doc as unknown as ImageIndex };
  }
  if (IMAGE_MANIFEST_TYPES.includes(mediaType)) {
    checkDescriptor(doc.config, invalid);
    if (!Array.isArray(doc.layers)) throw invalid('no layers');
    for (const layer of doc.layers) checkDescriptor(layer, invalid);
    return { kind: 'image', mediaType, manifest: doc as unknown as ImageManifest };
  }
  throw new NboxError('ERR_NBOX_REGISTRY', `unsupported manifest media type ${mediaType} for ${subject}`);
}

/** selectPlatform picks the index entry for platform; an entry without a variant matches any wanted variant only when none is asked. */
export function selectPlatform(index: ImageIndex, platform: Platform): Descriptor | undefined {
  return index.manifests.find(
    (entry) =>
      entry.platform?.os === platform.os &&
      entry.platform.architecture === platform.architecture &&
      (platform.variant === undefined || normalVariant(entry.platform) === normalVariant(platform)),
  );
}

// arm64 images often omit their variant, which is v8.
function normalVariant(platform: Platform): string | undefined {
  return platform.variant ?? (platform.architecture === 'arm64' ? 'v8' : undefined);
}

// The served Content-Type wins, as Docker's client decides; registries that send a
// generic type still put the media type in the document, or its shape tells.
function manifestMediaType(doc: Record<string, unknown>, contentType: string | undefined): string {
  const served = contentType?.split(';')[0].trim().toLowerCase();
  if (served && (IMAGE_MANIFEST_TYPES.includes(served) || INDEX_TYPES.includes(served))) return served;
  if (typeof doc.mediaType === 'string') return doc.mediaType;
  return Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
}

function checkDescriptor(value: unknown, invalid: (why: string) => Error): asserts value is Descriptor {
  if (!isObject(value)) throw invalid('a descriptor is not an object');
  if (typeof value.mediaType !== 'string') throw invalid('a descriptor has no mediaType');
  if (typeof value.digest !== 'string' || !DIGEST_PATTERN.test(value.digest)) {
    throw invalid(`unsupported digest ${JSON.stringify(value.digest)}`);
  }
  if (!Number.isSafeInteger(value.size) || (value.size as number) < 0) throw invalid(`bad size for ${value.digest}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
