// Where a container's snapshot layers live and in which order: snapshots/<n>
// in its directory, numbered by nbox from 1, the newest the topmost lower. The
// directories are their own record (container-snapshot.ts says why); only
// names of that shape are ever read back as layers.
import { chownSync, chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { containerPaths } from './container-record';
import { isoTime } from '../iso-time';

/** SnapshotInfo is one snapshot of a container's writable layer. */
export interface SnapshotInfo {
  /** Its number: 1 for a container's first, counting up; restore takes it. */
  id: number;
  /** When it was taken. */
  created: string;
}

const SNAPSHOT_NAME = /^[1-9][0-9]{0,8}$/;

/** snapshotDirs are a container's snapshot layers, newest (topmost) first: the lowers between its upper dir and
 * its image's. With `only`, the ones whose number it accepts. */
export function snapshotDirs(containerDir: string, only: (id: number) => boolean = () => true): string[] {
  return snapshotIds(containerDir).filter(only).map((id) => join(snapshotsDir(containerDir), String(id)));
}

/** snapshotIds are the numbers of a container's snapshots, newest first. */
export function snapshotIds(containerDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(snapshotsDir(containerDir));
  } catch {
    return [];
  }
  return names.filter((name) => SNAPSHOT_NAME.test(name)).map(Number).sort((a, b) => b - a);
}

/** snapshotDir is where snapshot id goes; its parent is made if missing. */
export function snapshotDir(containerDir: string, id: number): string {
  mkdirSync(snapshotsDir(containerDir), { recursive: true });
  return join(snapshotsDir(containerDir), String(id));
}

/** listSnapshots describes a container's snapshots, oldest first. */
export function listSnapshots(containerDir: string): SnapshotInfo[] {
  return snapshotIds(containerDir).reverse().map((id) => ({ id, created: isoTime(statSync(join(snapshotsDir(containerDir), String(id))).ctime) }));
}

/** ensureUpperDir makes a container's upper dir again when a snapshot was killed between its rename and the mkdir. */
export function ensureUpperDir(containerDir: string): void {
  mkdirSync(containerPaths(containerDir).upper, { recursive: true });
}

/** freshUpperDir makes a container's empty upper dir; its root takes the mode and owner of the snapshot root
 * below it (the merged root's are the upper's), as the monitor does (native/monitor.c fresh_upper). */
export function freshUpperDir(containerDir: string, below?: string): void {
  const upper = containerPaths(containerDir).upper;
  mkdirSync(upper, 0o755);
  const root = below === undefined ? undefined : lstatSync(below);
  if (root?.isDirectory()) {
    chmodSync(upper, root.mode & 0o7777);
    chownSync(upper, root.uid, root.gid);
  }
}

/** writableLayerDirs are the layers a container wrote, topmost first: its upper dir over its snapshots. */
export function writableLayerDirs(containerDir: string): string[] {
  return [containerPaths(containerDir).upper, ...snapshotDirs(containerDir)];
}

function snapshotsDir(containerDir: string): string {
  return join(containerDir, 'snapshots');
}
