// Container operations of the library API: `Nbox` inherits them, so the facade
// stays one object while each half stays a readable size.
import type { Readable } from 'node:stream';

import { NboxError } from '../errors';
import { checkExecArguments, checkRunArguments } from './argument-checks';
import { faultPoint } from '../runtime/fault';
import type { Store } from '../image/store';
import type { ContainerRegistry } from '../runtime/container-registry';
import type { ContainerRecord } from '../runtime/container-record';
import type { ContainerInspect } from '../runtime/inspect';
import type { ContainerStats } from '../runtime/stats';
import type { UpdateOptions } from '../runtime/update';
import type { AttachSession, AttachStreams } from '../runtime/attach';
import type { ExecOptions, ExecProcess, ExecResult } from '../runtime/exec';
import type { Change } from '../runtime/container-diff';
import type { CommitOptions } from '../runtime/container-commit';
import type { CopyInOptions, PathStat } from '../runtime/container-copy';
import type { ContainerEvent, ContainerEventWatch } from '../runtime/container-events';
import type { SnapshotInfo } from '../runtime/snapshot-layers';
import type { ContainerSize, ImageSizeOf } from '../runtime/container-usage';
import { Container } from './container-handle';
import type { LogEntry, LogOptions, LogSource } from '../runtime/logs';
import { createContainer, runContainer } from '../runtime/run';
import type { RunOptions } from '../runtime/run-options';
import type { RunningContainer } from '../runtime/running-container';
import type { StdioOption } from '../runtime/stdio-option';
import type { ContainerRunOptions } from './harness-run';

/** ListContainersOptions are `docker ps`'s -a, --filter, -n (-l is last: 1) and -s. */
export interface ListContainersOptions {
  all?: boolean;
  /** `key=value` filters: id, name, label, status, ancestor, exited, health, volume. */
  filters?: string[];
  /** Only the newest N containers, stopped ones included. */
  last?: number;
  /** Each container's sizes: its writable layers are walked for them, so only when asked. */
  size?: boolean;
}

/** ListedContainer is a listed container's record, with its sizes when they were asked for. */
export type ListedContainer = ContainerRecord & { size?: ContainerSize };

/** ForegroundRunOptions run a container in the foreground, its output on `stdio` ('inherit' with `detach: false`). */
export type ForegroundRunOptions = RunOptions & ({ stdio: StdioOption } | { detach: false });

// newestFirst orders records as `docker ps` does. The ISO times compare as plain strings: localeCompare's
// first call loads ICU's collator, some 10 to 30 ms of a listing.
function newestFirst(a: ContainerRecord, b: ContainerRecord): number {
  return a.config.created < b.config.created ? 1 : a.config.created > b.config.created ? -1 : 0;
}

function isForeground(options: ForegroundRunOptions | ContainerRunOptions): options is ForegroundRunOptions {
  return (options as RunOptions).stdio !== undefined || options.detach === false;
}

/** ContainerApi is every operation on containers of one open store. */
export class ContainerApi {
  protected constructor(
    readonly store: Store,
    protected readonly containers: ContainerRegistry,
  ) {}

  /** run creates and starts a container. Where its output goes decides who runs it:
   * - without `stdio` (a test harness's form), its nbox-monitor runs it in the background: its output goes
   *   to the monitor's log file, read on demand (`logs()`), so a container whose output nobody reads never
   *   blocks. It is this process's (`session`, by default): when the process ends, SIGKILL included, it is
   *   removed; `detach: true` makes it outlive the process, as `docker run -d`'s does. `ports` are published, `files` copied in before it
   *   starts, and run resolves to a `Container` once every `wait` strategy holds within `deadline` ms (on
   *   failure the container is removed and the error names the strategy, with the last log lines).
   * - with `stdio` (or `detach: false`: stdio 'inherit'), it runs in the foreground as this process's child,
   *   its output on those streams (`docker run` without -d): a `RunningContainer`; await `.exited` for its end. */
  run(image: string, options: ForegroundRunOptions): Promise<RunningContainer>;
  run(image: string, options?: ContainerRunOptions): Promise<Container>;
  async run(image: string, options: ForegroundRunOptions | ContainerRunOptions = {}): Promise<RunningContainer | Container> {
    checkRunArguments('run', image, options);
    const record = await this.store.images.resolve(image);
    const ctx = { store: this.store, containers: this.containers };
    if (isForeground(options)) return runContainer(ctx, record, image, options);
    const { runInBackground } = await import('./harness-run');
    return runInBackground(this, ctx, record, image, options);
  }

