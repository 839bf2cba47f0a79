// A handle on one container of the store, found by name or ID: what a program
// keeps to work with a container it started, also from another process.
import { posix } from 'node:path';
import type { Readable } from 'node:stream';

import { NboxError } from '../errors';
import type { CommitOptions } from '../runtime/container-commit';
import type { CopyInOptions } from '../runtime/container-copy';
import type { ContainerRecord } from '../runtime/container-record';
import type { ExecOptions, ExecProcess, ExecResult } from '../runtime/exec';
import type { ContainerInspect } from '../runtime/inspect';
import type { LogOptions } from '../runtime/logs';
import type { SnapshotInfo } from '../runtime/snapshot-layers';
import type { ContainerApi, ContainerLogs } from './containers';
import type { WaitStrategy } from './wait-strategies';

/** Container names one container by its full ID, so a rename does not lose it. */
export class Container implements AsyncDisposable {
  constructor(
    private readonly api: ContainerApi,
    readonly id: string,
  ) {}

  /** record reads the container's config and current state from the store. */
  record(): Promise<ContainerRecord> {
    return this.api.containerRecord(this.id);
  }

  inspect(): Promise<ContainerInspect> {
    return this.api.inspectContainer(this.id);
  }

  /** logs reads the container's log (`docker logs`): entries, oldest first; with `follow`, until it stops. */
  logs(options: LogOptions = {}): ContainerLogs {
    return this.api.logs(this.id, options);
  }

  /** exec runs cmd in the running container and waits for it (output buffered unless stdio says otherwise). */
  exec(cmd: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.api.exec(this.id, cmd, options);
  }

  /** execStream starts cmd in the running container; its stdin, stdout and stderr are streams when piped. */
  execStream(cmd: string[], options: ExecOptions = {}): Promise<ExecProcess> {
    return this.api.execStream(this.id, cmd, options);
  }

  /** start runs a created or stopped container in the background under a monitor; a running one is left as it is. */
  async start(): Promise<void> {
    await this.api.startContainer(this.id);
  }

  restart(options: { timeout?: number; signal?: string } = {}): Promise<void> {
    return this.api.restartContainer(this.id, options);
  }

  stop(options: { timeout?: number; signal?: string } = {}): Promise<void> {
    return this.api.stopContainer(this.id, options);
  }

  kill(signal: string | number = 'KILL'): Promise<void> {
    return this.api.killContainer(this.id, signal);
  }

  /** wait resolves with the exit code once the container has ended. */
  wait(): Promise<number> {
    return this.api.waitContainer(this.id);
  }

  pause(): Promise<void> {
    return this.api.pauseContainer(this.id);
  }

  unpause(): Promise<void> {
    return this.api.unpauseContainer(this.id);
  }

  /** snapshot keeps the container's files as they are now, for restore to go back to: a running container is
   * stopped with its stop signal (a database flushes), its writable layer becomes a read-only layer (renamed,
   * not copied), and it starts again on an empty one. Snapshots stack; each has a number, from 1. */
  snapshot(options: { timeout?: number; signal?: string } = {}): Promise<SnapshotInfo> {
    return this.api.snapshotContainer(this.id, options);
  }

  /** restore brings the container's files back to its newest snapshot (or snapshot `to`, dropping later ones;
   * 0: the image's files): a running container is killed and started again, keeping its ID, name, address and
   * published ports. Process memory is not restored: the container starts afresh on the restored files. */
  restore(to?: number): Promise<void> {
    return this.api.restoreContainer(this.id, to);
  }

  /** snapshots lists the container's snapshots, oldest first. */
  snapshots(): Promise<SnapshotInfo[]> {
    return this.api.listSnapshots(this.id);
  }

  /** copyTo unpacks a tar into the directory at path in the container. */
  copyTo(path: string, tar: Readable, options: CopyInOptions = {}): Promise<void> {
    return this.api.copyToContainer(this.id, path, tar, options);
  }

  /** copyFrom streams path in the container as a tar named by its base name. */
  copyFrom(path: string, options: { followLink?: boolean } = {}): Promise<Readable> {
    return this.api.copyFromContainer(this.id, path, options);
  }

