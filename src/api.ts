// The library entry point: everything the CLI can do, a program can do.
// Module loading is part of every CLI start, so verbs load what only they use on demand.
import type { Readable } from 'node:stream';

import { NboxError } from './errors';
import type { BuilderOptions } from './builder/build';
import type { ImportOptions } from './image/import';
import type { HistoryItem } from './image/history';
import type { LoadedImage } from './image/load';
import type { SaveFormat } from './image/save';
import type { Credentials } from './registry/credentials';
import type { PullResult } from './registry/pull';
import type { PushResult } from './registry/push';
import type { TransferOptions } from './registry/transfer';
import type { ImageInspect } from './image/inspect';
import type { ImagePruneResult } from './image/prune';
import type { UsageLine } from './image/disk-usage';
import type { ImageRecord } from './image/images';
import type { ListOptions } from './image/reference-filter';
import type { RemoveImageResult } from './image/rmi';
import { Store } from './image/store';
import { sweepOrphanCgroups } from './runtime/cgroup';
import { ContainerRegistry, type ContainerRecord } from './runtime/containers';
import type { ContainerInspect } from './runtime/inspect';
import type { ExecOptions, ExecProcess, ExecResult } from './runtime/exec';
import type { Change } from './runtime/container-diff';
import type { CommitOptions } from './runtime/container-commit';
import type { CopyInOptions, PathStat } from './runtime/container-copy';
import { runContainer, type RunOptions, type RunningContainer } from './runtime/run';

export { NboxError, SysError } from './errors';
export type { ImageRecord } from './image/images';
export type { RemoveImageResult } from './image/rmi';
export type { LoadedImage } from './image/load';
export type { Credentials } from './registry/credentials';
export type { PullResult } from './registry/pull';
export type { PushResult } from './registry/push';
export type { TransferOptions, TransferProgress } from './registry/transfer';
export type { ImageInspect } from './image/inspect';
export type { ImagePruneResult, PrunedImage } from './image/prune';
export type { UsageLine } from './image/disk-usage';
export type { BuildOutput } from './builder/output';
export type { HistoryItem } from './image/history';
export type { ContainerRecord } from './runtime/containers';
export type { ContainerInspect } from './runtime/inspect';
export type { Change } from './runtime/container-diff';
export type { CommitOptions } from './runtime/container-commit';
export type { CopyInOptions, PathStat } from './runtime/container-copy';
export type { Exit, RunOptions, RunningContainer, StdioOption, VolumeBind } from './runtime/run';
export type { NetworkMode } from './runtime/network';
export type { ExecOptions, ExecProcess, ExecResult } from './runtime/exec';

export { ContainerStartError } from './runtime/run';
// What the CLI prints and parses as the library does, for programs too; the
// modules behind all but the reference helpers load on the first call.
export { canonicalName, splitReference } from './image/reference';
export const isRemoteContext = onFirstCall(() => require('./builder/remote-context') as typeof import('./builder/remote-context'), 'isRemoteContext');
export const consoleOutput = onFirstCall(() => require('./builder/output') as typeof import('./builder/output'), 'consoleOutput');
export const pullHeader = onFirstCall(() => require('./registry/pull-report') as typeof import('./registry/pull-report'), 'pullHeader');
export const pullStatus = onFirstCall(() => require('./registry/pull-report') as typeof import('./registry/pull-report'), 'pullStatus');
export const openSpecial = onFirstCall(() => require('./image/output-target') as typeof import('./image/output-target'), 'openSpecial');
export const resolveOutput = onFirstCall(() => require('./image/output-target') as typeof import('./image/output-target'), 'resolveOutput');

// onFirstCall is module[name], a function whose module load() requires when it is first called.
function onFirstCall<M, K extends keyof M>(load: () => M, name: K): M[K] {
  return ((...args: unknown[]) => (load()[name] as (...args: unknown[]) => unknown)(...args)) as M[K];
}

/** DEFAULT_ROOT is where the store lives unless NBOX_ROOT or `root` says otherwise. */
export const DEFAULT_ROOT = '/var/lib/nbox';