  /** create puts a container on record without starting it (`docker create`); `startContainer` runs it under a monitor. */
  async create(image: string, options: Omit<RunOptions, 'detach' | 'stdio'> = {}): Promise<Container> {
    checkRunArguments('create', image, options);
    const record = await this.store.images.resolve(image);
    return new Container(this, (await createContainer({ store: this.store, containers: this.containers }, record, image, options)).config.id);
  }

  /** listContainers lists containers; running ones only unless `all`; with `size`, each with its sizes. */
  async listContainers(options: ListContainersOptions = {}): Promise<ListedContainer[]> {
    const [{ matchesContainerFilters, parseContainerFilters }, { isUp }] = await Promise.all([import('../runtime/container-filter'), import('../runtime/container-status')]);
    const filters = parseContainerFilters(options.filters ?? []);
    // As Docker: -n/-l and a status filter look at stopped containers too.
    const all = options.all || options.last !== undefined || filters.has('status') || filters.has('exited');
    const ancestors = new Map<string, string | undefined>();
    for (const value of filters.get('ancestor') ?? []) ancestors.set(value, (await this.store.images.resolve(value).catch(() => undefined))?.id);
    // before= and since= name a container that must exist, as the daemon's.
    const created = new Map<string, string>();
    for (const value of [...(filters.get('before') ?? []), ...(filters.get('since') ?? [])]) created.set(value, (await this.containers.resolve(value)).config.created);
    const shown = (await this.containers.list())
      .filter((c) => all || isUp(c.state))
      .filter((c) => matchesContainerFilters(c, filters, (record, value) => ancestors.get(value) === record.config.image, (value) => created.get(value)!))
      .sort(newestFirst);
    const listed = options.last === undefined ? shown : shown.slice(0, Math.max(0, options.last));
    if (!options.size) return listed;
    const [{ containerSize }, imageSizeOf] = await Promise.all([import('../runtime/container-usage'), this.imageSizes()]);
    return Promise.all(listed.map(async (record) => ({ ...record, size: await containerSize(record, imageSizeOf) })));
  }

  /** imageSizes gives the stored images' sizes, as `images` shows them: a container's virtual size adds its image's. */
  protected async imageSizes(): Promise<ImageSizeOf> {
    const sizes = new Map((await this.store.images.list()).map((image) => [image.id, image.size]));
    return (id) => sizes.get(id) ?? 0;
  }

  /** container finds a container by name, ID or ID prefix: a handle on it. */
  async container(ref: string): Promise<Container> {
    return new Container(this, (await this.containers.resolve(ref)).config.id);
  }

  /** containerRecord reads a container's config and current state. */
  containerRecord(ref: string): Promise<ContainerRecord> {
    return this.containers.resolve(ref);
  }

  /** attachContainer connects to a running -d container's monitor (`docker attach`): its output, and input
   * and resizes of its terminal. A stopped container is Docker's "You cannot attach to a stopped container". */
  async attachContainer(ref: string, streams: AttachStreams): Promise<AttachSession> {
    const { attachMonitor } = await import('../runtime/attach');
    return attachMonitor(await this.containers.resolve(ref), streams);
  }

