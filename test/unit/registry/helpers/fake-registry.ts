// An in-process registry for client unit tests: enough of the distribution API
// (manifests, blobs, uploads, mounts) with no auth, Basic, or Bearer tokens from
// its own /token, recording every request, and able to serve tampered blobs.
import { createHash, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';

/** RecordedRequest is one request the fake saw. */
export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  contentRange?: string;
  bodyLength: number;
}

/** FakeRegistryOptions choose the fake's auth and, for TLS tests, a key and certificate. */
export interface FakeRegistryOptions {
  auth?: 'basic' | 'bearer';
  users?: Record<string, string>;
  tls?: { key: Buffer; cert: Buffer };
}

/** digestOf is the sha256 digest of data. */
export const digestOf = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** FakeRegistry is a running fake on 127.0.0.1. */
export class FakeRegistry {
  readonly blobs = new Map<string, Buffer>();
  /** Blobs served instead of the stored ones, by digest. */
  readonly tampered = new Map<string, Buffer>();
  /** Blobs whose connection is dropped after this many bytes, by digest. */
  readonly cut = new Map<string, number>();
  readonly manifests = new Map<string, { mediaType: string; bytes: Buffer }>();
  readonly requests: RecordedRequest[] = [];
  /** A 500 with this message (it may echo the caller's password) answers every /v2/ request when set. */
  failWith: string | undefined;
  /** Blob GETs are redirected to the same path under this origin when set, as registries do to their storage. */
  redirectBlobsTo: string | undefined;
  private readonly uploads = new Map<string, Buffer>();
  private readonly tokens = new Map<string, string[]>();
  private tokenCount = 0;
  host = '';

  private constructor(
    private readonly server: http.Server,
    private readonly options: FakeRegistryOptions,
  ) {}

  /** start listens on a free port of 127.0.0.1. */
  static async start(options: FakeRegistryOptions = {}): Promise<FakeRegistry> {
    let fake: FakeRegistry | undefined;
    // A client that goes away mid-request is no failure of the fake.
    const handler: http.RequestListener = (req, res) => void fake!.handle(req, res).catch(() => res.destroy());
    const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
    fake = new FakeRegistry(server, options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  /** tokensIssued counts tokens handed out by /token. */
  get tokensIssued(): number {
    return this.tokenCount;
  }

  /** putManifest stores a manifest document under repository:tag and repository@digest; returns its digest. */
  putManifest(repository: string, tag: string, mediaType: string, document: object): string {
    const bytes = Buffer.from(JSON.stringify(document));
    const digest = digestOf(bytes);
    this.manifests.set(`${repository}:${tag}`, { mediaType, bytes });
    this.manifests.set(`${repository}@${digest}`, { mediaType, bytes });
    return digest;
  }

  /** putBlob stores a blob; returns its digest. */
  putBlob(data: Buffer): string {
    const digest = digestOf(data);
    this.blobs.set(digest, data);
    return digest;
  }

  /** close stops the fake, dropping open connections. */
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname + url.search,
      authorization: req.headers.authorization,
      contentRange: req.headers['content-range'],
      bodyLength: body.length,
    });
    if (url.pathname === '/token') return this.token(req, url, res);
    const route = parseRoute(url.pathname);
    if (!this.authorized(req, route?.repository, req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push')) {
      const challenge =
        this.options.auth === 'basic'
          ? 'Basic realm="fake"'
          : `Bearer realm="http://${this.host}/token",service="fake",scope="repository:${route?.repository ?? ''}:pull"`;
      return send(res, 401, errorBody('UNAUTHORIZED', 'authentication required'), { 'WWW-Authenticate': challenge });
    }
    if (this.failWith !== undefined) return send(res, 500, errorBody('UNKNOWN', this.failWith));
    if (url.pathname === '/v2/') return send(res, 200, '{}');
    if (!route) return send(res, 404, errorBody('NAME_UNKNOWN', 'repository name not known to registry'));
    const { repository, kind, rest } = route;
    if (kind === 'manifests') return this.manifest(req, res, repository, rest, body);
    if (kind === 'blobs' && req.method === 'GET' && this.redirectBlobsTo) return send(res, 307, '', { Location: this.redirectBlobsTo + url.pathname });
    if (kind === 'blobs') return this.blob(req, res, rest);
    return this.upload(req, res, url, repository, rest, body);
  }

  private token(req: http.IncomingMessage, url: URL, res: http.ServerResponse): void {
    const user = this.user(req.headers.authorization);
    if (user === null) return send(res, 401, '{"details":"incorrect username or password"}');
    const token = `token-${++this.tokenCount}`;
    // Anonymous users may pull, as from a public repository.
    const scopes = url.searchParams.getAll('scope');
    this.tokens.set(token, user === undefined ? scopes.filter((s) => s.endsWith(':pull')) : scopes);
    send(res, 200, JSON.stringify({ access_token: token, expires_in: 300 }));
  }