  commit(options: CommitOptions = {}): Promise<string> {
    return this.api.commitContainer(this.id, options);
  }

  /** readFile is the content of a regular file in the container (a symlink is followed inside the container's
   * root, never to the host's): the copy path of `copyFrom`, so a running container's live view. */
  async readFile(path: string): Promise<Buffer> {
    const { fileFromTar } = await import('./file-archive');
    return fileFromTar(await this.copyFrom(path, { followLink: true }), path);
  }

  /** writeFile puts data at an absolute path in the container, replacing a file there (mode 0644 unless given,
   * owned by the container's root), through the copy path of `copyTo`: its directory is resolved in the
   * container, and made (0755) if missing. */
  async writeFile(path: string, data: string | Buffer, options: { mode?: number } = {}): Promise<void> {
    const name = posix.basename(path);
    if (!posix.isAbsolute(path) || name === '' || name === '.' || name === '..' || path.endsWith('/')) {
      throw new NboxError('ERR_NBOX_USAGE', `writeFile needs the absolute path of a file in the container, not ${JSON.stringify(path)}`);
    }
    // The nearest directory there is (a symlink counts: copyTo follows it inside the container); those below it are made.
    let dir = posix.dirname(posix.normalize(path));
    const missing: string[] = [];
    while (dir !== '/' && !(await this.api.statContainerPath(this.id, dir).then(() => true, () => false))) {
      missing.unshift(posix.basename(dir));
      dir = posix.dirname(dir);
    }
    const { fileTar } = await import('./file-archive');
    await this.copyTo(dir, fileTar(missing, name, Buffer.from(data), options.mode ?? 0o644));
  }

  /** remove removes the container; `force` kills it first when it runs. */
  async remove(options: { force?: boolean } = {}): Promise<void> {
    await this.api.removeContainer(this.id, options);
  }

  /** waitFor resolves once every strategy holds (`Wait.forLog(…)`, …), or fails when `timeout` ms (60 s by
   * default) pass first, naming what was still awaited, with the container's last log lines. */
  async waitFor(strategies: WaitStrategy[], options: { timeout?: number } = {}): Promise<void> {
    const { waitUntilReady } = await import('./wait-strategies');
    const publishedTcpPorts = async () => Object.entries((await this.inspect()).NetworkSettings.Ports ?? {})
      .filter(([key, bindings]) => key.endsWith('/tcp') && (bindings?.length ?? 0) > 0).map(([key]) => parseInt(key, 10)).sort((a, b) => a - b);
    await waitUntilReady({ container: this, host: this.host, hostPort: (port) => this.port(port), publishedTcpPorts }, strategies, options.timeout ?? 60_000);
  }

  /** host is the address this host reaches the container's published ports on. */
  get host(): string {
    return '127.0.0.1';
  }

  /** port is the host port a container port (80, or `53/udp`; TCP unless said) is published on (`docker port`). */
  async port(containerPort: number | string): Promise<number> {
    const key = typeof containerPort === 'string' && containerPort.includes('/') ? containerPort : `${containerPort}/tcp`;
    const bound = (await this.inspect()).NetworkSettings.Ports?.[key]?.[0];
    if (!bound) throw new NboxError('ERR_NBOX_USAGE', `no public port '${key}' published for ${this.id.slice(0, 12)}`);
    return Number(bound.HostPort);
  }

  /** ip is the container's address on its network (its first one), as inspect shows it; '' with none (`--network none`, host). */
  async ip(): Promise<string> {
    const settings = (await this.inspect()).NetworkSettings;
    return settings.IPAddress || Object.values(settings.Networks ?? {}).find((endpoint) => endpoint?.IPAddress)?.IPAddress || '';
  }

  /** Disposal kills the container if it runs and removes it; one already removed is fine. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove({ force: true }).catch((err: unknown) => {
      if (!(err instanceof NboxError && err.code === 'ERR_NBOX_NO_SUCH_CONTAINER')) throw err;
    });
  }
}
