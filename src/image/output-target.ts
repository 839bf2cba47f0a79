// What a path the user names for nbox to write (`save -o`, the credentials
// file) stands for once the kernel has followed its symlinks: a regular file or
// a new name, written aside and renamed over at the resolved path so that a
// symlink keeps its link; or a device, FIFO or socket, written into, never
// replaced (`save -o /dev/null` once made /dev/null a regular file). The kernel
// resolves the path (an O_PATH open, with its protected_symlinks checks), not a
// readlink walk here.
import { constants, fstatSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createConnection } from 'node:net';
import * as path from 'node:path';
import type { Writable } from 'node:stream';

import { NboxError, isErrno } from '../errors';

// O_PATH on x86_64 and arm64, which Node does not export: an open that reads,
// writes and opens no device, for fstat and a /proc/self/fd path.
const O_PATH = 0o10000000;

/** OutputTarget is a regular file or new name to write aside and rename over (created: the file was made
 * through a dangling symlink, and a failed write removes it), or a special file held by an O_PATH handle. */
export type OutputTarget =
  | { kind: 'file'; path: string; created: boolean }
  | { kind: 'special'; handle: FileHandle; socket: boolean };

/** resolveOutput finds what file names; a 'special' target's handle is the caller's to close. */
export async function resolveOutput(file: string): Promise<OutputTarget> {
  let handle: FileHandle;
  try {
    handle = await fs.open(file, O_PATH);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return newOutput(file);
    throw err;
  }
  let kept = false;
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new NboxError('ERR_NBOX_USAGE', `${file} is a directory`);
    if (stats.isFile()) return { kind: 'file', path: await fs.readlink(`/proc/self/fd/${handle.fd}`), created: false };
    kept = true;
    return { kind: 'special', handle, socket: stats.isSocket() };
  } finally {
    if (!kept) await handle.close();
  }
}

/** openSpecial opens a special target for writing: a device or FIFO through its O_PATH handle
 * (a FIFO waits for its reader), a socket by connecting to it, unless it is nbox's own stdout
 * or stderr (`-o /dev/stdout` where stdout is a socketpair, as under systemd), written as that stream. */
export async function openSpecial(target: Extract<OutputTarget, { kind: 'special' }>): Promise<Writable> {
  const via = `/proc/self/fd/${target.handle.fd}`;
  if (!target.socket) return (await fs.open(via, constants.O_WRONLY | constants.O_NOCTTY)).createWriteStream();
  const { dev, ino } = await target.handle.stat();
  const own = [process.stdout, process.stderr].find((stream) => {
    try {
      const stats = fstatSync((stream as unknown as { fd: number }).fd);
      return stats.dev === dev && stats.ino === ino;
    } catch {
      return false;
    }
  });
  if (own) return own;
  return new Promise((resolve, reject) => {
    const socket = createConnection(via);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

// newOutput: nothing is there, or a dangling symlink, whose target is created
// through the link (as open(2) would, with its checks) so the link stays.
async function newOutput(file: string): Promise<OutputTarget> {
  const stats = await fs.lstat(file).catch((err: unknown) => {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  });
  if (!stats?.isSymbolicLink()) return { kind: 'file', path: path.resolve(file), created: false };
  await (await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOCTTY, 0o666)).close();
  const target = await resolveOutput(file);
  return target.kind === 'file' ? { ...target, created: true } : target;
}
