// The HTTP pieces every Engine API handler needs: a JSON body read with a
// limit, JSON replies, Docker's `{"message": …}` errors and its query booleans.
import type { IncomingMessage, ServerResponse } from 'node:http';

import { NboxError } from '../api';

/** EngineError is a failure with the HTTP status Docker answers it with. */
export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** MAX_JSON_BODY bounds a request's JSON body: a create or exec body is a few KiB. */
export const MAX_JSON_BODY = 4 << 20;

/** readJson reads a request's JSON body; an empty body is `{}`, a malformed one Docker's 400. */
export async function readJson<T>(req: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BODY) throw new EngineError(413, 'request body too large');
    chunks.push(chunk);
  }
  return parseJsonBody<T>(Buffer.concat(chunks));
}

/** parseJsonBody parses a body already read (a hijacked request's). */
export function parseJsonBody<T>(body: Buffer): T {
  const text = body.toString('utf8').trim();
  if (text === '') return {} as T;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as T;
  } catch (err) {
    throw new EngineError(400, `invalid JSON: ${(err as Error).message}`);
  }
}

/** sendJson answers with a JSON document. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** sendEmpty answers with a status and no body (204, 304). */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** errorStatus is the HTTP status Docker gives a failure of this kind. */
export function errorStatus(err: unknown): number {
  if (err instanceof EngineError) return err.status;
  if (err instanceof NboxError) {
    switch (err.code) {
      case 'ERR_NBOX_NO_SUCH_IMAGE':
      case 'ERR_NBOX_NO_SUCH_CONTAINER':
      case 'ERR_NBOX_NO_SUCH_VOLUME':
      case 'ERR_NBOX_NO_SUCH_NETWORK':
        return 404;
      case 'ERR_NBOX_CONFLICT':
        return 409;
      case 'ERR_NBOX_USAGE':
      case 'ERR_NBOX_DOCKERFILE':
        return 400;
      case 'ERR_NBOX_AUTH':
        return 401;
      default:
        return 500;
    }
  }
  return 500;
}

/** sendError answers with Docker's error body, unless the reply has begun (then it ends the stream). */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, errorStatus(err), { message: err instanceof Error ? err.message : String(err) });
}

/** flag reads a query boolean as Docker does: 1, true, True; absent is `fallback`. */
export function flag(query: URLSearchParams, name: string, fallback = false): boolean {
  const value = query.get(name);
  if (value === null || value === '') return fallback;
  return value === '1' || value.toLowerCase() === 'true';
}

/** jsonQuery reads a query parameter that holds JSON (filters, buildargs, labels); absent is undefined. */
export function jsonQuery<T>(query: URLSearchParams, name: string): T | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  try {
    return JSON.parse(value) as T;
  } catch {
    throw new EngineError(400, `invalid ${name} parameter: not JSON`);
  }
}

/** filterList turns Docker's filters JSON ({"status": ["exited"]} or {"status": {"exited": true}}) into key=value strings. */
export function filterList(query: URLSearchParams): string[] {
  const filters = jsonQuery<Record<string, string[] | Record<string, boolean>>>(query, 'filters') ?? {};
  const list: string[] = [];
  for (const [key, values] of Object.entries(filters)) {
    const items = Array.isArray(values) ? values : Object.keys(values).filter((v) => values[v]);
    for (const value of items) list.push(`${key}=${value}`);
  }
  return list;
}

/** terminalSize reads a resize's `h` and `w`. */
export function terminalSize(query: URLSearchParams): { rows: number; cols: number } {
  const rows = Number(query.get('h'));
  const cols = Number(query.get('w'));
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new EngineError(400, 'h and w must be non-negative integers');
  return { rows, cols };
}
