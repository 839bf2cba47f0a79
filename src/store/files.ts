// Small file helpers the store's parts share.
import { lstatSync, readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { NboxError, isErrno } from '../errors';

/** writeDurably creates file (it must not exist) with data and fsyncs it. */
export async function writeDurably(file: string, data: string | Buffer): Promise<void> {
  const handle = await fs.open(file, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** readIfExists reads file, or gives undefined when it is gone (ESRCH: a /proc file of a dead process).
 * Store files are small and cached: read at once, they take microseconds, where fs/promises takes four
 * thread-pool trips, each queued behind whatever tree a removal is deleting (milliseconds of every run). */
export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return readFileSync(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ESRCH')) return undefined;
    throw err;
  }
}

/** exists tells whether anything is at file (a symlink is not followed). */
export async function exists(file: string): Promise<boolean> {
  // At once, as readIfExists reads.
  return lstatSync(file, { throwIfNoEntry: false }) !== undefined;
}

/** parseJson parses a store file, naming it when it is corrupt. */
export function parseJson(bytes: Buffer, file: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw corrupt(file, (err as Error).message);
  }
}

/** corrupt is the one-line error for a store file that is not what nbox wrote. */
export function corrupt(file: string, detail: string): NboxError {
  return new NboxError('ERR_NBOX_STORE', `corrupt store file ${file}: ${detail}`);
}
