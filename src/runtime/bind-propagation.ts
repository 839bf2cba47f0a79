// Docker's check of a shared or slave bind's host source (moby daemon/oci_linux.go, ensureShared and
// ensureSharedOrSlave): the container's copy of a mount can only be a peer of the host's mount it
// comes from if that mount is shared, and only receive its mounts if it is shared or a slave. Any
// other source is refused before the container is made or started, with Docker's message.
import { readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { NboxError, isErrno } from '../errors';
import type { MountSpec } from './mount-spec';

/** MountInfoEntry is what a line of /proc/self/mountinfo says about where a mount is and how it propagates. */
export interface MountInfoEntry {
  mountPoint: string;
  /** The optional fields: `shared:N`, `master:N`, `propagate_from:N`, `unbindable`. */
  optional: string[];
}

/** checkBindPropagation refuses a shared or slave bind whose host source is on a mount that cannot give it. */
export async function checkBindPropagation(mounts: MountSpec[]): Promise<void> {
  const asking = mounts.filter((m) => m.type === 'bind' && (m.propagation.endsWith('shared') || m.propagation.endsWith('slave')));
  if (asking.length === 0) return;
  const table = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  for (const mount of asking) {
    const refusal = propagationRefusal(mount, sourceMount(table, await resolvedSource(mount.source)));
    if (refusal) throw new NboxError('ERR_NBOX_USAGE', refusal);
  }
}

/** propagationRefusal is Docker's message when a bind's source mount cannot give it the propagation it asks, else null. */
export function propagationRefusal(mount: Pick<MountSpec, 'source' | 'propagation'>, entry: MountInfoEntry): string | null {
  const shared = mount.propagation.endsWith('shared');
  const fits = entry.optional.some((field) => field.startsWith('shared:') || (!shared && field.startsWith('master:')));
  return fits ? null : `path ${mount.source} is mounted on ${entry.mountPoint} but it is not a ${shared ? 'shared' : 'shared or slave'} mount`;
}

/** parseMountInfo reads /proc/self/mountinfo's mount points (octal escapes undone) and optional fields. */
export function parseMountInfo(text: string): MountInfoEntry[] {
  return text.split('\n').filter(Boolean).map((line) => {
    const fields = line.split(' ');
    const end = fields.indexOf('-', 6);
    return {
      mountPoint: fields[4].replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
      optional: fields.slice(6, end < 0 ? fields.length : end),
    };
  });
}

/** sourceMount is the mount a path lies on: the deepest mount point at or above it, the topmost of a stack. */
export function sourceMount(table: MountInfoEntry[], path: string): MountInfoEntry {
  const covering = table.filter((entry) => entry.mountPoint === '/' || path === entry.mountPoint || path.startsWith(`${entry.mountPoint}/`));
  return covering.reduce((best, entry) => (entry.mountPoint.length >= best.mountPoint.length ? entry : best));
}

// resolvedSource is the source with its links followed, as Docker evaluates it; a -v source that is still to be
// made lies where its nearest existing parent does.
async function resolvedSource(source: string): Promise<string> {
  try {
    return await realpath(source);
  } catch (err) {
    if (!isErrno(err, 'ENOENT') || dirname(source) === source) throw err;
    return join(await resolvedSource(dirname(source)), basename(source));
  }
}
