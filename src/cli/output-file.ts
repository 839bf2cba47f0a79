// `-o FILE` of save and export: a regular file or a new name is written aside
// and renamed over (a failed write leaves nothing under the name), beside the
// file a symlink points to; a device, FIFO or socket is written into.
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { NboxError } from '../errors';
import { openSpecial, resolveOutput } from '../api';
import { pipeToStdout } from './stdout-pipe';

/** writeOutput writes data to the file -o named, else to stdout. */
export async function writeOutput(file: string | undefined, data: Readable): Promise<void> {
  await (file ? writeOutputFile(file, data) : pipeToStdout(data));
}

// writeOutputFile writes data to the file the user named.
async function writeOutputFile(file: string, data: Readable): Promise<void> {
  const target = await resolveOutput(file).catch((err: unknown) => {
    data.destroy();
    throw writeError(file, err);
  });
  if (target.kind === 'special') {
    try {
      const sink = await openSpecial(target).finally(() => target.handle.close());
      await pipeline(data, sink);
    } catch (err) {
      throw writeError(file, err);
    }
    return;
  }
  // As the docker CLI checks -o before it writes: the file's directory must be there (the error would name the partial file).
  const dir = dirname(target.path);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    data.destroy();
    throw new NboxError('ERR_NBOX_USAGE', `invalid output path: directory "${dir}" does not exist`);
  }
  const partial = `${target.path}.partial-${process.pid}`;
  try {
    await pipeline(data, createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, target.path);
  } catch (err) {
    await rm(partial, { force: true });
    if (target.created) await rm(target.path, { force: true });
    throw writeError(file, err);
  }
}

// writeError names the file for a system error; nbox's own errors (a missing image) pass as they are.
function writeError(file: string, err: unknown): unknown {
  if (err instanceof NboxError || !(err instanceof Error)) return err;
  return new NboxError('ERR_NBOX_USAGE', `cannot write ${file}: ${err.message}`, { cause: err });
}
