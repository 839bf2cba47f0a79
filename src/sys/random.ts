// Random bytes from the kernel's generator, read from /dev/urandom: the source
// node:crypto's randomBytes draws on too, without loading node:crypto (and the
// streams it pulls in), which costs every nbox start milliseconds.
import { closeSync, openSync, readSync } from 'node:fs';

/** randomBytes reads size bytes from /dev/urandom. */
export function randomBytes(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  const fd = openSync('/dev/urandom', 'r');
  try {
    let filled = 0;
    while (filled < size) {
      const read = readSync(fd, bytes, filled, size - filled, null);
      // A /dev/urandom that ends (not the kernel's device) must not loop forever.
      if (read === 0) throw new Error('/dev/urandom returned no bytes');
      filled += read;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}