  /** inspectContainer is a container as Docker's inspect shows it; with `size`, its SizeRw and SizeRootFs too (`inspect --size`). */
  async inspectContainer(ref: string, options: { size?: boolean } = {}): Promise<ContainerInspect> {
    const { inspectContainer } = await import('../runtime/inspect');
    const record = await this.containers.resolve(ref);
    if (!options.size) return inspectContainer(record, this.store);
    const [{ containerSize }, imageSizeOf] = await Promise.all([import('../runtime/container-usage'), this.imageSizes()]);
    return inspectContainer(record, this.store, await containerSize(record, imageSizeOf));
  }

  /** exportContainer streams a container's filesystem (its writable layer over its image) as one tar (`docker export`). */
  async exportContainer(ref: string): Promise<Readable> {
    const record = await this.containers.resolve(ref);
    const image = await this.store.images.resolve(record.config.image);
    const [{ flattenedTar }, { MergedTree }, { writableLayerDirs }] = await Promise.all([import('../image/tar/writer'), import('../image/merged-tree'), import('../runtime/snapshot-layers')]);
    return flattenedTar(new MergedTree([...writableLayerDirs(record.dir), ...(await this.store.layers.dirs(image.config))], { live: true }));
  }

  /** diffContainer lists what a container changed in its image (`docker diff`), snapshots included. */
  async diffContainer(ref: string): Promise<Change[]> {
    const [{ containerChanges }, { writableLayerDirs }] = await Promise.all([import('../runtime/container-diff'), import('../runtime/snapshot-layers')]);
    const record = await this.containers.resolve(ref);
    const image = await this.store.images.resolve(record.config.image);
    // Against the image: the upper dir and the container's snapshots are all its changes.
    return containerChanges(writableLayerDirs(record.dir), await this.store.layers.dirs(image.config));
  }

  /** commitContainer makes an image of a container's image plus its writable layer (`docker commit`); returns its ID. */
  async commitContainer(ref: string, options: CommitOptions = {}): Promise<string> {
    const { commitContainer } = await import('../runtime/container-commit');
    return commitContainer(this.store, await this.containers.resolve(ref), options);
  }

  /** statContainerPath describes a path in a container, as `docker cp` asks before copying. */
  async statContainerPath(ref: string, path: string, options: { followLink?: boolean } = {}): Promise<PathStat> {
    const { containerView, statPath } = await import('../runtime/container-copy');
    const view = await containerView(this.store, await this.containers.resolve(ref), ref, { live: true });
    try {
      return statPath(view, path, options.followLink);
    } finally {
      view.release();
    }
  }

  /** copyFromContainer streams a path in a container as a tar named by its base name (`docker cp CONTAINER:PATH -`). */
  async copyFromContainer(ref: string, path: string, options: { followLink?: boolean } = {}): Promise<Readable> {
    const { archivePath, containerView } = await import('../runtime/container-copy');
    const view = await containerView(this.store, await this.containers.resolve(ref), ref, { live: true });
    try {
      const tar = archivePath(view, path, options.followLink);
      tar.once('close', () => view.release());
      return tar;
    } catch (err) {
      view.release();
      throw err;
    }
  }

  /** copyToContainer unpacks a tar into a directory of a container (`docker cp - CONTAINER:PATH`). */
  async copyToContainer(ref: string, path: string, tar: Readable, options: CopyInOptions = {}): Promise<void> {
    const { containerView, extractInto } = await import('../runtime/container-copy');
    const view = await containerView(this.store, await this.containers.resolve(ref), ref, { live: true });
    try {
      await extractInto(this.store.root, view, path, tar, options);
    } finally {
      view.release();
    }
  }

  /** pruneContainers removes every stopped container (`docker container prune`):
   * their IDs and the bytes their writable layers held. */
  async pruneContainers(): Promise<{ deleted: string[]; spaceReclaimed: number }> {
    return (await import('../runtime/container-usage')).pruneStoppedContainers(this.containers);
  }