/** OpenOptions choose the store. */
export interface OpenOptions {
  root?: string;
}

/** ListContainersOptions are `docker ps`'s -a, --filter and -n (-l is last: 1). */
export interface ListContainersOptions {
  all?: boolean;
  /** `key=value` filters: id, name, label, status, ancestor, exited. */
  filters?: string[];
  /** Only the newest N containers, stopped ones included. */
  last?: number;
}

/** BuildOptions are `docker build`'s options, as data. */
export interface BuildOptions extends BuilderOptions {
  /** How to reach registries for base images. */
  registry?: Pick<TransferOptions, 'tlsVerify' | 'authFile'>;
}

/** Nbox is one open store and the operations on it. */
export class Nbox {
  private constructor(
    readonly store: Store,
    private readonly containers: ContainerRegistry,
  ) {}

  /** open opens (creating if needed) the store; containers need root. */
  static async open(options: OpenOptions = {}): Promise<Nbox> {
    if (process.getuid?.() !== 0) {
      throw new NboxError('ERR_NBOX_NOT_ROOT', 'nbox needs root to create namespaces and mounts (try sudo)');
    }
    const store = await Store.open(options.root ?? process.env.NBOX_ROOT ?? DEFAULT_ROOT);
    const containers = new ContainerRegistry(store.root);
    // Containers whose nbox was killed are ended now: a container can clear its
    // parent-death signal, but it cannot leave its cgroup.
    await containers.sweepOrphans();
    await sweepOrphanCgroups();
    return new Nbox(store, containers);
  }

  get root(): string {
    return this.store.root.dir;
  }

  /** run creates and starts a container; await `.exited` for its end. */
  async run(image: string, options: RunOptions = {}): Promise<RunningContainer> {
    const record = await this.store.images.resolve(image);
    return runContainer({ store: this.store, containers: this.containers }, record, image, options);
  }

  /** images lists the store's images; intermediate build images (untagged
   * parents of other images) only with `all`, as `docker images -a`. With a
   * `reference` pattern (`docker images REPOSITORY[:TAG]`), only the images
   * with a name it matches, each with those names alone, as Docker lists them. */
  async images(options: ListOptions = {}): Promise<ImageRecord[]> {
    const { listedImages } = await import('./image/reference-filter');
    return listedImages(await this.store.images.list(), options);
  }

  /** image resolves a name, ID or ID prefix to an image. */
  image(ref: string): Promise<ImageRecord> {
    return this.store.images.resolve(ref);
  }

  /** inspectImage is `docker image inspect`'s JSON for one image. */
  async inspectImage(ref: string): Promise<ImageInspect> {
    const { inspectImage } = await import('./image/inspect');
    return inspectImage(await this.store.images.resolve(ref));
  }

  /** history lists an image's steps, newest first (`docker history`). */
  async history(ref: string): Promise<HistoryItem[]> {
    const { imageHistory } = await import('./image/history');
    return imageHistory(this.store, await this.store.images.resolve(ref));
  }

  /** build builds a Dockerfile into an image and tags it; returns the image ID. */
  async build(options: BuildOptions): Promise<string> {
    const { buildImage } = await import('./builder/build');
    return buildImage(this.store, options, async (ref, output) => {
      const report = (await import('./registry/pull-report')).plainPullLines(ref, output.note);
      report.done(await this.pull(ref, { ...options.registry, progress: report.progress }));
    });
  }

  /** importImage makes a one-layer image from a rootfs tarball (`docker import`). */
  async importImage(tar: Readable, options: ImportOptions = {}): Promise<string> {
    const { importImage } = await import('./image/import');
    return importImage(this.store, tar, options);
  }

  /** saveImages streams images as one archive (`docker save`): Docker's format (docker-archive
   * and OCI layout at once), or `oci` (OCI layout, gzip layers). A bare name saves all its tags. */
  async saveImages(refs: string[], options: { format?: SaveFormat } = {}): Promise<Readable> {
    const { resolveSaveRefs, saveImages } = await import('./image/save');
    return await saveImages(this.store, await resolveSaveRefs(this.store, refs), options.format ?? 'docker');
  }

