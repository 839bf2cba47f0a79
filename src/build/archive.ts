// Tar archives as ADD and build contexts see them: recognised by content (never
// by name), optionally compressed, and unpacked with GNU tar.
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { NboxError } from '../errors';
import { tarErrorLine } from '../image/tar-error';

/** Compression is how an archive's bytes are wrapped. */
export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

// A tar header block is 512 bytes; its checksum field sits at 148..156.
const BLOCK = 512;

const MAGICS: [Compression, number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

const DECOMPRESSORS: Record<Exclude<Compression, 'none'>, string> = { gzip: 'gzip', bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };
const TAR_FLAGS: Record<Compression, string[]> = { none: [], gzip: ['-z'], bzip2: ['-j'], xz: ['-J'], zstd: ['--zstd'] };

/** detectCompression names the compression whose magic bytes head begins with. */
export function detectCompression(head: Buffer): Compression {
  for (const [compression, magic] of MAGICS) {
    if (head.length >= magic.length && magic.every((byte, at) => head[at] === byte)) return compression;
  }
  return 'none';
}

/** isTarHeader tells whether a block is a valid tar header, by its checksum as Go's archive/tar checks it. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < BLOCK) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let at = 0; at < BLOCK; at++) {
    const byte = at >= 148 && at < 156 ? 0x20 : block[at];
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  const expected = parseInt(field, 8);
  return expected === unsigned || expected === signed;
}

/** archiveCompression returns how the file at path is compressed when it is a tar archive, else null (ADD then copies it verbatim). */
export async function archiveCompression(path: string): Promise<Compression | null> {
  const head = await readHead(path, BLOCK);
  const compression = detectCompression(head);
  const block = compression === 'none' ? head : await decompressedHead(path, compression);
  return isTarHeader(block) ? compression : null;
}

/** extractTar unpacks a tar (compressed as said) from a file path or stream into dir, keeping owners (as root), modes, mtimes and xattrs. */
export async function extractTar(input: string | Readable, compression: Compression, dir: string): Promise<void> {
  // Only root can restore owners; an unprivileged caller (tests) keeps its own.
  const owner = process.getuid?.() === 0 ? ['--same-owner'] : ['--no-same-owner'];
  const args = ['-x', ...TAR_FLAGS[compression], '--numeric-owner', '--same-permissions', ...owner, '--xattrs', '--xattrs-include=*', '-f', typeof input === 'string' ? input : '-', '-C', dir];
  const tar = spawn('tar', args, { stdio: [typeof input === 'string' ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
  let stderr = '';
  tar.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  if (typeof input !== 'string') {
    // tar may stop reading early (end-of-archive blocks); the rest is not needed.
    tar.stdin!.on('error', () => undefined);
    input.pipe(tar.stdin!);
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    tar.once('error', reject);
    tar.once('close', resolve);
  });
  if (code !== 0) {
    throw new NboxError('ERR_NBOX_BUILD', `failed to extract archive: ${tarErrorLine(stderr, code)}`);
  }
}

async function readHead(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

// decompressedHead returns the first block of the decompressed stream, so a
// compressed file that is not a tar is copied as it is, as Docker does.
async function decompressedHead(path: string, compression: Exclude<Compression, 'none'>): Promise<Buffer> {
  const child = spawn(DECOMPRESSORS[compression], ['-dc', path], { stdio: ['ignore', 'pipe', 'ignore'] });
  const chunks: Buffer[] = [];
  let length = 0;
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= BLOCK) child.kill();
    });
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  return Buffer.concat(chunks).subarray(0, BLOCK);
}
