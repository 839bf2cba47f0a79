// One registry's session: where it lives (the scheme chosen once), its
// connection pool, and requests sent with the authorization it asks for.
//
// Scheme: a loopback registry (localhost, 127.x, ::1) is spoken to over plain
// HTTP, as Docker treats it as insecure and registries on this host rarely have
// TLS; `tlsVerify: true` insists on verified HTTPS even there. With
// `tlsVerify: false` the session tries HTTPS without verifying the certificate
// and falls back to HTTP when HTTPS fails, as Docker does for insecure registries.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { NboxError } from '../errors';
import { RegistryAuth, authFailure } from './auth';
import type { Credentials } from './credentials';
import { discard, openConnection, readBody, sendRequest, type Connection, type HttpExchange } from './http';
import { DIGEST_PATTERN } from './manifest';
import { familiarName, isLoopbackRegistry, registryApiHost } from './reference';
import type { ResponseContext } from './response-error';

const MAX_TOKEN_RESPONSE = 1024 * 1024;
const MAX_REDIRECTS = 5;
const USER_AGENT = 'nbox';

/** RegistryRequest is one API request and what it needs to be authorized and reported. */
export interface RegistryRequest {
  method: HttpExchange['method'];
  /** A path under the registry (`/v2/…`), or an absolute URL such as an upload's Location. */
  target: string | URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  scopes: string[];
  context: ResponseContext;
}

/** SessionOptions are RegistryClientOptions less what the client itself keeps. */
export interface SessionOptions {
  registry: string;
  credentials: Credentials | null;
  tlsVerify: boolean | undefined;
  timeoutMs: number;
}

/** RegistrySession sends requests to one registry; close() releases its connections. */
export class RegistrySession {
  readonly registry: string;
  /** How errors name the other side. */
  readonly peer: string;
  private readonly connection: Connection;
  private readonly auth: RegistryAuth;
  private readonly credentials: Credentials | null;
  private readonly tlsVerify: boolean | undefined;
  private base: Promise<URL> | undefined;

  constructor(options: SessionOptions) {
    this.registry = options.registry;
    this.credentials = options.credentials;
    this.tlsVerify = options.tlsVerify;
    this.peer = `registry ${options.registry}`;
    this.connection = openConnection({ tlsVerify: options.tlsVerify !== false, timeoutMs: options.timeoutMs });
    this.auth = new RegistryAuth({
      registry: options.registry,
      credentials: this.credentials,
      fetchToken: (url, headers) => this.fetchToken(url, headers),
    });
  }

  /** send sends a request with the authorization the registry asked for; a 401 is answered once (challenge,
   * token, retry), and GET/HEAD follow redirects (blob storage), dropping credentials when the host changes. */
  async send(request: RegistryRequest): Promise<IncomingMessage> {
    let url = typeof request.target === 'string' ? new URL(request.target, await this.baseUrl()) : request.target;
    const sent = await this.auth.authorization(request.scopes);
    let response = await this.sendOnce(request, url, sent);
    if (response.statusCode === 401) {
      discard(response);
      const challenged = this.auth.accept(header(response, 'www-authenticate'));
      // A streamed body cannot be sent twice.
      if (challenged === undefined || request.body instanceof Readable) throw this.refused(request);
      const scopes = [...new Set([...request.scopes, ...challenged])];
      // A token that was refused is not asked of the cache again; without one, a concurrent request's token serves.
      const authorization = await this.auth.authorization(scopes, sent !== undefined);
      if (authorization === undefined) throw this.refused(request);
      response = await this.sendOnce(request, url, authorization);
      if (response.statusCode === 401) {
        discard(response);
        throw this.refused(request);
      }
    }
    for (let hops = 0; isRedirect(response.statusCode) && (request.method === 'GET' || request.method === 'HEAD'); hops++) {
      discard(response);
      if (hops === MAX_REDIRECTS) throw new NboxError('ERR_NBOX_REGISTRY', `too many redirects for ${request.context.subject}`);
      const next = this.location(response, url);
      const sameOrigin = next.origin === url.origin;
      url = next;
      response = await this.sendOnce(request, url, sameOrigin ? await this.auth.authorization(request.scopes) : undefined);
    }
    return response;
  }

  private sendOnce(request: RegistryRequest, url: URL, authorization: string | undefined): Promise<IncomingMessage> {
    const headers: Record<string, string> = { 'User-Agent': USER_AGENT, ...request.headers };
    if (authorization) headers.Authorization = authorization;
    return sendRequest({ method: request.method, url, headers, body: request.body, peer: this.peer }, this.connection);
  }

  // The error for a 401 that survived authentication.
  private refused(request: RegistryRequest): NboxError {
    const subject = request.context.subject;
    if (this.auth.scheme === 'bearer' && this.credentials) {
      return new NboxError('ERR_NBOX_AUTH', `denied: requested access to the resource is denied: ${subject}`);
    }
    return authFailure(this.registry, subject, this.credentials !== null);
  }

  /** baseUrl is the registry's scheme and host, chosen at the first request. */
  baseUrl(): Promise<URL> {
    this.base ??= this.resolveBase();
    return this.base;
  }

  private async resolveBase(): Promise<URL> {
    const host = registryApiHost(this.registry);
    if (this.tlsVerify === undefined && isLoopbackRegistry(host)) return new URL(`http://${host}`);
    const secure = new URL(`https://${host}`);
    if (this.tlsVerify !== false) return secure;
    try {
      discard(await sendRequest({ method: 'GET', url: new URL('/v2/', secure), headers: { 'User-Agent': USER_AGENT }, peer: this.peer }, this.connection));
      return secure;
    } catch {
      return new URL(`http://${host}`);
    }
  }

  private async fetchToken(url: URL, headers: Record<string, string>): Promise<{ status: number; body: Buffer }> {
    const peer = `auth server ${url.host}`;
    const response = await sendRequest({ method: 'GET', url, headers: { 'User-Agent': USER_AGENT, ...headers }, peer }, this.connection);
    return { status: response.statusCode ?? 0, body: await readBody(response, MAX_TOKEN_RESPONSE, peer) };
  }

  /** location is where a response's Location header points, relative to base. */
  location(response: IncomingMessage, base: URL): URL {
    const location = header(response, 'location');
    if (!location) throw new NboxError('ERR_NBOX_REGISTRY', `${this.peer} answered ${response.statusCode} without a Location`);
    return new URL(location, base);
  }

  /** subject names an object of repository as messages show it. */
  subject(repository: string, reference: string): string {
    return familiarName(this.registry, repository) + (DIGEST_PATTERN.test(reference) ? `@${reference}` : `:${reference}`);
  }

  /** context is how a response about subject is reported. */
  context(subject: string, kind: ResponseContext['kind']): ResponseContext {
    return { peer: this.peer, subject, kind, secret: this.credentials?.password };
  }

  /** close releases the session's idle connections. */
  close(): void {
    this.connection.http.destroy();
    this.connection.https.destroy();
  }
}

function header(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function isRedirect(status: number | undefined): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}