  /** loadImages stores the images of an archive (`docker load`, either format, gzip or not); all or nothing. */
  async loadImages(archive: Readable): Promise<LoadedImage[]> {
    const { loadImages } = await import('./image/load');
    return loadImages(this.store, archive);
  }

  /** pull fetches an image from its registry (`docker pull`); the store gains it and its tag, or nothing. */
  async pull(ref: string, options: TransferOptions = {}): Promise<PullResult> {
    const { pullImage } = await import('./registry/pull');
    return pullImage(this.store, ref, options);
  }

  /** push uploads an image to the registry its name points at (`docker push`). */
  async push(ref: string, options: TransferOptions = {}): Promise<PushResult> {
    const { pushImage } = await import('./registry/push');
    return pushImage(this.store, ref, options);
  }

  /** login checks credentials against a registry and saves them where Docker keeps them (mode 0600). */
  async login(server: string, credentials: Credentials, options: Pick<TransferOptions, 'tlsVerify' | 'authFile'> = {}): Promise<string> {
    const { normalizeRegistry } = await import('./registry/reference');
    const { RegistryClient } = await import('./registry/client');
    const { saveCredentials } = await import('./registry/credentials');
    const registry = normalizeRegistry(server);
    const client = new RegistryClient({ registry, credentials, tlsVerify: options.tlsVerify });
    try {
      await client.ping();
    } finally {
      client.close();
    }
    await saveCredentials(registry, credentials, { path: options.authFile });
    return registry;
  }

  /** logout forgets the saved credentials of a registry; loggedIn says whether there were any. */
  async logout(server: string, options: Pick<TransferOptions, 'authFile'> = {}): Promise<{ registry: string; loggedIn: boolean }> {
    const { normalizeRegistry } = await import('./registry/reference');
    const { lookupCredentials, removeCredentials } = await import('./registry/credentials');
    const registry = normalizeRegistry(server);
    if (!(await lookupCredentials(registry, { path: options.authFile }))) return { registry, loggedIn: false };
    await removeCredentials(registry, { path: options.authFile });
    return { registry, loggedIn: true };
  }

  /** tag gives an image another name. */
  async tag(source: string, target: string): Promise<void> {
    await this.store.images.tag(source, target);
  }

  /** removeImage untags a name, or deletes an image no container uses (`docker rmi`). */
  async removeImage(ref: string, options: { force?: boolean } = {}): Promise<RemoveImageResult> {
    const { removeImage } = await import('./image/rmi');
    const users = async () => (await this.containers.list()).map((c) => ({ id: c.config.id, image: c.config.image }));
    return this.store.root.withLock(() => removeImage(this.store.images, { ref, force: options.force ?? false, users }));
  }

  /** pruneImages removes the dangling images, or with `all` every image no
   * container uses (`docker image prune [-a]`), as `rmi` would remove each. */
  async pruneImages(options: { all?: boolean } = {}): Promise<ImagePruneResult> {
    const { pruneImages } = await import('./image/prune');
    return this.store.root.withLock(async () => {
      const inUse = new Set((await this.containers.list()).map((c) => c.config.image));
      return pruneImages(this.store, { inUse, remove: (ref) => this.removeImage(ref) }, options.all ?? false);
    });
  }

  /** diskUsage is `docker system df`: images, containers (their writable layers) and build cache. */
  async diskUsage(): Promise<{ images: UsageLine; containers: UsageLine; buildCache: UsageLine }> {
    const [{ imageUsage }, { buildCacheUsage }, { containerUsage }] = await Promise.all([
      import('./image/disk-usage'), import('./builder/cache-prune'), import('./runtime/container-usage'),
    ]);
    const containers = await this.containers.list();
    const inUse = new Set(containers.map((c) => c.config.image));
    return {
      images: await imageUsage(this.store, (await this.images()).length, inUse),
      containers: await containerUsage(containers),
      buildCache: await buildCacheUsage(this.store),
    };
  }

