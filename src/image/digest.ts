// Digests of blobs, and checks of blobs that come from elsewhere (a registry,
// an archive) on the fly, so a blob is never held in memory whole.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** sha256Digest is the `sha256:…` digest of data. */
export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** verifyingStream passes bytes through and fails at the end (or as soon as there are too many)
 * unless they are exactly `size` bytes with digest `digest`; mismatch makes the error from what was wrong. */
export function verifyingStream(expected: { digest: string; size: number }, mismatch: (what: string) => Error): Transform {
  const hash = createHash('sha256');
  let received = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      received += chunk.length;
      if (received > expected.size) return callback(mismatch(`more than the expected ${expected.size} bytes`));
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (received !== expected.size) return callback(mismatch(`received ${received} of ${expected.size} bytes`));
      const actual = `sha256:${hash.digest('hex')}`;
      callback(actual === expected.digest ? null : mismatch(`received ${actual}`));
    },
  });
}
