// Unpacking a layer tar (plain or gzip) into a directory with GNU tar, hashing
// the uncompressed bytes on the way: the diffID comes out of the same pass.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { NboxError, isErrno } from '../errors';
import { peekStream } from './stream-head';

/** LayerDigest is a layer's identity: sha256 of its uncompressed tar, and that tar's size in bytes. */
export interface LayerDigest {
  diffId: string;
  size: number;
}

/** unpackLayer extracts a (possibly gzipped) tar stream into the existing directory dir. */
export async function unpackLayer(tarStream: Readable, dir: string): Promise<LayerDigest> {
  const tar = spawn('tar', tarArguments(dir), { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  tar.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve, reject) => {
    tar.once('error', reject);
    tar.once('close', (code) => resolve(code));
  });

  const hash = createHash('sha256');
  let size = 0;
  // GNU tar stops reading at the end-of-archive blocks, but the diffID covers
  // every byte (padding included), so the rest is hashed after tar closes its end.
  let tarGone = false;
  tar.stdin.on('error', () => (tarGone = true));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      if (tarGone) return done();
      tar.stdin.write(chunk, (err) => done(err && !isErrno(err, 'EPIPE') ? err : undefined));
    },
    final(done) {
      tar.stdin.end();
      done();
    },
  });
  // Whichever fails first is reported: tar's complaint, or the input's error
  // (a broken gzip stream, a dropped connection), after which tar is stopped.
  let firstFailure: 'tar' | 'input' | undefined;
  const tarFailed = () => {
    firstFailure ??= 'tar';
    sink.destroy();
  };
  exited.then((code) => code !== 0 && tarFailed(), tarFailed);
  const piping = uncompressed(tarStream)
    .then((stages) => pipeline([...stages, sink]))
    .catch((err: unknown) => {
      firstFailure ??= 'input';
      tar.kill();
      throw err;
    });

  const [piped, exit] = await Promise.allSettled([piping, exited]);
  if (piped.status === 'rejected' && firstFailure === 'input') throw importError(`reading layer: ${(piped.reason as Error).message}`, piped.reason);
  if (exit.status === 'rejected') throw importError(`cannot run tar: ${(exit.reason as Error).message}`, exit.reason);
  if (exit.value !== 0) {
    const firstLine = stderr.split('\n').find((line) => line.trim() !== '') ?? `tar exited with status ${exit.value}`;
    throw importError(firstLine);
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

function tarArguments(dir: string): string[] {
  // Ownership can only be restored by root; an unprivileged unpack (tests,
  // rootless use) keeps the caller's uid instead of failing on chown.
  const owner = process.getuid?.() === 0 ? ['--same-owner'] : ['--no-same-owner'];
  return ['-x', '--numeric-owner', '--same-permissions', ...owner, '--xattrs', '--xattrs-include=*', '-f', '-', '-C', dir];
}

// uncompressed peeks at the first bytes and adds a gunzip stage when they are gzip's magic.
async function uncompressed(input: Readable): Promise<Readable[]> {
  const { head, replay } = await peekStream(input, 2);
  return head[0] === 0x1f && head[1] === 0x8b ? [replay, createGunzip()] : [replay];
}

function importError(message: string, cause?: unknown): NboxError {
  return new NboxError('ERR_NBOX_IMPORT', message.replace(/\s*\n[\s\S]*$/, ''), { cause });
}