  /** pruneBuildCache removes the step cache and the RUN cache mounts (`docker builder prune`). */
  async pruneBuildCache(): Promise<{ deleted: string[]; spaceReclaimed: number }> {
    return (await import('./builder/cache-prune')).pruneBuildCache(this.store);
  }

  /** listContainers lists containers; running ones only unless `all`. */
  async listContainers(options: ListContainersOptions = {}): Promise<ContainerRecord[]> {
    const { matchesContainerFilters, parseContainerFilters } = await import('./runtime/container-filter');
    const filters = parseContainerFilters(options.filters ?? []);
    // As Docker: -n/-l and a status filter look at stopped containers too.
    const all = options.all || options.last !== undefined || filters.has('status') || filters.has('exited');
    const ancestors = new Map<string, string | undefined>();
    for (const value of filters.get('ancestor') ?? []) ancestors.set(value, (await this.store.images.resolve(value).catch(() => undefined))?.id);
    const shown = (await this.containers.list())
      .filter((c) => all || c.state.status === 'running')
      .filter((c) => matchesContainerFilters(c, filters, (record, value) => ancestors.get(value) === record.config.image))
      .sort((a, b) => b.config.created.localeCompare(a.config.created));
    return options.last === undefined ? shown : shown.slice(0, Math.max(0, options.last));
  }

  /** container resolves a name, ID or ID prefix to a container. */
  container(ref: string): Promise<ContainerRecord> {
    return this.containers.resolve(ref);
  }

  /** inspectContainer is `docker container inspect`'s JSON for one container. */
  async inspectContainer(ref: string): Promise<ContainerInspect> {
    const { inspectContainer } = await import('./runtime/inspect');
    return inspectContainer(await this.containers.resolve(ref), this.store);
  }

  /** exportContainer streams a container's filesystem (its writable layer over its image) as one tar (`docker export`). */
  async exportContainer(ref: string): Promise<Readable> {
    const record = await this.containers.resolve(ref);
    const image = await this.store.images.resolve(record.config.image);
    const [{ flattenedTar }, { containerPaths }] = await Promise.all([import('./image/tar/writer'), import('./runtime/containers')]);
    return flattenedTar([containerPaths(record.dir).upper, ...(await this.store.layers.dirs(image.config))]);
  }

  /** diffContainer lists what a container changed in its image (`docker diff`). */
  async diffContainer(ref: string): Promise<Change[]> {
    const [{ containerChanges }, { containerView }] = await Promise.all([import('./runtime/container-diff'), import('./runtime/container-copy')]);
    const view = await containerView(this.store, await this.containers.resolve(ref), ref);
    return containerChanges(view.upper, view.lowers);
  }

  /** commitContainer makes an image of a container's image plus its writable layer (`docker commit`); returns its ID. */
  async commitContainer(ref: string, options: CommitOptions = {}): Promise<string> {
    const { commitContainer } = await import('./runtime/container-commit');
    return commitContainer(this.store, await this.containers.resolve(ref), options);
  }

  /** statContainerPath describes a path in a container, as `docker cp` asks before copying. */
  async statContainerPath(ref: string, path: string, options: { followLink?: boolean } = {}): Promise<PathStat> {
    const { containerView, statPath } = await import('./runtime/container-copy');
    return statPath(await containerView(this.store, await this.containers.resolve(ref), ref), path, options.followLink);
  }

  /** copyFromContainer streams a path in a container as a tar named by its base name (`docker cp CONTAINER:PATH -`). */
  async copyFromContainer(ref: string, path: string, options: { followLink?: boolean } = {}): Promise<Readable> {
    const { archivePath, containerView } = await import('./runtime/container-copy');
    return archivePath(await containerView(this.store, await this.containers.resolve(ref), ref), path, options.followLink);
  }

  /** copyToContainer unpacks a tar into a directory of a container (`docker cp - CONTAINER:PATH`). */
  async copyToContainer(ref: string, path: string, tar: Readable, options: CopyInOptions = {}): Promise<void> {
    const { containerView, extractInto } = await import('./runtime/container-copy');
    await extractInto(this.store.root, await containerView(this.store, await this.containers.resolve(ref), ref), path, tar, options);
  }

