// The library entry point: everything the CLI can do, a program can do.
// Module loading is part of every CLI start, so verbs load what only they use on demand.
import type { Readable } from 'node:stream';

import { NboxError } from './errors';
import type { BuilderOptions } from './builder/build';
import type { BuildEvent } from './builder/output';
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
import { ContainerRegistry } from './runtime/container-registry';
import { keepSpareMonitor } from './runtime/monitor-spawn';
import { ContainerApi } from './api/containers';
import { VolumeApi } from './api/volumes';
import { NetworkApi, testNetwork, type TestNetwork } from './api/networks';
import type { CreateNetworkOptions } from './runtime/user-networks';

export { NboxError, SysError } from './errors';
export { VERSION } from './version';
export { endProcessNow } from './runtime/process-end';
export type { ImageRecord } from './image/images';
export type { RemoveImageResult } from './image/rmi';
export type { LoadedImage } from './image/load';
export type { Credentials } from './registry/credentials';
export type { PullResult } from './registry/pull';
export type { PushResult } from './registry/push';
export type { TransferOptions, TransferProgress } from './registry/transfer';
export type { ImageInspect } from './image/inspect';
export type { ImagePruneResult, PrunedImage } from './image/prune';
export type { UsageItem, UsageLine } from './image/disk-usage';
export type { BuildEvent, BuildOutput } from './builder/output';
export type { HistoryItem } from './image/history';
export type { ContainerRecord } from './runtime/container-record';
export type { ContainerState, HealthState } from './runtime/container-state';
export type { HealthStatus, StateName } from './runtime/container-status';
export type { HealthcheckOptions, HealthConfig } from './runtime/health-config';
export type { RestartPolicy, RestartPolicyName } from './runtime/restart-policy';
export type { ContainerInspect } from './runtime/inspect';
export type { Change } from './runtime/container-diff';
export type { CommitOptions } from './runtime/container-commit';
export type { CopyInOptions, PathStat } from './runtime/container-copy';
export type { SnapshotInfo } from './runtime/snapshot-layers';
export type { DetachedContainer } from './runtime/monitor';
export type { Exit, RunningContainer } from './runtime/running-container';
export type { RunOptions, VolumeBind } from './runtime/run-options';
export type { StdioOption } from './runtime/stdio-option';
export type { NetworkMode } from './runtime/network';
export type { PortBinding } from './runtime/ports';
export { formatPortLines, hostAddress, portKey } from './runtime/ports';
export { networkNames, networkSettings, psPorts, publishedPorts } from './runtime/network-settings';
export { containerMounts, type MountInspect } from './runtime/container-mounts';
export type { BridgeNetwork } from './runtime/bridge-network';
/** defaultBridge is the default bridge network's name, bridge, subnet and gateway. */
export const defaultBridge = () => (require('./runtime/bridge-network') as typeof import('./runtime/bridge-network')).DEFAULT_BRIDGE;
export type { TerminalSize } from './runtime/terminal';
export type { AttachSession, AttachStreams } from './runtime/attach';
export type { ExecOptions, ExecProcess, ExecResult } from './runtime/exec';

