// RegistryClient speaks the OCI distribution API (and Docker's registry API v2)
// to one registry: manifests, blobs, uploads, cross-repository mounts, over a
// session that answers the 401 challenge before any of them (session.ts). One
// client may carry several transfers at once.
import type { Readable } from 'node:stream';
import { NboxError } from '../errors';
import { pullScope, pushScope } from './auth';
import { ChunkReader } from './chunks';
import type { Credentials } from './credentials';
import { connectionError, discard, readBody } from './http';
import {
  DIGEST_PATTERN,
  parseManifest,
  selectPlatform,
  type Descriptor,
  type ImageManifest,
  type ParsedManifest,
  type Platform,
} from './manifest';
import { HOST_PLATFORM, formatPlatform } from '../image/platform';
import { MANIFEST_ACCEPT } from './media-types';
import { responseError, type ResponseContext } from './response-error';
import { RegistrySession } from './session';
import { sha256Digest, verifyingStream } from '../image/digest';

/** RegistryClientOptions configure a client for one registry. */
export interface RegistryClientOptions {
  /** The registry as references name it: `docker.io`, `127.0.0.1:5000`. */
  registry: string;
  credentials?: Credentials | null;
  /** true: verified HTTPS only; false: HTTPS without verification, else HTTP; unset: HTTP for loopback, verified HTTPS otherwise. */
  tlsVerify?: boolean;
  /** How long a socket may stay silent before the request fails; 60 s by default. */
  timeoutMs?: number;
}

/** PulledManifest is an image manifest as fetched: its exact bytes, their digest, and its parsed content. */
export interface PulledManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  manifest: ImageManifest;
  config: Descriptor;
  layers: Descriptor[];
  /** The digest of the manifest list or index the manifest was chosen from, when the reference named one. */
  indexDigest?: string;
}

/** PushBlobOptions choose how a blob is uploaded: in one PUT up to monolithicMaxSize bytes, else in PATCH chunks of chunkSize. */
export interface PushBlobOptions {
  monolithicMaxSize?: number;
  chunkSize?: number;
}


const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;
const MAX_IN_MEMORY_BLOB = 16 * 1024 * 1024;
const DEFAULT_MONOLITHIC_MAX = 4 * 1024 * 1024;
const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024;

// An upload session: where its next request goes, and what it is for.
interface Upload {
  location: URL;
  scopes: string[];
  context: ResponseContext;
}

