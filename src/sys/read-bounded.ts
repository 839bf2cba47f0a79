// Reading a file that someone else may grow as we read it (a container's
// /etc/passwd, its /etc/hosts): to its end, but never past a bound, whatever a
// stat said a moment before.
import { readSync } from 'node:fs';

/** readBounded reads fd from its position to its end, or gives null once more than limit bytes came. */
export function readBounded(fd: number, limit: number): Buffer | null {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    const read = readSync(fd, chunk, 0, chunk.length, null);
    if (read === 0) return Buffer.concat(chunks, total);
    total += read;
    if (total > limit) return null;
    chunks.push(chunk.subarray(0, read));
  }
}