  /** killContainer sends a signal (a name such as `HUP` or `SIGHUP`, or a number; KILL by default) to a running container's init (`docker kill`). */
  async killContainer(ref: string, signal: string | number = 'KILL'): Promise<void> {
    const { parseSignal, signalContainer } = await import('../runtime/stop');
    const number = parseSignal(String(signal));
    const record = await this.containers.resolve(ref);
    const stopSignal = await this.configuredStopSignal(record);
    signalContainer(record, ref, number, stopSignal === undefined ? undefined : parseSignal(stopSignal));
  }

  /** stopContainer sends the container's stop signal (its --stop-signal, else the image's STOPSIGNAL, else
   * SIGTERM), and after `timeout` seconds (its --stop-timeout, else 10) kills it (`docker stop`); a stopped
   * container is left as it is. */
  async stopContainer(ref: string, options: { timeout?: number; signal?: string } = {}): Promise<void> {
    const { stopContainer, waitContainer } = await import('../runtime/stop');
    const record = await this.containers.resolve(ref);
    const { signal, timeout } = await this.stopChoice(record, options);
    await stopContainer(record, signal, timeout);
    // As Docker's: stop returns once the end is on record, not only once the init is gone; a restore or
    // start right after must not find it still running. A --rm one may be removed by then.
    await waitContainer(this.containers, record, ref).catch((err: unknown) => {
      if (!(err instanceof NboxError && err.code === 'ERR_NBOX_NO_SUCH_CONTAINER')) throw err;
    });
  }

  // configuredStopSignal is the container's own stop signal (--stop-signal), else its image's STOPSIGNAL.
  private async configuredStopSignal(record: ContainerRecord): Promise<string | undefined> {
    return record.config.stopSignal ?? (await this.store.images.config(record.config.image))?.config?.StopSignal;
  }

  // stopChoice is the signal and wait of a stop: as asked, else as the container was configured, else TERM and 10 s.
  private async stopChoice(record: ContainerRecord, options: { timeout?: number; signal?: string }): Promise<{ signal: number; timeout: number }> {
    const { parseSignal } = await import('../runtime/stop');
    const signal = parseSignal(options.signal ?? (await this.configuredStopSignal(record)) ?? 'TERM');
    return { signal, timeout: options.timeout ?? record.config.stopTimeout ?? 10 };
  }

  /** startContainer runs a stopped container again in the background under a new monitor, keeping its
   * writable layer and log (`docker start`); a running container is left as it is. With streams (`start -a`,
   * `-i`) it resolves to a session attached before the container's command ran: none of its output is
   * missed, and session.exitCode is its exit code. A running container is attached to as `attach` does. */
  async startContainer(ref: string, streams?: AttachStreams): Promise<AttachSession | undefined> {
    const { startContainer } = await import('../runtime/start');
    const started = await startContainer({ store: this.store, containers: this.containers }, ref, streams);
    if (!streams) return undefined;
    return started?.session ?? this.attachContainer(ref, streams);
  }

  /** restartContainer stops a container as stopContainer does, then starts it (`docker restart`). */
  async restartContainer(ref: string, options: { timeout?: number; signal?: string } = {}): Promise<void> {
    const { restartContainer } = await import('../runtime/start');
    const { signal, timeout } = await this.stopChoice(await this.containers.resolve(ref), options);
    await restartContainer({ store: this.store, containers: this.containers }, ref, signal, timeout);
  }

  /** snapshotContainer makes the container's writable layer a snapshot that restoreContainer goes back to: a
   * running container is stopped as stopContainer stops it (so a database flushes), and started again on a
   * fresh writable layer over the snapshot. Snapshots stack: each is a read-only layer over the last. No copy
   * is made, whatever the layer's size. */
  async snapshotContainer(ref: string, options: { timeout?: number; signal?: string } = {}): Promise<SnapshotInfo> {
    const { snapshotContainer } = await import('../runtime/container-snapshot');
    const { signal, timeout } = await this.stopChoice(await this.containers.resolve(ref), options);
    return snapshotContainer({ store: this.store, containers: this.containers }, ref, signal, timeout);
  }