  /** pruneContainers removes every stopped container (`docker container prune`):
   * their IDs and the bytes their writable layers held. */
  async pruneContainers(): Promise<{ deleted: string[]; spaceReclaimed: number }> {
    return (await import('./runtime/container-usage')).pruneStoppedContainers(this.containers);
  }

  /** killContainer sends a signal (a name such as `HUP` or `SIGHUP`, or a number; KILL by default) to a running container's init (`docker kill`). */
  async killContainer(ref: string, signal: string | number = 'KILL'): Promise<void> {
    const { parseSignal, signalContainer } = await import('./runtime/stop');
    const number = parseSignal(String(signal));
    signalContainer(await this.containers.resolve(ref), ref, number);
  }

  /** stopContainer sends the container's stop signal (the image's STOPSIGNAL, else SIGTERM), and after
   * `timeout` seconds (10 by default) kills it (`docker stop`); a stopped container is left as it is. */
  async stopContainer(ref: string, options: { timeout?: number; signal?: string } = {}): Promise<void> {
    const { parseSignal, stopContainer } = await import('./runtime/stop');
    const record = await this.containers.resolve(ref);
    const imageSignal = (await this.store.images.config(record.config.image))?.config?.StopSignal;
    await stopContainer(record, parseSignal(options.signal ?? imageSignal ?? 'TERM'), options.timeout ?? 10);
  }

  /** pauseContainer freezes every process of a running container (`docker pause`); unpauseContainer thaws them. */
  async pauseContainer(ref: string): Promise<void> {
    const { pauseContainer } = await import('./runtime/stop');
    await pauseContainer(this.containers, await this.containers.resolve(ref), true);
  }

  /** unpauseContainer thaws a paused container (`docker unpause`). */
  async unpauseContainer(ref: string): Promise<void> {
    const { pauseContainer } = await import('./runtime/stop');
    await pauseContainer(this.containers, await this.containers.resolve(ref), false);
  }

  /** waitContainer resolves with a container's exit code once it has ended (`docker wait`). */
  async waitContainer(ref: string): Promise<number> {
    const { waitContainer } = await import('./runtime/stop');
    return waitContainer(this.containers, await this.containers.resolve(ref), ref);
  }

  /** topContainer lists a running container's processes with the host's `ps` (`docker top`). */
  async topContainer(ref: string, psArgs?: string[]): Promise<{ titles: string[]; processes: string[][] }> {
    const { containerTop } = await import('./runtime/top');
    return containerTop(await this.containers.resolve(ref), psArgs);
  }

  /** renameContainer gives a container a new name (`docker rename`). */
  async renameContainer(ref: string, newName: string): Promise<void> {
    await this.containers.rename(await this.containers.resolve(ref), newName);
  }

  /** execStream starts cmd in a running container (`docker exec`); its output streams when piped. */
  async execStream(ref: string, cmd: string[], options: ExecOptions = {}): Promise<ExecProcess> {
    const { startExec } = await import('./runtime/exec');
    return startExec({ store: this.store, containers: this.containers }, ref, cmd, options);
  }

  /** exec runs cmd in a running container and waits for it: its exit code, and its output when piped (the default). */
  async exec(ref: string, cmd: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const { execToEnd } = await import('./runtime/exec');
    return execToEnd(await this.execStream(ref, cmd, options), options);
  }


  /** removeContainer removes a stopped container, or with `force` kills it first. */
  async removeContainer(ref: string, options: { force?: boolean } = {}): Promise<string> {
    const record = await this.containers.resolve(ref);
    if (record.state.status === 'running') {
      if (!options.force) {
        throw new NboxError('ERR_NBOX_CONFLICT', `cannot remove container "${ref}": container is running: stop the container before removing or force remove`);
      }
      await (await import('./runtime/kill')).killAndWait(record.state);
    }
    await this.containers.remove(record);
    return record.config.id;
  }
}
