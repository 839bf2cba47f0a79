// Container records on disk: containers/<id>/{config.json,state.json} plus the
// writable layer (upper/, work/), the overlay mountpoint (rootfs/) and the
// files bind-mounted over /etc. A record appears by rename and disappears by
// rename, so a concurrent reader sees a whole container or none.
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readdir, rename, rm, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';

import { NboxError, isErrno } from '../errors';
import type { Release } from '../store/lock';
import type { StoreRoot } from '../store/root';
import { writeEtcFiles, type EtcFiles } from './etc-files';
import { NAME_ATTEMPTS } from './names';
import { faultPoint } from './fault';
import { releaseBridge, sweepBridgeLeases } from './bridge-network';
import { containerBridges, sweepUserNetworks } from './user-networks';
import { killCgroup, removeCgroup, sweepOrphanCgroups } from './cgroup';
import { containerPaths, type ContainerConfig, type ContainerRecord } from './container-record';
import { createdState, liveState, orphaned, type ContainerState } from './container-state';

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** ContainerRegistry reads and writes container records in a store. */
export class ContainerRegistry {
  // Set by deferSweep: resolve sweeps once, when the container it finds is orphaned.
  private sweepDeferred = false;
  // Set once a deferred open has swept the networks' leases (sweepDeferredLeases).
  private leasesSwept = false;

  constructor(private readonly store: StoreRoot) {}

  /** deferSweep is for an open that skips the sweeps (sweep below and the
   * orphan cgroups') because its caller only resolves a container (exec) or
   * makes one (run, create): a container still reads as a swept store would
   * show it, as resolve sweeps first when it finds it orphaned (a `--rm` one is
   * then gone); a name held by a container whose nbox died is swept before it
   * is refused; and sweepDeferredLeases frees dead containers' leases. */
  deferSweep(): void {
    this.sweepDeferred = true;
  }

  /** sweepDeferredLeases frees the leases (addresses, ports) of containers whose monitor died, once, for a
   * deferred open about to use a network: what a full open's sweep would have freed is free. */
  async sweepDeferredLeases(): Promise<void> {
    if (!this.sweepDeferred || this.leasesSwept) return;
    this.leasesSwept = true;
    await sweepBridgeLeases();
    await sweepUserNetworks(this.store);
  }

  /** sweep ends the containers whose nbox died (sweepOrphans) and the cgroups
   * such an nbox left without a record. */
  async sweep(): Promise<void> {
    this.sweepDeferred = false;
    await sweepOrphanCgroups(await this.sweepOrphans());
    await sweepBridgeLeases();
    await sweepUserNetworks(this.store);
  }

