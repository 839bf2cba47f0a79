// `nbox serve`: the Docker Engine API on a unix socket, a thin layer over the
// library. The socket is root's (0660, a group may be given): whoever can
// write to it can run containers, as with Docker's.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { chmodSync, chownSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';

import type { Nbox } from '../api';
import { EngineError, MAX_JSON_BODY, errorStatus, sendError } from './http';
import { Routes, splitVersion, type Handler, type HijackHandler, type RequestContext } from './router';
import { EngineState } from './state';
import { addSystemRoutes } from './system';
import { addImageRoutes } from './images';
import { addContainerRoutes } from './containers';
import { addContainerIoRoutes } from './container-io';
import { addContainerFileRoutes } from './container-files';
import { addExecRoutes } from './exec';
import { addBuildRoutes } from './build';
import { addNetworkRoutes } from './networks';
import { addVolumeRoutes } from './volumes';
import { addContainerStatsRoutes } from './container-stats';

/** DEFAULT_SOCKET is where Docker's own socket would be, beside it. */
export const DEFAULT_SOCKET = '/run/nbox.sock';

/** ServeOptions are `nbox serve`'s. */
export interface ServeOptions {
  socket?: string;
  /** The socket's group (a name in /etc/group or a gid); root's group by default. */
  group?: string;
  /** Called with each request's method, path and status, for --debug. */
  log?: (line: string) => void;
}

/** EngineServer is a listening server. */
export interface EngineServer {
  socket: string;
  state: EngineState;
  close(): Promise<void>;
}

function routeTables(): { routes: Routes<Handler>; hijacks: Routes<HijackHandler> } {
  const routes = new Routes<Handler>();
  const hijacks = new Routes<HijackHandler>();
  addSystemRoutes(routes);
  addImageRoutes(routes);
  addContainerRoutes(routes);
  addContainerIoRoutes(routes, hijacks);
  addContainerFileRoutes(routes);
  addExecRoutes(routes, hijacks);
  addBuildRoutes(routes);
  addNetworkRoutes(routes);
  addVolumeRoutes(routes);
  addContainerStatsRoutes(routes);
  return { routes, hijacks };
}

/** serveEngine listens on the socket until close(). */
export async function serveEngine(nbox: Nbox, options: ServeOptions = {}): Promise<EngineServer> {
  const socket = options.socket ?? DEFAULT_SOCKET;
  const state = new EngineState();
  // Containers' lifecycle comes from the store, so /events shows what the CLI and monitors do too.
  const containerEvents = await nbox.watchContainerEvents((event) => {
    const attributes: Record<string, string> = { image: event.image, name: event.name };
    if (event.exitCode !== undefined) attributes.exitCode = String(event.exitCode);
    state.emit('container', event.action, event.id, attributes);
    if (event.action === 'destroy') state.removed(event.id);
  });
  const { routes, hijacks } = routeTables();
  const context = (req: IncomingMessage, params: Record<string, string>, query: URLSearchParams): RequestContext => ({ req, params, query, nbox, state });
  const parse = (req: IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://nbox');
    return { path: splitVersion(url.pathname), query: url.searchParams };
  };

  const server = createServer((req, res) => {
    let handled: Promise<void>;
    try {
      const { path, query } = parse(req);
      const found = routes.match(req.method ?? 'GET', path);
      if (found === null) throw new EngineError(404, `page not found`);
      if (found === 'method') throw new EngineError(405, `method ${req.method} not allowed for ${path}`);
      handled = found.handler(context(req, found.params, query), res);
    } catch (err) {
      handled = Promise.reject(err);
    }
    handled.catch((err) => sendError(res, err)).finally(() => options.log?.(`${req.method} ${req.url} ${res.statusCode}`));
  });
  server.on('upgrade', (req: IncomingMessage, conn: Duplex, head: Buffer) => {
    conn.on('error', () => {});
    let upgraded = false;
    (async () => {
      const { path, query } = parse(req);
      const found = hijacks.match(req.method ?? 'GET', path);
      if (found === null || found === 'method') throw new EngineError(404, 'page not found');
      const hijack = await found.handler(context(req, found.params, query), await hijackBody(req, conn, head));
      upgraded = true;
      conn.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${hijack.contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
      await hijack.run(conn);
      conn.end();
    })()
      .catch((err) => {
        if (upgraded || conn.destroyed) return conn.destroy();
        const body = JSON.stringify({ message: err instanceof Error ? err.message : String(err) });
        conn.end(`HTTP/1.1 ${errorStatus(err)} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      })
      .finally(() => options.log?.(`${req.method} ${req.url} hijacked`));
  });
  // Streams such as logs -f and events stay open for as long as the client wants.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  try {
    await claimSocket(socket);
    // bind() makes the socket 0777 less the umask: root's alone from the start, so no one connects
    // before the mode and group below are set.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socket, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(socket, 0o660);
    chownSync(socket, 0, groupId(options.group));
  } catch (err) {
    containerEvents.close();
    throw err;
  }
  return {
    socket,
    state,
    close: async () => {
      containerEvents.close();
      await closeServer(server, socket);
    },
  };
}

/** hijackBody reads the body sent before a connection is taken over (exec start's JSON), by its Content-Length;
 * what follows is the client's input and goes back to the stream. */
async function hijackBody(req: IncomingMessage, conn: Duplex, head: Buffer): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? 0);
  // The same bound as any JSON body: a client's Content-Length is never an allocation nbox makes.
  if (!(length <= MAX_JSON_BODY)) throw new EngineError(413, 'request body too large');
  const chunks = [head];
  let read = head.length;
  while (read < length) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (data: Buffer) => (cleanup(), resolve(data));
      const onEnd = () => (cleanup(), resolve(null));
      const cleanup = () => (conn.off('data', onData), conn.off('end', onEnd));
      conn.on('data', onData);
      conn.once('end', onEnd);
    });
    if (chunk === null) break;
    chunks.push(chunk);
    read += chunk.length;
  }
  const body = Buffer.concat(chunks);
  conn.pause();
  if (body.length > length) conn.unshift(body.subarray(length));
  return body.subarray(0, length);
}

/** claimSocket removes a socket nothing listens on (a killed server's); a live one, or a path that is not a socket, is refused. */
async function claimSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new EngineError(500, `${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => (probe.destroy(), resolve(true)));
    probe.once('error', () => resolve(false));
  });
  if (live) throw new EngineError(500, `${path}: another server is listening there`);
  unlinkSync(path);
}

function groupId(group: string | undefined): number {
  if (group === undefined) return 0;
  if (/^\d+$/.test(group)) return Number(group);
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((entry) => entry.split(':')[0] === group);
  if (!line) throw new EngineError(400, `unknown group ${group}`);
  return Number(line.split(':')[2]);
}

async function closeServer(server: Server, socket: string): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    unlinkSync(socket);
  } catch {
    // Gone already.
  }
}

