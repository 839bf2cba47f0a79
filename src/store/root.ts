// The store root under NBOX_ROOT: its layout, temp entries and their sweep, the
// store lock and atomic writes; what every other part needs of the disk. Every
// file and directory appears by an atomic rename, so readers need no lock and
// `kill -9` at any moment leaves a consistent store.
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, openSync, renameSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NboxError, isErrno } from '../errors';
import { addon } from '../sys/addon';
import { writeDurably } from './files';
import { STORE_DIRS, STORE_LOCKS, VERSION_FILE, VERSION_TEXT, ensureStoreDirectory, prepareStoreRoot, restrictMode } from './layout';
import { lockFile, tryLockFile, type LockMode, type Release } from './lock';
import { ownTempEntries, staleTempEntries, tempName, tempOwner } from './temp';

/** StoreRoot is an opened store root: the directories of its layout and the disk operations on them. */
export class StoreRoot {
  /** Unpacked layers, one directory each (owned by image/layers). */
  readonly layersDir: string;
  /** Image configs and repositories.json (owned by image/images). */
  readonly imagesDir: string;
  /** Container records (owned by the runtime). */
  readonly containersDir: string;
  /** Container names, one symlink each to its container's ID (owned by the runtime). */
  readonly containerNamesDir: string;
  /** Build cache entries, one file per cache key holding an image ID (owned by the builder). */
  readonly buildCacheDir: string;
  /** RUN --mount=type=cache directories, kept across builds (owned by the builder). */
  readonly cacheMountsDir: string;
  /** Volumes, one directory each: its record and its _data (owned by runtime/volumes). */
  readonly volumesDir: string;
  /** User networks, one record each (owned by runtime/user-networks). */
  readonly networksDir: string;
  /** The lock file layer pins and layer collection share (see image/layers). */
  readonly gcLockPath: string;
  private readonly tmpDir: string;
  private readonly lockPath: string;
  // Marks async work that already holds this store's lock, so nested withLock calls don't deadlock.
  private readonly lockScope = new AsyncLocalStorage<true>();

  private constructor(
    readonly dir: string,
    private readonly owner: string,
  ) {
    this.layersDir = path.join(dir, 'layers');
    this.imagesDir = path.join(dir, 'images');
    this.containersDir = path.join(dir, 'containers');
    this.containerNamesDir = path.join(dir, 'names');
    this.buildCacheDir = path.join(dir, 'buildcache');
    this.cacheMountsDir = path.join(dir, 'cache-mounts');
    this.volumesDir = path.join(dir, 'volumes');
    this.networksDir = path.join(dir, 'networks');
    this.gcLockPath = path.join(dir, 'gc.lock');
    this.tmpDir = path.join(dir, 'tmp');
    this.lockPath = path.join(dir, 'lock');
  }

  /** open creates the store layout under root if needed (or adopts an unmarked store of the earlier layout),
   * makes its directories root's alone, and removes temp entries of dead processes. */
  static async open(root: string): Promise<StoreRoot> {
    const owner = tempOwner();
    if (owner === undefined) throw new NboxError('ERR_NBOX_STORE', 'cannot read /proc/self/stat: is /proc mounted?');
    const { dir, state } = prepareStoreRoot(root);
    const store = new StoreRoot(dir, owner);
    restrictMode(dir);
    for (const name of STORE_DIRS) ensureStoreDirectory(path.join(dir, name));
    for (const name of STORE_LOCKS) closeSync(openSync(path.join(dir, name), 'a', 0o600));
    if (state === 'unmarked') await store.writeFileAtomic(path.join(dir, VERSION_FILE), VERSION_TEXT);
    for (const stale of staleTempEntries(store.tmpDir)) await store.removeTree(stale);
    return store;
  }

  /** withLock runs fn holding the store's exclusive lock; nested calls from within fn reuse it. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    if (this.lockScope.getStore()) return fn();
    const release = await lockFile(this.lockPath);
    try {
      return await this.lockScope.run(true, fn);
    } finally {
      await release();
    }
  }

  /** lock waits for a lock on a lock file of the store's (a cache mount's, the layer pins'). */
  lock(file: string, mode: LockMode = 'exclusive'): Promise<Release> {
    return lockFile(this.inside(file), mode);
  }

  /** tryLock takes a lock on a lock file of the store's, or gives undefined when a conflicting one is held. */
  tryLock(file: string, mode: LockMode = 'exclusive'): Promise<Release | undefined> {
    return tryLockFile(this.inside(file), mode);
  }

  /** tempPath is a fresh name in tmp/, `<pid>-<starttime>-<random>[-label]`, so open() can tell whether its owner is alive. */
  tempPath(label?: string): string {
    return path.join(this.tmpDir, tempName(this.owner, label));
  }

  /** makeTempDir creates a directory in tmp/ (see tempPath). */
  async makeTempDir(label?: string): Promise<string> {
    const dir = this.tempPath(label);
    await fs.mkdir(dir);
    return dir;
  }

  /** writeFileAtomic replaces the file at target (inside the store) with data: temp file, fsync (unless durable is false), rename. */
  async writeFileAtomic(target: string, data: string | Buffer, options: { durable?: boolean } = {}): Promise<void> {
    const temp = this.tempPath();
    try {
      // Rename alone makes the write atomic for readers and kill -9; the
      // fsync is for power loss, which disposable container state can skip.
      if (options.durable === false) await fs.writeFile(temp, data, { flag: 'wx', mode: 0o644 });
      else await writeDurably(temp, data);
      await fs.rename(temp, this.inside(target));
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
  }

  /** removeTree deletes a file or directory inside the store by first renaming it into tmp/ (a kill
   * midway leaves it for the sweep, never half in place); missing is fine. */
  async removeTree(target: string): Promise<void> {
    const doomed = this.renameAway(target);
    // One native walk on the thread pool: fs.rm takes a trip through it per entry.
    if (doomed) await addon().removeTree(doomed);
  }

  /** removeOwnTempEntries removes everything this process has in tmp/: for a process ending in the middle
   * of an operation (interrupted), which leaves nothing for the next open's sweep. Operations in flight fail. */
  async removeOwnTempEntries(): Promise<void> {
    for (const entry of ownTempEntries(this.tmpDir, this.owner)) await addon().removeTree(entry).catch(() => undefined);
  }

  /** discardTree takes a file or directory out of the store at once, as removeTree does, and leaves its
   * deletion running on the thread pool: the caller goes on while the disk frees the blocks (the process
   * stays up until it is done, and what a kill leaves in tmp/ the sweep removes). */
  discardTree(target: string): void {
    const doomed = this.renameAway(target);
    if (doomed) addon().removeTree(doomed).catch(() => undefined);
  }

  // renameAway renames target into tmp/: the temp path, or null when target is missing.
  private renameAway(target: string): string | null {
    const doomed = this.tempPath();
    try {
      renameSync(this.inside(target), doomed);
      return doomed;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw err;
    }
  }

  // inside refuses a path outside the store: the helpers here rename and delete.
  private inside(target: string): string {
    const relative = path.relative(this.dir, path.resolve(target));
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new NboxError('ERR_NBOX_STORE', `${target} is not inside the store ${this.dir}`);
    }
    return target;
  }
}
