// What pull and push share: their options and the progress they report.
import { Transform, type Readable } from 'node:stream';

import type { Credentials } from './credentials';


/** TransferProgress is one step of one layer (or the config) as Docker prints it: `ID: STATUS`. */
export interface TransferProgress {
  /** The blob's short digest (12 hex digits). */
  id: string;
  status: string;
  /** Bytes moved so far and in all, while a blob downloads or uploads. */
  current?: number;
  total?: number;
}

/** TransferOptions are pull's and push's options. */
export interface TransferOptions {
  /** As podman's --tls-verify; unset: plain HTTP for loopback registries, verified HTTPS otherwise. */
  tlsVerify?: boolean;
  /** The credentials file, instead of Docker's config.json. */
  authFile?: string;
  /** Credentials given with the request (the Engine API's X-Registry-Auth), instead of any file's; null is none. */
  credentials?: Credentials | null;
  /** Called on each step of each layer. */
  progress?: (event: TransferProgress) => void;
}

/** shortDigest is how Docker names a blob in progress lines: the first 12 hex digits. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** PROGRESS_INTERVAL_MS spaces byte-count reports of one blob. */
const PROGRESS_INTERVAL_MS = 200;

/** countBytes passes a blob's stream through, reporting the bytes moved under status at most every PROGRESS_INTERVAL_MS. */
export function countBytes(source: Readable, id: string, status: string, total: number | undefined, progress: (event: TransferProgress) => void): Readable {
  let current = 0;
  let last = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      current += chunk.length;
      const now = Date.now();
      if (now - last >= PROGRESS_INTERVAL_MS) {
        last = now;
        progress({ id, status, current, total });
      }
      done(null, chunk);
    },
  });
  source.once('error', (err) => counter.destroy(err));
  // An error before the reader starts (a small blob failing its digest check) waits in the stream for it.
  counter.on('error', () => undefined);
  return source.pipe(counter);
}