  /** create builds the container directory aside and renames it into place,
   * then claims its name; a taken name undoes the container, unless the name was generated:
   * then retryName(retry) gives the next to try (claimContainerName). */
  async create(
    config: ContainerConfig, files: EtcFiles, running?: Pick<ContainerState, 'owner' | 'cgroup'>, retryName?: (retry: number) => string,
  ): Promise<ContainerRecord> {
    if (!NAME_PATTERN.test(config.name)) {
      throw new NboxError('ERR_NBOX_USAGE', `Invalid container name (${config.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    const staging = this.store.tempPath('container');
    const paths = containerPaths(staging);
    const state = createdState(running);
    const dir = this.dirOf(config.id);
    try {
      // The staging directory is private until renamed: plain writes suffice. A handful of small local
      // files: each synchronous call takes microseconds, a trip through the thread pool far more.
      mkdirSync(staging);
      for (const sub of [paths.upper, paths.work, paths.rootfs]) mkdirSync(sub);
      writeFileSync(join(staging, 'config.json'), JSON.stringify(config, null, 2));
      writeFileSync(join(staging, 'state.json'), JSON.stringify(state));
      writeEtcFiles(paths, files);
      renameSync(staging, dir);
    } catch (err) {
      await this.store.removeTree(staging);
      throw err;
    }
    try {
      return { config: await this.claimContainerName(config, dir, retryName), state, dir };
    } catch (err) {
      await this.store.removeTree(dir);
      throw err;
    }
  }

  // claimContainerName claims config.name. A generated one that is taken gives way, as the daemon's does,
  // to retryName's (NAME_ATTEMPTS names in all), then to the short ID; the config on disk follows.
  private async claimContainerName(config: ContainerConfig, dir: string, retryName?: (retry: number) => string): Promise<ContainerConfig> {
    for (let retry = 1; ; retry++) {
      try {
        await this.claimName(config.name, config.id);
        return config;
      } catch (err) {
        if (!retryName || !(err instanceof NboxError && err.code === 'ERR_NBOX_CONFLICT') || retry > NAME_ATTEMPTS) throw err;
      }
      config = { ...config, name: retry < NAME_ATTEMPTS ? retryName(retry) : config.id.slice(0, 12) };
      await this.store.writeFileAtomic(join(dir, 'config.json'), JSON.stringify(config, null, 2));
    }
  }

  /** sweepOrphans ends the containers whose nbox died: what is left of each is
   * killed through its cgroup, then a `--rm` container is removed and any
   * other recorded as exited (137), as Docker and podman do. Returns the
   * names of the groups of the containers it found alive. */
  async sweepOrphans(): Promise<Set<string>> {
    const liveGroups = new Set<string>();
    for (const id of readdirSync(this.store.containersDir)) {
      // Read synchronously, as readRaw's: one local call each, not four trips through the thread pool.
      const state = recordedState(join(this.dirOf(id), 'state.json'));
      if (!state) continue;
      if (!orphaned(state)) {
        if (state.cgroup?.[0] !== undefined) liveGroups.add(basename(state.cgroup[0]));
        continue;
      }
      // A container being started (or removed) right now is left to that process.
      const release = await this.store.tryLock(this.lockPath(id)).catch(() => undefined);
      if (!release) continue;
      try {
        const record = await this.readRaw(id);
        if (!record || !orphaned(record.state)) continue;
        if (record.state.cgroup) {
          await killCgroup(record.state.cgroup);
          await removeCgroup(record.state.cgroup);
        }
        if (record.config.autoRemove) {
          await this.remove(record);
        } else {
          const { owner: _owner, cgroup: _cgroup, ...rest } = liveState(record.state);
          await this.setState(record, rest);
        }
      } catch {
        // Best effort: removed meanwhile, or its group still busy; the next open tries again.
      } finally {
        await release();
      }
    }
    return liveGroups;
  }

  /** lock waits for a container's lock, which `start` holds from reading its state until its
   * new monitor runs it, and `rm` while it removes it; the sweep skips a locked container. */
  lock(record: ContainerRecord): Promise<Release> {
    return this.store.lock(this.lockPath(record.config.id));
  }

  /** lockRef takes the lock of the container ref names: by a full ID at once, as a Container handle
   * gives it (the caller's read under the lock tells whether it is there), else once resolved. */
  async lockRef(ref: string): Promise<{ id: string; release: Release }> {
    if (/^[0-9a-f]{64}$/.test(ref)) {
      const release = await this.store.lock(this.lockPath(ref)).catch((err: unknown) => {
        if (isErrno(err, 'ENOENT')) return undefined;
        throw err;
      });
      if (release) return { id: ref, release };
    }
    const found = await this.resolve(ref);
    return { id: found.config.id, release: await this.lock(found) };
  }

  private lockPath(id: string): string {
    return join(this.dirOf(id), 'lock');
  }

  /** setState replaces a container's state file atomically. */
  async setState(record: ContainerRecord, state: ContainerState): Promise<void> {
    record.state = state;
    await this.store.writeFileAtomic(join(record.dir, 'state.json'), JSON.stringify(state), { durable: false });
  }

  /** setConfig replaces a container's config file atomically (`update`'s new limits). */
  async setConfig(record: ContainerRecord, config: ContainerConfig): Promise<void> {
    record.config = config;
    await this.store.writeFileAtomic(join(record.dir, 'config.json'), JSON.stringify(config, null, 2));
  }

  /** list reads every container; ones removed meanwhile are skipped. */
  async list(): Promise<ContainerRecord[]> {
    const ids = await readdir(this.store.containersDir);
    const records = await Promise.all(ids.map((id) => this.read(id)));
    return records.filter((r): r is ContainerRecord => r !== null);
  }

  /** resolve finds a container by full id, name, or unique id prefix, in Docker's order. */
  async resolve(ref: string): Promise<ContainerRecord> {
    const record = await this.find(ref);
    // An orphan reads as exited (liveState); its record on disk says so only once swept.
    if (this.sweepDeferred && record.state.status === 'exited') {
      const raw = await this.readRaw(record.config.id);
      if (raw && orphaned(raw.state)) {
        await this.sweep();
        return this.find(ref);
      }
    }
    return record;
  }

  private async find(ref: string): Promise<ContainerRecord> {
    const exact = /^[0-9a-f]{64}$/.test(ref) ? await this.read(ref) : null;
    if (exact) return exact;
    const name = ref.replace(/^\//, '');
    // Only a valid name is looked up, and only an ID-shaped link is followed: a ref is never a path.
    // Synchronous, as the reads in readRaw: one local call each, not a trip through the thread pool.
    const linked = NAME_PATTERN.test(name) ? linkedId(join(this.namesDir, name)) : '';
    const named = /^[0-9a-f]{64}$/.test(linked) ? await this.read(linked) : null;
    if (named) return named;
    const ids = /^[0-9a-f]+$/.test(ref) ? readdirSync(this.store.containersDir).filter((id) => id.startsWith(ref)) : [];
    if (ids.length > 1) throw new NboxError('ERR_NBOX_USAGE', `multiple containers found with provided prefix: ${ref}`);
    const byPrefix = ids.length === 1 ? await this.read(ids[0]) : null;
    if (byPrefix) return byPrefix;
    throw new NboxError('ERR_NBOX_NO_SUCH_CONTAINER', `No such container: ${ref}`);
  }

  /** remove renames the directory away (the store sweeps it), then frees the name. */
  async remove(record: ContainerRecord): Promise<void> {
    // Renamed since this record was read (by another process, maybe): its name on disk goes too.
    const names = new Set([record.config.name, (await this.readRaw(record.config.id).catch(() => null))?.config.name ?? record.config.name]);
    // A detached container's lease is its monitor's, which may not have been swept yet: it goes with the container.
    for (const bridge of containerBridges(record.config, this.store.dir)) await releaseBridge(record.config.id, bridge);
    // Its files are out of every reader's sight once renamed: a harness's next container need not wait for the disk.
    this.store.discardTree(record.dir);
    faultPoint('rm-tree-removed');
    // Synchronous, as the reads in readRaw: a name is one small local link.
    for (const name of names) {
      const link = join(this.namesDir, name);
      if (linkedId(link) === record.config.id) rmSync(link, { force: true });
    }
  }

  // A name is a symlink names/<name> -> id (linkTarget), made with symlink(2):
  // exactly one process wins it. A link whose container is gone (its nbox was
  // killed between the two removal steps) is stale and may be taken, under the
  // lock so two takers cannot both win.
  private async claimName(name: string, id: string): Promise<void> {
    const link = join(this.namesDir, name);
    try {
      symlinkSync(linkTarget(id), link);
      return;
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
    await this.store.withLock(async () => {
      let owner = linkedId(link);
      // A deferred open has not swept: the holder may be a `--rm` container whose nbox died, which the sweep removes.
      if (owner && existsSync(this.dirOf(owner)) && this.sweepDeferred) {
        await this.sweep();
        owner = linkedId(link);
      }
      if (owner && existsSync(this.dirOf(owner))) {
        throw new NboxError(
          'ERR_NBOX_CONFLICT',
          `Conflict. The container name "/${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
      }
      const temp = `${link}.${id}`;
      await symlink(linkTarget(id), temp);
      await rename(temp, link);
    });
  }

  private get namesDir(): string {
    return this.store.containerNamesDir;
  }

  private dirOf(id: string): string {
    return join(this.store.containersDir, id);
  }

  /** rename gives a container a new name (`docker rename`): the new name is
   * claimed first, so a failure leaves the old one in place. */
  async rename(record: ContainerRecord, newName: string): Promise<void> {
    const name = newName.replace(/^\//, '');
    if (!NAME_PATTERN.test(name)) {
      throw new NboxError('ERR_NBOX_USAGE', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    if (name === record.config.name) {
      throw new NboxError('ERR_NBOX_USAGE', 'Renaming a container with the same name as its current name');
    }
    await this.claimName(name, record.config.id);
    const old = record.config.name;
    record.config = { ...record.config, name };
    await this.store.writeFileAtomic(join(record.dir, 'config.json'), JSON.stringify(record.config, null, 2));
    const link = join(this.namesDir, old);
    if (linkedId(link) === record.config.id) await rm(link, { force: true });
  }

  /** readRecorded reads a container's record as its owner last wrote it, or null once it is removed. */
  async readRecorded(id: string): Promise<ContainerRecord | null> {
    return this.readRaw(id);
  }

  private async read(id: string): Promise<ContainerRecord | null> {
    const record = await this.readRaw(id);
    if (!record || !orphaned(record.state)) return record && { ...record, state: liveState(record.state, false) };
    // The owner writes the exit before it ends: read again, as it may have done so after the read above.
    const final = await this.readRaw(id);
    return final && { ...final, state: liveState(final.state) };
  }

  private async readRaw(id: string): Promise<ContainerRecord | null> {
    const dir = this.dirOf(id);
    let configText: string;
    let stateText: string;
    // Two small local files, read synchronously: an async readFile is four
    // trips through the thread pool (open, stat, read, close), which on a busy
    // machine cost an `exec` more than the reads themselves.
    try {
      configText = readFileSync(join(dir, 'config.json'), 'utf8');
      stateText = readFileSync(join(dir, 'state.json'), 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw err;
    }
    let config: ContainerConfig;
    let state: ContainerState;
    try {
      config = JSON.parse(configText) as ContainerConfig;
      state = JSON.parse(stateText) as ContainerState;
    } catch (err) {
      throw new NboxError('ERR_NBOX_STORE', `corrupt store file ${join(dir, 'state.json')}: ${(err as Error).message}`);
    }
    return { config, state, dir };
  }
}

// recordedState is the state in a container's state.json, or null once it is removed (or unreadable).
function recordedState(path: string): ContainerState | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ContainerState;
  } catch {
    return null;
  }
}

// linkTarget is a name link's target: the ID in base64url, 43 bytes, short enough for the inode to hold
// (an ext4 fast symlink). The 64 hex digits needed a block of their own, whose free on `rm` (a discard,
// on a store mounted with it) cost more than the rest of the name's handling.
function linkTarget(id: string): string {
  return Buffer.from(id, 'hex').toString('base64url');
}

// linkedId is the ID a name link names, or '' (no link, or not a link of nbox's); a store an older
// nbox wrote has the ID itself.
function linkedId(path: string): string {
  let target: string;
  try {
    target = readlinkSync(path);
  } catch {
    return '';
  }
  if (/^[0-9a-f]{64}$/.test(target)) return target;
  return /^[A-Za-z0-9_-]{43}$/.test(target) ? Buffer.from(target, 'base64url').toString('hex') : '';
}