/** RegistryClient talks to one registry; call close() when done with it. */
export class RegistryClient {
  /** The registry as references name it. */
  readonly registry: string;
  private readonly session: RegistrySession;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.session = new RegistrySession({
      registry: options.registry,
      credentials: options.credentials ?? null,
      tlsVerify: options.tlsVerify,
      timeoutMs: options.timeoutMs ?? 60_000,
    });
  }

  /** ping checks that the registry answers the API and, with credentials, that it accepts them (login). */
  async ping(): Promise<void> {
    const response = await this.session.send({ method: 'GET', target: '/v2/', scopes: [], context: this.session.context(this.registry, 'registry') });
    if (response.statusCode !== 200) throw await responseError(response, this.session.context(this.registry, 'registry'));
    discard(response);
  }

  /** getManifest fetches the manifest of repository at a tag or digest; from a list or index it picks platform's manifest.
   * A manifest fetched by digest is checked against it. */
  async getManifest(repository: string, reference: string, platform: Platform = HOST_PLATFORM): Promise<PulledManifest> {
    const first = await this.fetchManifest(repository, reference);
    if (first.parsed.kind === 'image') return pulled(first.parsed, first.bytes, first.digest);
    const entry = selectPlatform(first.parsed.index, platform);
    const subject = this.session.subject(repository, reference);
    if (!entry) throw new NboxError('ERR_NBOX_NO_SUCH_IMAGE', `no image for ${formatPlatform(platform)} in ${subject}`);
    const chosen = await this.fetchManifest(repository, entry.digest);
    if (chosen.parsed.kind !== 'image') {
      throw new NboxError('ERR_NBOX_REGISTRY', `the ${formatPlatform(platform)} entry of ${subject} is not an image manifest`);
    }
    return { ...pulled(chosen.parsed, chosen.bytes, chosen.digest), indexDigest: first.digest };
  }

  /** getBlob streams a blob; the stream fails with `digest mismatch` if its size or sha256 differ from descriptor's.
   * It resolves once the registry has answered, so an unknown blob rejects here. */
  async getBlob(repository: string, descriptor: Pick<Descriptor, 'digest' | 'size'>): Promise<Readable> {
    const subject = this.session.subject(repository, descriptor.digest);
    const context = this.session.context(subject, 'blob');
    const response = await this.session.send({ method: 'GET', target: `/v2/${repository}/blobs/${descriptor.digest}`, scopes: [pullScope(repository)], context });
    if (response.statusCode !== 200) throw await responseError(response, context);
    const verifier = verifyingStream(descriptor, (what) => new NboxError('ERR_NBOX_REGISTRY', `digest mismatch for blob ${subject}: ${what}`));
    response.on('error', (err: Error) => {
      const lost = connectionError(this.session.peer, err);
      verifier.destroy(new NboxError('ERR_NBOX_REGISTRY', `blob ${subject}: ${lost.message}`, { cause: err }));
    });
    verifier.on('close', () => {
      if (!response.complete) response.destroy();
    });
    response.pipe(verifier);
    return verifier;
  }

  /** fetchBlobBytes reads a small blob (an image config) whole, verified like getBlob. */
  async fetchBlobBytes(repository: string, descriptor: Pick<Descriptor, 'digest' | 'size'>): Promise<Buffer> {
    if (descriptor.size > MAX_IN_MEMORY_BLOB) {
      throw new NboxError('ERR_NBOX_REGISTRY', `blob ${descriptor.digest} is ${descriptor.size} bytes, too large to read into memory`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await this.getBlob(repository, descriptor)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** hasBlob tells whether the registry holds a blob in repository. */
  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const context = this.session.context(this.session.subject(repository, digest), 'blob');
    const response = await this.session.send({ method: 'HEAD', target: `/v2/${repository}/blobs/${digest}`, scopes: [pullScope(repository)], context });
    if (response.statusCode !== 200 && response.statusCode !== 404) throw await responseError(response, context);
    discard(response);
    return response.statusCode === 200;
  }

  /** mountBlob asks the registry to link a blob of fromRepository into repository without an upload; false if it did not. */
  async mountBlob(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    const context = this.session.context(this.session.subject(repository, digest), 'upload');
    const query = new URLSearchParams({ mount: digest, from: fromRepository });
    const response = await this.session.send({
      method: 'POST',
      target: `/v2/${repository}/blobs/uploads/?${query}`,
      headers: { 'Content-Length': '0' },
      scopes: [pushScope(repository), pullScope(fromRepository)],
      context,
    });
    if (response.statusCode !== 201 && response.statusCode !== 202) throw await responseError(response, context);
    discard(response);
    // On 202 the registry started an upload instead, which nobody will use.
    if (response.statusCode === 202) await this.cancelUpload(this.session.location(response, await this.session.baseUrl()), repository);
    return response.statusCode === 201;
  }

  /** pushBlobStream uploads a blob whose digest is not known yet (a layer being compressed as it goes):
   * one streamed PATCH, then the PUT with the digest its producer computed on the way (digestAtEnd,
   * settled once source has ended). An upload that fails is cancelled. */
  async pushBlobStream(repository: string, source: Readable, digestAtEnd: Promise<{ digest: string; size: number }>): Promise<{ digest: string; size: number }> {
    const upload = await this.startUpload(repository, this.session.context(repository, 'upload'));
    try {
      const { scopes, context } = upload;
      const patched = await this.session.send({ method: 'PATCH', target: upload.location, headers: { 'Content-Type': 'application/octet-stream' }, body: source, scopes, context });
      if (patched.statusCode !== 202) throw await responseError(patched, context);
      discard(patched);
      upload.location = this.session.location(patched, upload.location);
      const blob = await digestAtEnd;
      await this.finishUpload(upload, blob.digest, { 'Content-Length': '0' }, undefined, this.session.context(this.session.subject(repository, blob.digest), 'upload'));
      return blob;
    } catch (err) {
      await this.cancelUpload(upload.location, repository);
      throw err;
    }
  }

  /** pushBlob uploads a blob whose bytes open() streams: one PUT for small blobs, PATCH chunks then a PUT for large ones.
   * An upload that fails is cancelled. */
  async pushBlob(repository: string, descriptor: Pick<Descriptor, 'digest' | 'size'>, open: () => Readable, options: PushBlobOptions = {}): Promise<void> {
    const subject = this.session.subject(repository, descriptor.digest);
    const upload = await this.startUpload(repository, this.session.context(subject, 'upload'));
    try {
      let body: Buffer | undefined;
      if (descriptor.size <= (options.monolithicMaxSize ?? DEFAULT_MONOLITHIC_MAX)) {
        body = await readSource(open(), descriptor.size, subject);
      } else {
        await this.uploadChunks(upload, open(), descriptor.size, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
      }
      const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body?.length ?? 0) };
      await this.finishUpload(upload, descriptor.digest, headers, body, upload.context);
    } catch (err) {
      await this.cancelUpload(upload.location, repository);
      throw err;
    }
  }

  /** putManifest stores a manifest under a tag or digest and returns its digest. */
  async putManifest(repository: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes);
    const subject = this.session.subject(repository, reference);
    const context = this.session.context(subject, 'manifest');
    const headers = { 'Content-Type': mediaType, 'Content-Length': String(bytes.length) };
    const target = `/v2/${repository}/manifests/${reference}`;
    const response = await this.session.send({ method: 'PUT', target, headers, body: bytes, scopes: [pushScope(repository)], context });
    // A 404 here means a blob the manifest names is missing, not an unknown image.
    if (response.statusCode !== 201) throw await responseError(response, { ...context, kind: 'upload' });
    discard(response);
    const stored = response.headers['docker-content-digest'];
    if (typeof stored === 'string' && stored.startsWith('sha256:') && stored !== digest) {
      throw new NboxError('ERR_NBOX_REGISTRY', `digest mismatch for manifest ${subject}: the registry stored ${stored}, expected ${digest}`);
    }
    return digest;
  }

  /** close releases the client's idle connections. */
  close(): void {
    this.session.close();
  }

  private async fetchManifest(repository: string, reference: string): Promise<{ bytes: Buffer; digest: string; parsed: ParsedManifest }> {
    const subject = this.session.subject(repository, reference);
    const context = this.session.context(subject, 'manifest');
    const response = await this.session.send({
      method: 'GET',
      target: `/v2/${repository}/manifests/${reference}`,
      headers: { Accept: MANIFEST_ACCEPT },
      scopes: [pullScope(repository)],
      context,
    });
    if (response.statusCode !== 200) throw await responseError(response, context);
    const bytes = await readBody(response, MAX_MANIFEST_SIZE, this.session.peer);
    const digest = sha256Digest(bytes);
    const served = response.headers['docker-content-digest'];
    const expected = DIGEST_PATTERN.test(reference) ? reference : typeof served === 'string' && served.startsWith('sha256:') ? served : digest;
    if (expected !== digest) throw new NboxError('ERR_NBOX_REGISTRY', `digest mismatch for manifest ${subject}: received ${digest}`);
    return { bytes, digest, parsed: parseManifest(bytes, response.headers['content-type'], subject) };
  }

  // Opens an upload session for a blob of repository.
  private async startUpload(repository: string, context: ResponseContext): Promise<Upload> {
    const scopes = [pushScope(repository)];
    const started = await this.session.send({ method: 'POST', target: `/v2/${repository}/blobs/uploads/`, headers: { 'Content-Length': '0' }, scopes, context });
    if (started.statusCode !== 202) throw await responseError(started, context);
    discard(started);
    return { location: this.session.location(started, await this.session.baseUrl()), scopes, context };
  }

  // Ends an upload with the PUT that names the blob's digest (and carries its last bytes, if any).
  private async finishUpload(upload: Upload, digest: string, headers: Record<string, string>, body: Buffer | undefined, context: ResponseContext): Promise<void> {
    const finalUrl = new URL(upload.location);
    finalUrl.search += `${finalUrl.search ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
    const done = await this.session.send({ method: 'PUT', target: finalUrl, headers, body, scopes: upload.scopes, context });
    if (done.statusCode !== 201) throw await responseError(done, upload.context);
    discard(done);
  }

  // PATCHes size bytes of source in chunks, each to the Location the previous answer gave, kept in upload.location.
  private async uploadChunks(upload: Upload, source: Readable, size: number, chunkSize: number): Promise<void> {
    const { scopes, context } = upload;
    const reader = new ChunkReader(source, context.subject);
    try {
      for (let offset = 0; offset < size; ) {
        const length = Math.min(chunkSize, size - offset);
        const headers = {
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(length),
          'Content-Range': `${offset}-${offset + length - 1}`,
        };
        const response = await this.session.send({ method: 'PATCH', target: upload.location, headers, body: reader.chunk(length), scopes, context });
        if (response.statusCode !== 202) throw await responseError(response, context);
        discard(response);
        offset += length;
        // The registry reports what it holds as `Range: 0-LAST`; anything else means bytes went missing.
        const range = response.headers.range;
        if (range !== undefined && range !== `0-${offset - 1}`) {
          throw new NboxError('ERR_NBOX_REGISTRY', `upload of ${context.subject} out of step: the registry holds ${range}, nbox sent 0-${offset - 1}`);
        }
        upload.location = this.session.location(response, upload.location);
      }
      await reader.assertEnd();
    } finally {
      reader.close();
    }
  }

  // Best effort: a cancelled upload only frees space on the registry.
  private async cancelUpload(location: URL, repository: string): Promise<void> {
    const context = this.session.context(repository, 'upload');
    try {
      discard(await this.session.send({ method: 'DELETE', target: location, scopes: [pushScope(repository)], context }));
    } catch {
      // The original failure is the one to report.
    }
  }

}

function pulled(parsed: Extract<ParsedManifest, { kind: 'image' }>, bytes: Buffer, digest: string): PulledManifest {
  const { manifest, mediaType } = parsed;
  return { mediaType, digest, bytes, manifest, config: manifest.config, layers: manifest.layers };
}

// Reads a small blob whole, checking it is exactly size bytes.
async function readSource(source: Readable, size: number, subject: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    length += piece.length;
    if (length > size) {
      source.destroy();
      throw new NboxError('ERR_NBOX_REGISTRY', `${subject}: the source is longer than the ${size} bytes expected`);
    }
    chunks.push(piece);
  }
  if (length !== size) throw new NboxError('ERR_NBOX_REGISTRY', `${subject}: the source ended after ${length} bytes`);
  return Buffer.concat(chunks);
}