export { ContainerStartError } from './runtime/launch';
export { ExecError } from './runtime/exec';
export type { Resources, ResourceFlags, Ulimit } from './runtime/resources';
export type { ContainerStats } from './runtime/stats';
export type { ContainerEvent, ContainerEventAction, ContainerEventWatch } from './runtime/container-events';
export type { UpdateOptions } from './runtime/update';
export { resourcesFromFlags } from './runtime/resources';
export { hostLimitWarnings as limitWarnings } from './runtime/cgroup';
export type { Container } from './api/container-handle';
export type { WaitStrategy, WaitTarget } from './api/wait-strategies';
export { WaitError, WaitTimeoutError } from './api/wait-errors';
export type { ContainerRunOptions, FileCopy, PortsOption } from './api/harness-run';
export type { ContainerLogs, ForegroundRunOptions, ListContainersOptions, ListedContainer } from './api/containers';
export type { ContainerSize } from './runtime/container-usage';
export type { VolumeApi } from './api/volumes';
export type { NetworkApi, TestNetwork } from './api/networks';
export type { NetworkRecord, CreateNetworkOptions } from './runtime/user-networks';
export type { ConnectOptions, NetworkInspect, NetworkPruneResult } from './runtime/network-ops';
export type { VolumeRecord } from './runtime/volumes';
export type { CreateVolumeOptions, VolumeInspect, VolumePruneResult } from './runtime/volume-ops';
export type { MountSpec, MountType, ParsedMount } from './runtime/mount-spec';
export type { LogEntry, LogOptions, LogStream } from './runtime/logs';
// What the CLI prints and parses as the library does, for programs too; the
// modules behind all but the reference helpers load on the first call.
export { canonicalName, familiarReference, splitReference } from './image/reference';
export { healthStatus, isZeroTime, stateName } from './runtime/container-status';
export { humanDuration, listedCommand, psStatus, since } from './runtime/status-text';
export const isRemoteContext = onFirstCall(() => require('./builder/remote-context') as typeof import('./builder/remote-context'), 'isRemoteContext');
export const consoleOutput = onFirstCall(() => require('./builder/output') as typeof import('./builder/output'), 'consoleOutput');
export const pullHeader = onFirstCall(() => require('./registry/pull-report') as typeof import('./registry/pull-report'), 'pullHeader');
export const pullStatus = onFirstCall(() => require('./registry/pull-report') as typeof import('./registry/pull-report'), 'pullStatus');
export const openSpecial = onFirstCall(() => require('./image/output-target') as typeof import('./image/output-target'), 'openSpecial');
export const volumeInspect = onFirstCall(() => require('./runtime/volume-ops') as typeof import('./runtime/volume-ops'), 'volumeInspect');
export const resolveOutput = onFirstCall(() => require('./image/output-target') as typeof import('./image/output-target'), 'resolveOutput');
export const parseLogTime = onFirstCall(() => require('./runtime/log-time') as typeof import('./runtime/log-time'), 'parseLogTime');
export const parseDetachKeys = onFirstCall(() => require('./runtime/detach-keys') as typeof import('./runtime/detach-keys'), 'parseDetachKeys');
export const parseVolumeFlag = onFirstCall(() => require('./runtime/mount-spec') as typeof import('./runtime/mount-spec'), 'parseVolumeFlag');
export const parseMountFlag = onFirstCall(() => require('./runtime/mount-spec') as typeof import('./runtime/mount-spec'), 'parseMountFlag');
export const detachFilter = onFirstCall(() => require('./runtime/detach-keys') as typeof import('./runtime/detach-keys'), 'detachFilter');
const waitStrategies = () => require('./api/wait-strategies') as typeof import('./api/wait-strategies');
/** Wait holds the readiness strategies `Container.waitFor` takes (loaded on first use: the CLI never needs them). */
export const Wait = {
  forLog: onFirstCall(waitStrategies, 'forLog'),
  forExec: onFirstCall(waitStrategies, 'forExec'),
  forHealthcheck: onFirstCall(waitStrategies, 'forHealthcheck'),
  forPort: onFirstCall(waitStrategies, 'forPort'),
  forHttp: onFirstCall(waitStrategies, 'forHttp'),
};

// onFirstCall is module[name], a function whose module load() requires when it is first called.
function onFirstCall<M, K extends keyof M>(load: () => M, name: K): M[K] {
  return ((...args: unknown[]) => (load()[name] as (...args: unknown[]) => unknown)(...args)) as M[K];
}

/** DEFAULT_ROOT is where the store lives unless NBOX_ROOT or `root` says otherwise. */
export const DEFAULT_ROOT = '/var/lib/nbox';

/** OpenOptions choose the store. */
export interface OpenOptions {
  root?: string;
  /** Skips the open's sweep of containers (and cgroups) whose nbox died, for a
   * caller that only resolves a container, as `exec`: that one is still swept
   * first if it is orphaned, so it reads as after a full open. Others stay
   * until the next full open; listings meanwhile show them exited. */
  deferSweep?: boolean;
  /** Keeps one container monitor spawned ahead, so that the next detached run or start need not wait for one
   * (default true: for a process that starts containers one after another). A CLI verb turns it off. */
  spareMonitor?: boolean;
}

/** BuildOptions are `docker build`'s options, as data: a `context` (directory, tarball, git or http URL, or a
 * tar stream) with its Dockerfile or the one `file` names, or a `dockerfile` given as text, with or without a
 * context (none: an empty one). */
