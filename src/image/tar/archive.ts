// Tar archives as ADD and build contexts see them: recognised by content (never
// by name), optionally compressed, and unpacked with GNU tar.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { NboxError } from '../../errors';
import { decompressor, detectCompression, type Compression } from './compression';
import { extractWithGnuTar } from './gnu-tar';
import { BLOCK, isTarHeader } from './header';
import { peekStream } from './peek';

/** sniffArchive tells by input's first block whether it is a tar, compressed or not (compression null:
 * no archive), and gives the stream back whole. */
export async function sniffArchive(input: Readable): Promise<{ compression: Compression | null; replay: Readable }> {
  const { head, replay } = await peekStream(input, BLOCK);
  const compression = detectCompression(head);
  return { compression: compression !== 'none' || isTarHeader(head) ? compression : null, replay };
}

/** archiveCompression returns how the file at path is compressed when it is a tar archive, else null (ADD then
 * copies it verbatim); unlike a context, a compressed file must hold a tar, as Docker checks. */
export async function archiveCompression(path: string): Promise<Compression | null> {
  const { compression, replay } = await sniffArchive(createReadStream(path));
  replay.destroy();
  if (compression === null || compression === 'none') return compression;
  return isTarHeader(await decompressedHead(path, compression)) ? compression : null;
}

/** extractTar unpacks a tar (compressed as said) into dir, keeping owners (as root), modes, mtimes and xattrs. */
export async function extractTar(input: Readable, compression: Compression, dir: string): Promise<void> {
  const outcome = await extractWithGnuTar(compression === 'none' ? [input] : [input, decompressor(compression)], dir);
  if (outcome.failed === undefined) return;
  const why = outcome.failed === 'tar' ? outcome.line : `${outcome.failed === 'spawn' ? 'cannot run tar: ' : ''}${(outcome.error as Error).message}`;
  throw new NboxError('ERR_NBOX_BUILD', `failed to extract archive: ${why}`);
}

// decompressedHead returns the first block of the decompressed file.
async function decompressedHead(path: string, compression: Exclude<Compression, 'none'>): Promise<Buffer> {
  const source = createReadStream(path);
  const stage = decompressor(compression);
  source.once('error', (err) => stage.destroy(err));
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of source.pipe(stage)) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= BLOCK) break;
    }
  } catch {
    // Not decompressible: not an archive; what was read so far decides.
  } finally {
    source.destroy();
    stage.destroy();
  }
  return Buffer.concat(chunks).subarray(0, BLOCK);
}
