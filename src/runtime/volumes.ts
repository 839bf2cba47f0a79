// Volumes in the store: volumes/<name>/{volume.json,_data}, Docker's local
// driver. A volume appears by rename and goes by rename (removeTree), so a
// reader sees a whole volume or none; its _data is what containers mount.
// Nothing here follows a link inside _data: a container fills it.
import { readdir, readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { NboxError, isErrno } from '../errors';
import type { StoreRoot } from '../store/root';
import { randomBytes } from '../sys/random';
import { isoTime } from '../iso-time';

/** VOLUME_NAME is Docker's rule for a local volume's name. */
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** ANONYMOUS_LABEL marks an anonymous volume, as Docker 23+ labels them (`volume prune` without -a takes only these). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** VolumeRecord is one volume as kept in the store. */
export interface VolumeRecord {
  name: string;
  /** RFC 3339 to the second, as Docker's CreatedAt. */
  created: string;
  driver: 'local';
  labels: Record<string, string>;
  /** The host directory containers mount: the volume's _data. */
  mountpoint: string;
  /** An anonymous volume of a `--rm` container: it goes when that container is gone. */
  removeWith?: string;
}

const RECORD_FILE = 'volume.json';

/** newAnonymousName is a fresh anonymous volume's name: 64 hex digits, as Docker's. */
export function newAnonymousName(): string {
  return randomBytes(32).toString('hex');
}

/** checkVolumeName refuses a name the local driver would, with Docker's message. */
export function checkVolumeName(name: string): void {
  if (!VOLUME_NAME.test(name)) {
    throw new NboxError('ERR_NBOX_USAGE',
      `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

/** VolumeStore is the store's volumes/ directory. */
export class VolumeStore {
  constructor(private readonly root: StoreRoot) {}

  /** dataDir is the directory a volume's content lives in. */
  dataDir(name: string): string {
    return join(this.root.volumesDir, name, '_data');
  }

  /** create makes a volume, or returns the one of that name (Docker's create is idempotent); created says which. */
  async create(name: string, labels: Record<string, string> = {}, removeWith?: string): Promise<{ record: VolumeRecord; created: boolean }> {
    checkVolumeName(name);
    const existing = await this.find(name);
    if (existing) return { record: existing, created: false };
    const record: VolumeRecord = {
      name,
      created: isoTime().replace(/\.\d+Z$/, 'Z'),
      driver: 'local',
      labels,
      mountpoint: this.dataDir(name),
      ...(removeWith ? { removeWith } : {}),
    };
    const staging = await this.root.makeTempDir('volume');
    try {
      // Docker's local driver makes _data 0755 root: what a container sees at the mount point until copy-up sets the image's.
      await mkdir(join(staging, '_data'), { mode: 0o755 });
      await writeFile(join(staging, RECORD_FILE), JSON.stringify(record, null, 2));
      await rename(staging, join(this.root.volumesDir, name));
    } catch (err) {
      await this.root.removeTree(staging);
      // Another process made it meanwhile: theirs is the volume.
      const raced = isErrno(err, 'EEXIST') || isErrno(err, 'ENOTEMPTY') ? await this.find(name) : null;
      if (raced) return { record: raced, created: false };
      throw err;
    }
    return { record, created: true };
  }

  /** find reads a volume's record, or null when there is none of that name. */
  async find(name: string): Promise<VolumeRecord | null> {
    if (!VOLUME_NAME.test(name)) return null;
    try {
      const record = JSON.parse(await readFile(join(this.root.volumesDir, name, RECORD_FILE), 'utf8')) as VolumeRecord;
      return { ...record, mountpoint: this.dataDir(name) };
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw new NboxError('ERR_NBOX_STORE', `corrupt volume record of ${name}: ${(err as Error).message}`);
    }
  }

  /** get reads a volume's record; a missing one is Docker's "no such volume". */
  async get(name: string): Promise<VolumeRecord> {
    const record = await this.find(name);
    if (!record) throw noSuchVolume(name);
    return record;
  }

  /** list reads every volume, by name; ones removed meanwhile are skipped. */
  async list(): Promise<VolumeRecord[]> {
    const names = (await readdir(this.root.volumesDir)).sort();
    const records = await Promise.all(names.map((name) => this.find(name)));
    return records.filter((r): r is VolumeRecord => r !== null);
  }

  /** remove deletes a volume and its content (the caller checked that no container uses it). */
  async remove(name: string): Promise<void> {
    if (!VOLUME_NAME.test(name)) throw noSuchVolume(name);
    await this.root.removeTree(join(this.root.volumesDir, name));
  }
}

/** noSuchVolume is Docker's error for a volume name that names none. */
export function noSuchVolume(name: string): NboxError {
  return new NboxError('ERR_NBOX_NO_SUCH_VOLUME', `get ${name}: no such volume`);
}