export interface BuildOptions extends Omit<BuilderOptions, 'dockerfile' | 'dockerfileText'> {
  /** The Dockerfile itself, as text. */
  dockerfile?: string;
  /** -f: the Dockerfile's path, relative to the context or absolute; '-' reads stdin. Default <context>/Dockerfile. */
  file?: string;
  /** Progress as one stream of events (instead of `output`'s calls). */
  onProgress?: (event: BuildEvent) => void;
  /** How to reach registries for base images. */
  registry?: Pick<TransferOptions, 'tlsVerify' | 'authFile'>;
}

/** Nbox is one open store and the operations on it: images here, containers in ContainerApi. */
export class Nbox extends ContainerApi {

  /** open opens (creating if needed) the store; containers need root. */
  static async open(options: OpenOptions = {}): Promise<Nbox> {
    if (process.getuid?.() !== 0) {
      throw new NboxError('ERR_NBOX_NOT_ROOT', 'nbox needs root to create namespaces and mounts (try sudo)');
    }
    const store = await Store.open(options.root ?? process.env.NBOX_ROOT ?? DEFAULT_ROOT);
    const containers = new ContainerRegistry(store.root);
    keepSpareMonitor(options.spareMonitor ?? true);
    // Containers whose nbox was killed are ended now: a container can clear its
    // parent-death signal, but it cannot leave its cgroup.
    if (options.deferSweep) containers.deferSweep();
    else {
      await containers.sweep();
      // Session containers whose owner died with its reaper (session.ts) go now.
      await (await import('./runtime/session')).sweepSessions({ store, containers });
    }
    return new Nbox(store, containers);
  }

  /** removeTempFiles removes what this process has under way in the store (its tmp/ entries: a pull's or a
   * load's layers not yet stored): for a process about to exit in the middle of an operation, as the CLI on
   * SIGINT. What is in flight then fails; stored images and containers are untouched. */
  async removeTempFiles(): Promise<void> {
    await this.store.root.removeOwnTempEntries();
  }

  get root(): string {
    return this.store.root.dir;
  }

  /** volumes are the store's volumes (`docker volume …`). */
  get volumes(): VolumeApi {
    return new VolumeApi(this.store, this.containers);
  }

  /** networks are the store's user networks and Docker's predefined ones (`docker network …`). */
  get networks(): NetworkApi {
    return new NetworkApi(this.store, this.containers);
  }

  /** network makes a user network for a test (name: a random one when absent); `await using` removes it at
   * the end of the scope, after the containers on it (declared later) are disposed. */
  network(name?: string, options: Omit<CreateNetworkOptions, 'name'> = {}): Promise<TestNetwork> {
    return testNetwork(this.networks, name, options);
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
    const [{ buildImage }, { eventOutput }] = await Promise.all([import('./builder/build'), import('./builder/output')]);
    const { dockerfile, file, ...rest } = options;
    const output = options.output ?? (options.onProgress ? eventOutput(options.onProgress) : undefined);
    return buildImage(this.store, { ...rest, dockerfile: file, dockerfileText: dockerfile, output }, async (ref, output) => {
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

  /** diskUsage is `docker system df`: images, containers (their writable layers, and with their images') and build cache. */
  async diskUsage(): Promise<{ images: UsageLine; containers: UsageLine; buildCache: UsageLine }> {
    const [{ imageUsage }, { buildCacheUsage }, { containerUsage }] = await Promise.all([
      import('./image/disk-usage'), import('./builder/cache-prune'), import('./runtime/container-usage'),
    ]);
    const containers = await this.containers.list();
    const inUse = new Set(containers.map((c) => c.config.image));
    return {
      images: await imageUsage(this.store, (await this.images()).length, inUse),
      containers: await containerUsage(containers, await this.imageSizes()),
      buildCache: await buildCacheUsage(this.store),
    };
  }

  /** pruneBuildCache removes the step cache and the RUN cache mounts (`docker builder prune`). */
  async pruneBuildCache(): Promise<{ deleted: string[]; spaceReclaimed: number }> {
    return (await import('./builder/cache-prune')).pruneBuildCache(this.store);
  }
}
