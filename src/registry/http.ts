// One HTTP exchange over node:http/https. A failure to connect or to agree on
// TLS becomes one line naming the server; HTTP statuses are the caller's.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { NboxError } from '../errors';

/** HttpExchange is one request: its target, headers, optional body, and the name of the server for errors. */
export interface HttpExchange {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer | Readable;
  /** Names the server in errors: `registry 127.0.0.1:5000`, `auth server 127.0.0.1:9000`. */
  peer: string;
}

/** Connection holds the keep-alive agents of a client and how long a silent socket is given. */
export interface Connection {
  http: http.Agent;
  https: https.Agent;
  timeoutMs: number;
}

/** openConnection makes keep-alive agents; tlsVerify false accepts any certificate. */
export function openConnection(options: { tlsVerify: boolean; timeoutMs: number }): Connection {
  return {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true, rejectUnauthorized: options.tlsVerify, ca: extraCertificates() }),
    timeoutMs: options.timeoutMs,
  };
}

/** extraCertificates trusts, beside Node's roots, the file NODE_EXTRA_CA_CERTS names, as Node does. The nbox
 * command starts Node without that variable (main.ts), so it is read here, where TLS is used; a file that
 * cannot be read is passed over, as Node passes it over. Undefined leaves Node's own store. */
function extraCertificates(): string[] | undefined {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return undefined;
  try {
    return [...rootCertificates, readFileSync(file, 'utf8')];
  } catch {
    return undefined;
  }
}

/** sendRequest sends exchange and resolves with the response head; the body is the caller's to read or discard.
 * A body stream's own error rejects as it is, so it is not mistaken for the server's. */
export function sendRequest(exchange: HttpExchange, connection: Connection): Promise<http.IncomingMessage> {
  const secure = exchange.url.protocol === 'https:';
  const transport = secure ? https : http;
  return new Promise((resolve, reject) => {
    let bodyError: unknown;
    const request = transport.request(
      exchange.url,
      {
        method: exchange.method,
        headers: exchange.headers,
        agent: secure ? connection.https : connection.http,
        timeout: connection.timeoutMs,
      },
      resolve,
    );
    request.on('error', (err) => {
      if (exchange.body instanceof Readable) exchange.body.destroy();
      reject(err === bodyError ? err : connectionError(exchange.peer, err));
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer in ${connection.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    const body = exchange.body;
    if (body instanceof Readable) {
      body.on('error', (err) => {
        bodyError = err;
        request.destroy(err);
      });
      body.pipe(request);
    } else {
      request.end(body);
    }
  });
}

/** readBody collects a response body of at most limit bytes. */
export async function readBody(response: http.IncomingMessage, limit: number, peer: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > limit) {
        response.destroy();
        throw new NboxError('ERR_NBOX_REGISTRY', `${peer} sent a response larger than ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    throw err instanceof NboxError ? err : connectionError(peer, err);
  }
  return Buffer.concat(chunks);
}

/** discard drops a response body that is not needed, so its socket returns to the pool. */
export function discard(response: http.IncomingMessage): void {
  response.resume();
}

/** connectionError turns a socket or TLS failure into one line naming the peer. */
export function connectionError(peer: string, err: unknown): NboxError {
  const cause = err as NodeJS.ErrnoException & { library?: string };
  if (/CERT|SSL|TLS/.test(cause.code ?? '') || cause.code === 'EPROTO' || cause.library === 'SSL routines') {
    return new NboxError(
      'ERR_NBOX_REGISTRY',
      `${peer}: TLS failed: ${cause.message}; use --tls-verify=false for a registry without a trusted certificate or with plain HTTP`,
      { cause: err },
    );
  }
  if (cause.code === 'ECONNRESET' || cause.message === 'aborted') {
    return new NboxError('ERR_NBOX_REGISTRY', `${peer} closed the connection: ${cause.message}`, { cause: err });
  }
  return new NboxError('ERR_NBOX_REGISTRY', `${peer} is not reachable: ${cause.message}`, { cause: err });
}