  /** restoreContainer brings a container's files back to a snapshot (the newest unless `to` names one; 0 is the
   * image's own files), dropping the snapshots taken after it. A running container is killed and started again
   * with its ID, name, address and ports; a stopped one stays stopped. The cost is what changed since. */
  async restoreContainer(ref: string, to?: number): Promise<void> {
    const { restoreContainer } = await import('../runtime/container-snapshot');
    await restoreContainer({ store: this.store, containers: this.containers }, ref, to);
  }

  /** listSnapshots lists a container's snapshots, oldest first. */
  async listSnapshots(ref: string): Promise<SnapshotInfo[]> {
    const { listSnapshots } = await import('../runtime/snapshot-layers');
    return listSnapshots((await this.containers.resolve(ref)).dir);
  }

  /** pauseContainer freezes every process of a running container (`docker pause`); unpauseContainer thaws them. */
  async pauseContainer(ref: string): Promise<void> {
    const { pauseContainer } = await import('../runtime/stop');
    await pauseContainer(await this.containers.resolve(ref), true);
  }

  /** unpauseContainer thaws a paused container (`docker unpause`). */
  async unpauseContainer(ref: string): Promise<void> {
    const { pauseContainer } = await import('../runtime/stop');
    await pauseContainer(await this.containers.resolve(ref), false);
  }

  /** waitContainer resolves with a container's exit code once it has ended (`docker wait`). */
  async waitContainer(ref: string): Promise<number> {
    const { waitContainer } = await import('../runtime/stop');
    return waitContainer(this.containers, await this.containers.resolve(ref), ref);
  }

  /** topContainer lists a running container's processes with the host's `ps` (`docker top`). */
  async topContainer(ref: string, psArgs?: string[]): Promise<{ titles: string[]; processes: string[][] }> {
    const { containerTop } = await import('../runtime/top');
    return containerTop(await this.containers.resolve(ref), psArgs);
  }

  /** containerStats returns `docker stats`' figures: the named containers, else every running one (every one
   * with `all`). The CPU % is over intervalMs between two samples, or, without it, over each container's life
   * so far, read at once (as podman's first reading). */
  async containerStats(refs: string[] = [], options: { all?: boolean; intervalMs?: number } = {}): Promise<ContainerStats[]> {
    const [{ containerStats }, { isUp }] = await Promise.all([import('../runtime/stats'), import('../runtime/container-status')]);
    const records = refs.length > 0 ? await Promise.all(refs.map((ref) => this.containers.resolve(ref)))
      : (await this.containers.list()).filter((c) => options.all || isUp(c.state)).sort(newestFirst);
    return containerStats(records, options.intervalMs);
  }

  /** watchContainerEvents reports each container's create, start, die and destroy from now on, whichever
   * process does it (the CLI, a monitor, this one), until close(). */
  async watchContainerEvents(listener: (event: ContainerEvent) => void): Promise<ContainerEventWatch> {
    const { watchContainerEvents } = await import('../runtime/container-events');
    return watchContainerEvents(this.store.root.containersDir, listener);
  }

  /** updateContainer changes a container's limits and restart policy (`docker update`): at once in a running
   * container's cgroup, and in its record for inspect and the next start. */
  async updateContainer(ref: string, options: UpdateOptions): Promise<void> {
    const { updateContainer } = await import('../runtime/update');
    await updateContainer(this.containers, ref, options);
  }

  /** logs reads a container's json-file log (`docker logs`), oldest line first; with `follow`,
   * as it grows until the container stops. An unknown container fails the first read. */
  logs(ref: string, options: LogOptions = {}): ContainerLogs {
    return new ContainerLogs(async () => {
      const record = await this.containers.resolve(ref);
      if (record.config.logConfig?.type === 'none') throw new NboxError('ERR_NBOX_CONFLICT', 'configured logging driver does not support reading');
      const { containerPaths } = await import('../runtime/container-record');
      // Running as `ps` sees it: the record's live state, read again each time.
      const running = async () => (await this.containers.resolve(record.config.id).catch(() => null))?.state.status === 'running';
      return { path: containerPaths(record.dir).log, running };
    }, options);
  }