  // undefined: anonymous; null: wrong credentials.
  private user(header: string | undefined): string | undefined | null {
    if (!header?.startsWith('Basic ')) return undefined;
    const [user, ...password] = Buffer.from(header.slice(6), 'base64').toString().split(':');
    return this.options.users?.[user] === password.join(':') ? user : null;
  }

  private authorized(req: http.IncomingMessage, repository: string | undefined, action: string): boolean {
    const header = req.headers.authorization;
    if (this.options.auth === 'basic') return typeof this.user(header) === 'string';
    if (this.options.auth !== 'bearer') return true;
    const scopes = header?.startsWith('Bearer ') ? this.tokens.get(header.slice(7)) : undefined;
    if (scopes === undefined) return false;
    if (repository === undefined) return true;
    return scopes.some((scope) => scope.startsWith(`repository:${repository}:`) && scope.split(':').pop()!.split(',').includes(action));
  }

  private manifest(req: http.IncomingMessage, res: http.ServerResponse, repository: string, reference: string, body: Buffer): void {
    const key = reference.startsWith('sha256:') ? `${repository}@${reference}` : `${repository}:${reference}`;
    if (req.method === 'PUT') {
      const digest = this.putManifestBytes(repository, reference, req.headers['content-type'] ?? '', body);
      return send(res, 201, '', { 'Docker-Content-Digest': digest, Location: `/v2/${repository}/manifests/${digest}` });
    }
    const found = this.manifests.get(key);
    if (!found) return send(res, 404, errorBody('MANIFEST_UNKNOWN', 'manifest unknown'));
    send(res, 200, found.bytes, { 'Content-Type': found.mediaType, 'Docker-Content-Digest': digestOf(found.bytes) }, req.method === 'HEAD');
  }

  private putManifestBytes(repository: string, reference: string, mediaType: string, bytes: Buffer): string {
    const digest = digestOf(bytes);
    this.manifests.set(`${repository}@${digest}`, { mediaType, bytes });
    if (!reference.startsWith('sha256:')) this.manifests.set(`${repository}:${reference}`, { mediaType, bytes });
    return digest;
  }

  private blob(req: http.IncomingMessage, res: http.ServerResponse, digest: string): void {
    const data = this.tampered.get(digest) ?? this.blobs.get(digest);
    if (!data) return send(res, 404, errorBody('BLOB_UNKNOWN', 'blob unknown to registry'), {}, req.method === 'HEAD');
    const cut = this.cut.get(digest);
    if (cut !== undefined) {
      res.writeHead(200, { 'Content-Length': String(data.length) });
      res.write(data.subarray(0, cut), () => res.destroy());
      return;
    }
    send(res, 200, data, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest }, req.method === 'HEAD');
  }

  // Upload Locations alternate between relative (POST) and absolute (PATCH) URLs, as registries vary.
  private upload(req: http.IncomingMessage, res: http.ServerResponse, url: URL, repository: string, id: string, body: Buffer): void {
    if (req.method === 'POST') {
      const mount = url.searchParams.get('mount');
      if (mount && this.blobs.has(mount)) return send(res, 201, '', { Location: `/v2/${repository}/blobs/${mount}` });
      const uuid = randomUUID();
      this.uploads.set(uuid, Buffer.alloc(0));
      return send(res, 202, '', { Location: `/v2/${repository}/blobs/uploads/${uuid}?_state=s0`, Range: '0-0' });
    }
    const held = this.uploads.get(id);
    if (held === undefined) return send(res, 404, errorBody('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry'));
    if (req.method === 'DELETE') {
      this.uploads.delete(id);
      return send(res, 204, '');
    }
    const data = Buffer.concat([held, body]);
    this.uploads.set(id, data);
    if (req.method === 'PATCH') {
      const location = `http://${this.host}/v2/${repository}/blobs/uploads/${id}?_state=s${data.length}`;
      return send(res, 202, '', { Location: location, Range: `0-${data.length - 1}` });
    }
    const digest = url.searchParams.get('digest') ?? '';
    if (digestOf(data) !== digest) return send(res, 400, errorBody('DIGEST_INVALID', 'provided digest did not match uploaded content'));
    this.uploads.delete(id);
    this.blobs.set(digest, data);
    send(res, 201, '', { 'Docker-Content-Digest': digest, Location: `/v2/${repository}/blobs/${digest}` });
  }
}

function parseRoute(path: string): { repository: string; kind: 'manifests' | 'blobs' | 'uploads'; rest: string } | undefined {
  const upload = /^\/v2\/(.+)\/blobs\/uploads\/(.*)$/.exec(path);
  if (upload) return { repository: upload[1], kind: 'uploads', rest: upload[2] };
  const other = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
  return other ? { repository: other[1], kind: other[2] as 'manifests' | 'blobs', rest: other[3] } : undefined;
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message }] });
}

function send(res: http.ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}, headOnly = false): void {
  res.writeHead(status, { 'Content-Length': String(Buffer.byteLength(body)), ...headers });
  res.end(headOnly ? undefined : body);
}
