// Replaying a layer's tar from its split (see split.ts) and the directory it
// was unpacked into. The directory holds what a hostile tar made: a member
// given first as a file and then as a symlink to a host file leaves that
// symlink where the split expects the file. So each file is opened inside the
// layer (its parent resolved with openat2 RESOLVE_IN_ROOT, so no symlink leads
// out of the layer) without following a symlink (O_NOFOLLOW), never blocking
// on a FIFO (O_NONBLOCK), and read only when fstat says it is a regular file.
import { createHash } from 'node:crypto';
import { closeSync, constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { NboxError } from '../../errors';
import { addon } from '../../sys/addon';
import { decodeSplit } from './split';

const READ_CHUNK = 1 << 20;
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** replayTar yields the original tar again from its split and the directory it was unpacked into;
 * it fails if the result does not hash to expectedDiffId (a file changed, or a path repeated in the tar),
 * and before reading anything but a regular file inside dir. */
export async function* replayTar(split: Buffer, dir: string, expectedDiffId: string): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  const layer = new LayerFiles(dir, expectedDiffId);
  try {
    for await (const segment of decodeSplit(split)) {
      if (!segment) throw new NboxError('ERR_NBOX_STORE', `corrupt tar-split for layer ${expectedDiffId}`);
      if (segment.kind === 'raw') {
        hash.update(segment.bytes);
        yield segment.bytes;
        continue;
      }
      for await (const chunk of layer.content(segment.path, segment.size)) {
        hash.update(chunk);
        yield chunk;
      }
    }
  } finally {
    layer.close();
  }
  const diffId = `sha256:${hash.digest('hex')}`;
  if (diffId !== expectedDiffId) throw new NboxError('ERR_NBOX_STORE', `layer ${expectedDiffId} no longer matches its digest (its files changed on disk)`);
}

// LayerFiles opens files of a layer directory by their path in the tar. Members come
// directory by directory, so the last parent opened is kept for the next file.
class LayerFiles {
  private parent: { path: string; fd: number } | undefined;

  constructor(
    private readonly dir: string,
    private readonly diffId: string,
  ) {}

  async *content(path: Buffer, size: number): AsyncGenerator<Buffer> {
    const handle = await this.open(path);
    try {
      for (let position = 0; position < size; ) {
        const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - position));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) throw this.refused(path, 'is shorter than its tar entry');
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }

  close(): void {
    if (this.parent) closeSync(this.parent.fd);
    this.parent = undefined;
  }

  private async open(path: Buffer): Promise<FileHandle> {
    const slash = path.lastIndexOf('/');
    const parentFd = this.parentFd(slash === -1 ? '' : path.subarray(0, slash).toString('utf8'), path);
    // The name is looked up in the directory the fd holds; only that last step may meet a symlink, and does not follow it.
    const inParent = Buffer.concat([Buffer.from(`/proc/self/fd/${parentFd}/`), path.subarray(slash + 1)]);
    let handle: FileHandle;
    try {
      handle = await open(inParent, OPEN_FLAGS);
    } catch (err) {
      throw this.refused(path, `cannot be opened: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw this.refused(path, 'is not a regular file');
    }
    return handle;
  }

  private parentFd(parent: string, path: Buffer): number {
    if (this.parent?.path === parent) return this.parent.fd;
    this.close();
    try {
      this.parent = { path: parent, fd: addon().openInRoot(this.dir, parent === '' ? '.' : parent) };
    } catch (err) {
      throw this.refused(path, `cannot be opened: ${(err as Error).message}`);
    }
    return this.parent.fd;
  }

  private refused(path: Buffer, why: string): NboxError {
    return new NboxError('ERR_NBOX_STORE', `layer ${this.diffId}: ${path.toString()} ${why}`);
  }
}
