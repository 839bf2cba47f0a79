// How a tar's bytes are wrapped, told by content (never by name), and undone:
// the one sniffer and decompressor set for load, import, pull and ADD. gzip is
// undone in-process; bzip2, xz and zstd by their own programs, as GNU tar does.
import { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { isErrno } from '../../errors';
import { BLOCK, isTarHeader } from './header';
import { peekStream } from './peek';
import { startTool } from './tool';

/** Compression is how an archive's bytes are wrapped. */
export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

const MAGICS: [Exclude<Compression, 'none'>, number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

// zlib's default 16 KiB output chunks triple the cost of gunzip on a large layer.
const GUNZIP_CHUNK = 1 << 20;

/** detectCompression names the compression whose magic bytes head (a block, or what there is) begins with;
 * a plain tar whose first name begins as a magic does (`BZh…`) is told by its header's checksum. */
export function detectCompression(head: Buffer): Compression {
  if (isTarHeader(head)) return 'none';
  for (const [compression, magic] of MAGICS) {
    if (head.length >= magic.length && magic.every((byte, at) => head[at] === byte)) return compression;
  }
  return 'none';
}

/** decompressor is the stage that undoes compression. */
export function decompressor(compression: Exclude<Compression, 'none'>): Duplex {
  if (compression === 'gzip') return createGunzip({ chunkSize: GUNZIP_CHUNK });
  return Duplex.from((source: AsyncIterable<Buffer>) => decompressWith(compression, source));
}

/** uncompressed peeks at input's first bytes and returns its stream with the stage that undoes its compression, if any. */
export async function uncompressed(input: Readable): Promise<{ compression: Compression; stages: Array<Readable | Duplex> }> {
  const { head, replay } = await peekStream(input, BLOCK);
  const compression = detectCompression(head);
  return { compression, stages: compression === 'none' ? [replay] : [replay, decompressor(compression)] };
}

// decompressWith runs `program -dc` over source: its output, and its complaint when it fails.
async function* decompressWith(program: string, source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const { child, exited, stderr } = startTool(program, ['-dc'], 'pipe');
  // The program may stop reading early (a broken stream); what it did not read is not needed.
  const feeding = pipeline(Readable.from(source), child.stdin).catch((err: unknown) => {
    if (!isErrno(err, 'EPIPE')) throw err;
  });
  feeding.catch(() => undefined);
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    await feeding;
    const status = await exited;
    if (status !== 0) throw new Error(`${program}: ${stderr().split('\n').find((line) => line.trim() !== '')?.trim() ?? `exited with status ${status}`}`);
  } finally {
    // A reader that stopped early (a sniffer that has its first block) ends the program.
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}
