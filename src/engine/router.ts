// Routes of the Engine API: Docker's paths with `{param}` segments (`{name*}`
// takes slashes, as image names hold them), after an optional `/v1.NN` prefix.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

import type { Nbox } from '../api';
import type { EngineState } from './state';
import { EngineError } from './http';

/** API_VERSION is the Engine API version nbox speaks (Docker 28.2's); MIN_API_VERSION the oldest it takes. */
export const API_VERSION = '1.50';
export const MIN_API_VERSION = '1.24';

/** RequestContext is what a handler gets: the parsed request and the server's shared state. */
export interface RequestContext {
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
  nbox: Nbox;
  state: EngineState;
}

/** Handler answers a plain request. */
export type Handler = (ctx: RequestContext, res: ServerResponse) => Promise<void>;

/** HijackHandler answers a request that takes over the connection (attach, exec start): it checks the request
 * (a failure is still an HTTP error) and returns the stream's content type and what runs on the connection. */
export type HijackHandler = (ctx: RequestContext, body: Buffer) => Promise<{ contentType: string; run(conn: Duplex): Promise<void> }>;

interface Route<H> {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: H;
}

/** Routes is a table of routes of one kind. */
export class Routes<H> {
  private readonly routes: Route<H>[] = [];

  add(method: string, path: string, handler: H): this {
    const names: string[] = [];
    const source = path.replace(/[.]/g, '\\.').replace(/\{(\w+)(\*?)\}/g, (_m, name: string, greedy: string) => {
      names.push(name);
      return greedy ? '(.+)' : '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  /** match finds the handler of a method and path (version prefix already removed). */
  match(method: string, path: string): { handler: H; params: Record<string, string> } | 'method' | null {
    let pathMatched = false;
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      pathMatched = true;
      // HEAD is GET without a body, as net/http serves it.
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodePathPart(found[i + 1])));
      return { handler: route.handler, params };
    }
    return pathMatched ? 'method' : null;
  }
}

// decodePathPart decodes a path parameter; a malformed %-escape is the client's error (400), as net/http's.
function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new EngineError(400, `invalid URL escape in ${JSON.stringify(part)}`);
  }
}

const VERSIONED = /^\/v(\d+)\.(\d+)(\/.*)$/;

/** splitVersion removes `/v1.NN` from a path; a version outside what nbox speaks is Docker's 400. */
export function splitVersion(path: string): string {
  const found = VERSIONED.exec(path);
  if (!found) return path;
  const version = `${found[1]}.${found[2]}`;
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw new EngineError(400, `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  if (compareVersions(version, API_VERSION) > 0) throw new EngineError(400, `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  return found[3];
}

function compareVersions(a: string, b: string): number {
  const [aMajor, aMinor] = a.split('.').map(Number);
  const [bMajor, bMinor] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}
