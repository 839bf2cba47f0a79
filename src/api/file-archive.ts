// One file as the one-entry tar that the container copy paths take and give:
// readFile and writeFile reuse copyFrom/copyTo, which resolve every path
// inside the container's root, rather than a second way into it.
import { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';

import { NboxError } from '../errors';

/** fileTar is a tar holding one regular file, name with data and mode, below the directories
 * dirs (each in the one before, made with mode 0755), as `mkdir -p` would make them. */
export function fileTar(dirs: string[], name: string, data: Buffer, mode: number): Readable {
  const tar = pack();
  const mtime = new Date();
  for (const [index] of dirs.entries()) tar.entry({ name: `${dirs.slice(0, index + 1).join('/')}/`, type: 'directory', mode: 0o755, mtime });
  tar.entry({ name: [...dirs, name].join('/'), type: 'file', mode, size: data.length, mtime }, data);
  tar.finalize();
  // tar-stream's streams are streamx ones: the copy path takes a Node stream.
  return Readable.from(tar);
}

/** fileFromTar is the content of the first entry of a tar, which must be a regular file (path names it in errors). */
export async function fileFromTar(tar: Readable, path: string): Promise<Buffer> {
  const entries = extract();
  tar.once('error', (err) => entries.destroy(err));
  tar.pipe(entries);
  try {
    for await (const entry of entries) {
      if (entry.header.type !== 'file') throw new NboxError('ERR_NBOX_COPY', `${path} is not a regular file`);
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    throw new NboxError('ERR_NBOX_COPY', `Could not find the file ${path} in container`);
  } finally {
    tar.unpipe(entries);
    tar.destroy();
    entries.destroy();
  }
}
