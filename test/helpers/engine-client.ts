// A small Engine API client for tests: plain requests, and hijacked ones
// (attach, exec start) whose output is demultiplexed from Docker's frames.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

/** Reply is a plain request's answer. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** request sends one request; a body object goes as JSON, a Buffer as it is. */
export function request(socket: string, method: string, path: string, body?: object | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const raw = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const req = httpRequest({ socketPath: socket, method, path, headers: { 'Content-Type': Buffer.isBuffer(body) ? 'application/x-tar' : 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(raw);
  });
}

/** Streams is what a hijacked connection carried, by stream. */
export interface Streams {
  head: string;
  stdout: string;
  stderr: string;
}

/** demux splits Docker's 8-byte framed stream. */
export function demux(data: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for (let at = 0; at + 8 <= data.length; ) {
    const size = data.readUInt32BE(at + 4);
    (data[at] === 2 ? err : out).push(data.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** Hijacked is an open hijacked connection: write input, end it (half-close), and read everything once it closes. */
export interface Hijacked {
  write(data: string): void;
  end(): void;
  /** The response head, once it has come. */
  upgraded: Promise<string>;
  done: Promise<Streams>;
}

/** hijack sends a request that takes over the connection (`Upgrade: tcp`). */
export function hijack(socket: string, method: string, path: string, body?: object): Hijacked {
  const conn = connect(socket);
  const payload = body === undefined ? '' : JSON.stringify(body);
  conn.write(`${method} ${path} HTTP/1.1\r\nHost: nbox\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
  const chunks: Buffer[] = [];
  let resolveHead: (head: string) => void = () => {};
  const upgraded = new Promise<string>((resolve) => (resolveHead = resolve));
  conn.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    const all = Buffer.concat(chunks);
    const end = all.indexOf('\r\n\r\n');
    if (end >= 0) resolveHead(all.subarray(0, end).toString('utf8'));
  });
  const done = new Promise<Streams>((resolve, reject) => {
    conn.on('error', reject);
    conn.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      resolveHead(all.subarray(0, end).toString('utf8'));
      resolve({ head: all.subarray(0, end).toString('utf8'), ...demux(all.subarray(end + 4)) });
    });
  });
  return { write: (data) => conn.write(data), end: () => conn.end(), upgraded, done };
}

/** firstLines reads the first `count` lines of a streaming reply (stats, events), then hangs up. */
export function firstLines(socket: string, path: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: socket, method: 'GET', path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      const done = () => {
        req.destroy();
        resolve(text.split('\n').filter(Boolean).slice(0, count));
      };
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.split('\n').length > count) done();
      });
      res.on('end', done);
      res.on('error', () => {});
    });
    req.on('error', reject);
    req.end();
  });
}