  /** renameContainer gives a container a new name (`docker rename`). */
  async renameContainer(ref: string, newName: string): Promise<void> {
    await this.containers.rename(await this.containers.resolve(ref), newName);
  }

  /** execStream starts cmd in a running container (`docker exec`); its output streams when piped. */
  async execStream(ref: string, cmd: string[], options: ExecOptions = {}): Promise<ExecProcess> {
    checkExecArguments(cmd, options);
    const { startExec } = await import('../runtime/exec');
    return startExec({ store: this.store, containers: this.containers }, ref, cmd, options);
  }

  /** exec runs cmd in a running container and waits for it: its exit code, and its output when piped (the default). */
  async exec(ref: string, cmd: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const { execToEnd } = await import('../runtime/exec');
    return execToEnd(await this.execStream(ref, cmd, options), options);
  }

  // killToEnd kills a running container and waits, as stop does, until its end is on record: its owner gives
  // its published ports back before it writes the end, so that they are free once `rm -f` returns, as Docker's.
  // The owner writes the end once it has reaped the init: the wait wakes on that write, where a poll for the
  // init's pid would oversleep its end by milliseconds.
  private async killToEnd(record: ContainerRecord, ref: string): Promise<void> {
    await (await import('../runtime/kill')).killContainer(record.state);
    await (await import('../runtime/stop')).waitContainer(this.containers, record, ref).catch((err: unknown) => {
      if (!(err instanceof NboxError && err.code === 'ERR_NBOX_NO_SUCH_CONTAINER')) throw err;
    });
  }

  /** removeContainer removes a stopped container, or with `force` kills it first; with `volumes` its anonymous volumes too (`rm -v`). */
  async removeContainer(ref: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<string> {
    // Under the container's lock: a `start` in progress finishes first, and is then killed too.
    const { id, release } = await this.containers.lockRef(ref);
    try {
      faultPoint('rm-locked');
      const record = await this.containers.resolve(id).catch(() => {
        throw new NboxError('ERR_NBOX_NO_SUCH_CONTAINER', `No such container: ${ref}`);
      });
      if (record.state.status === 'running' || record.state.status === 'restarting') {
        if (!options.force) {
          throw new NboxError('ERR_NBOX_CONFLICT', `cannot remove container "/${record.config.name}": container is ${record.state.status}: stop the container before removing or force remove`);
        }
        // The marker first: the monitor must not run it again while it goes.
        (await import('../runtime/stop-marker')).markStopped(record, { cancel: true });
        faultPoint('rm-marked');
        // Its leases before the kill: the monitor, seeing them gone as it ends, starts no sweep of them.
        await (await import('../runtime/container-network')).releaseContainer(record);
        faultPoint('rm-released');
        if (record.state.status === 'restarting') await (await import('../runtime/stop')).monitorGone(record.state);
        else await this.killToEnd(record, ref);
      }
      faultPoint('rm-stopped');
      await this.containers.remove(record);
      if (options.volumes) await (await import('../runtime/volume-ops')).removeAnonymousVolumes({ store: this.store, containers: this.containers }, record);
      return record.config.id;
    } finally {
      await release();
    }
  }
}

/** ContainerLogs is a container's log as entries, or as batches of them (one per chunk read: fewer awaits for a large log). */
export class ContainerLogs implements AsyncIterable<LogEntry> {
  constructor(
    private readonly source: () => Promise<LogSource>,
    private readonly options: LogOptions,
  ) {}

  async *batches(): AsyncGenerator<LogEntry[]> {
    const { readLogBatches } = await import('../runtime/logs');
    yield* readLogBatches(await this.source(), this.options);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<LogEntry> {
    for await (const batch of this.batches()) yield* batch;
  }
}
