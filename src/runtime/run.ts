// `run`: image config + options → container record → spawned init → exit.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { constants as osConstants } from 'node:os';

import { NboxError, isErrno } from '../errors';
import type { ImageRecord } from '../image/images';
import type { Store } from '../image/store';
import { addon, type BindMount, type ExitStatus } from '../sys/addon';
import { cgroupDirs } from './cgroup';
import { ContainerStartError, launch, type Launched } from './launch';
import { processStartTime } from '../sys/proc';
import { containerCommand } from './argv';
import {
  ContainerRegistry, containerPaths, newContainerId, processOwner, randomName,
  type ContainerConfig, type ContainerRecord,
} from './containers';
import { mergeEnv } from './env';
import { containerSpec, imageUser } from './container-spec';
import { etcFiles } from './etc-files';
import { runNetwork } from './network';
import { parseDetachKeys } from './detach-keys';
import { TerminalStdio, type TerminalIo, type TerminalSize } from './terminal';
import type { ResolvedUser } from './user';

/** StdioOption says where the container's 0, 1 and 2 go: this process's own
 * fds, pipes the caller reads, /dev/null, or explicit host fds. */
export type StdioOption = 'inherit' | 'pipe' | 'ignore' | [number, number, number];

/** RunOptions are `docker run`'s flags, as data. */
export interface RunOptions {
  /** Arguments after the image: replace CMD. */
  cmd?: string[];
  /** --entrypoint; '' clears the image's. */
  entrypoint?: string;
  /** -e values: NAME=value, or NAME to copy from this process's env. */
  env?: string[];
  /** --env-file paths. */
  envFiles?: string[];
  user?: string;
  workdir?: string;
  hostname?: string;
  name?: string;
  /** --network: none (the default) or host; another name is refused. */
  network?: string;
  /** --rm: remove the container when it exits. */
  autoRemove?: boolean;
  labels?: Record<string, string>;
  stdio?: StdioOption;
  /** false runs without the default syscall filter (`--security-opt seccomp=unconfined`). */
  seccomp?: boolean;
  /** -v HOST:CONTAINER[:ro]: host paths bind-mounted into the container. */
  volumes?: VolumeBind[];
  /** --tmpfs CONTAINER[:options]: fresh tmpfs mounts. */
  tmpfs?: Record<string, string>;
  /** -t: the container's 0, 1 and 2 are a terminal (a pty of its own devpts), and TERM=xterm unless set.
   * stdio then says where its one output stream goes and what feeds its input: 'inherit' is this process's
   * 0 and 1, [in, out, err] those fds (err unused), 'pipe' the `stdout` stream (no input), 'ignore' nothing.
   * An input that is a terminal is put in raw mode while the container runs. */
  tty?: boolean;
  /** The terminal's size from the start (default 0 by 0: unknown); resize() changes it. */
  ttySize?: TerminalSize;
  /** --detach-keys: the sequence on a terminal's input that detaches (Docker's format; default ctrl-p,ctrl-q). */
  detachKeys?: string;
}

/** VolumeBind is one `-v` bind mount. */
export interface VolumeBind {
  source: string;
  target: string;
  readonly?: boolean;
}

export { ContainerStartError } from './launch';

/** Exit is how a container ended. */
export interface Exit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** RunningContainer is a started container and its init process. */
export class RunningContainer implements AsyncDisposable {
  /** exited resolves when the init exits (and, with autoRemove, after removal). */
  readonly exited: Promise<Exit>;

  constructor(
    readonly record: ContainerRecord,
    private readonly launched: Launched,
    readonly stdout: Readable | null,
    readonly stderr: Readable | null,
    finish: (status: ExitStatus) => Promise<Exit>,
  ) {
    this.exited = launched.exited.then(finish);
  }

  get pid(): number {
    return this.launched.pid;
  }

  get id(): string {
    return this.record.config.id;
  }

  get name(): string {
    return this.record.config.name;
  }

  /** resize sets the size of the container's terminal (tty); without one it does nothing. */
  resize(size: TerminalSize): void {
    this.launched.terminal?.resize(size);
  }

  /** detached resolves when the terminal's input held the detach keys; it never does otherwise. The
   * container stays attached to this process until then and dies with it (`run -d` has no such tie). */
  get detached(): Promise<void> {
    return this.launched.terminal?.detached ?? new Promise(() => {});
  }

  /** kill sends a signal to the container's init; false once it has exited. */
  kill(signal: NodeJS.Signals | number = 'SIGKILL'): boolean {
    const number = typeof signal === 'number' ? signal : osConstants.signals[signal];
    if (number === undefined) throw new NboxError('ERR_NBOX_USAGE', `invalid signal: ${signal}`);
    return this.launched.kill(number);
  }

  /** Disposal kills the container and waits for it: its PID namespace and mounts go with it. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
  }
}

/** RunContext is what `run` needs from the library. */
export interface RunContext {
  store: Store;
  containers: ContainerRegistry;
}

/** runContainer creates a container from an image and starts it. */
export async function runContainer(ctx: RunContext, image: ImageRecord, imageRef: string, opts: RunOptions): Promise<RunningContainer> {
  const detachKeys = parseDetachKeys(opts.detachKeys ?? '');
  const layerDirs = await ctx.store.layers.dirs(image.config);
  const userSpec = opts.user ?? image.config.config?.User ?? '';
  const user = await imageUser(layerDirs, userSpec);
  const config = containerConfig(image, imageRef, opts, userSpec, user);
  const { network, hostname, argv, env, workingDir } = config;
  const files = await etcFiles(network, hostname);
  // Under the lock, with the image checked again: from here on the record pins
  // the image, and an rmi that got in first makes this a clear "No such image".
  const record = await ctx.store.root.withLock(async () => {
    if (!(await ctx.store.images.has(image.id))) throw new NboxError('ERR_NBOX_NO_SUCH_IMAGE', `No such image: ${imageRef}`);
    // The owner and cgroup are on record before the container runs: should this
    // process die, the next store open ends the container through them.
    return ctx.containers.create(config, files, { owner: processOwner(), cgroup: cgroupDirs(config.id) });
  });
  const paths = containerPaths(record.dir);

  const terminal = opts.tty ? new TerminalStdio(terminalIo(opts.stdio ?? 'inherit', detachKeys)) : undefined;
  const stdio = terminal ? fixedStdio([-1, -1, -1]) : openStdio(opts.stdio ?? 'inherit');
  let launched: Launched;
  try {
    launched = await launch(await containerSpec({
      id: config.id,
      layers: layerDirs,
      dirs: paths,
      argv,
      env,
      cwd: workingDir,
      user,
      hostname,
      network,
      seccomp: opts.seccomp,
      mounts: [
        ...(await volumeMounts(opts.volumes ?? [])),
        ...Object.entries(opts.tmpfs ?? {}).map(([target, options]) => ({ source: '', tmpfs: options || 'mode=1777', target, readonly: false, isFile: false })),
      ],
      stdio: stdio.childFds,
      ...(terminal ? { terminal: { size: opts.ttySize ?? { rows: 0, cols: 0 }, stdio: terminal } } : {}),
      cgroup: record.state.cgroup,
    }));
  } catch (err) {
    stdio.closeAll();
    const failure = err instanceof ContainerStartError ? err : new ContainerStartError((err as Error).message, 125, err);
    await ctx.containers.setState(record, {
      ...record.state, status: 'exited', exitCode: failure.exitCode, error: failure.message, finishedAt: new Date().toISOString(),
    });
    if (config.autoRemove) await ctx.containers.remove(record);
    throw failure;
  }
  const streams = terminal ? { stdout: terminal.stdout, stderr: null } : stdio.started();
  await ctx.containers.setState(record, {
    ...record.state,
    status: 'running',
    pid: launched.pid,
    pidStartTime: processStartTime(launched.pid),
    startedAt: new Date().toISOString(),
  });
  return new RunningContainer(record, launched, streams.stdout, streams.stderr, (status) => finish(ctx, record, status));
}

/** containerConfig applies Docker's rules to an image config and run options. */
function containerConfig(image: ImageRecord, imageRef: string, opts: RunOptions, userSpec: string, user: ResolvedUser): ContainerConfig {
  const body = image.config.config ?? {};
  const command = containerCommand({
    imageEntrypoint: body.Entrypoint,
    imageCmd: body.Cmd,
    entrypointOverride: opts.entrypoint,
    cmdArgs: opts.cmd ?? [],
  });
  const id = newContainerId();
  const network = runNetwork(opts.network);
  const hostname = opts.hostname ?? (network === 'host' ? readFileSync('/proc/sys/kernel/hostname', 'utf8').trim() : id.slice(0, 12));
  const env = mergeEnv({
    imageEnv: body.Env,
    hostname,
    user,
    cliEnv: opts.env ?? [],
    envFiles: (opts.envFiles ?? []).map((path) => ({ path, text: readEnvFile(path) })),
    hostEnv: process.env,
    tty: opts.tty,
  });
  const workingDir = opts.workdir || body.WorkingDir || '/';
  if (!workingDir.startsWith('/')) {
    throw new NboxError('ERR_NBOX_USAGE', `the working directory '${workingDir}' is invalid, it needs to be an absolute path`);
  }
  return {
    id,
    name: opts.name ?? randomName(),
    created: new Date().toISOString(),
    image: image.id,
    imageRef,
    ...command,
    env,
    user: userSpec,
    workingDir,
    hostname,
    network,
    ...(opts.tty ? { tty: true } : {}),
    autoRemove: opts.autoRemove ?? false,
    labels: opts.labels ?? {},
    ...(opts.seccomp === false ? { seccomp: false } : {}),
  };
}

// volumeMounts checks -v binds: absolute paths only (named volumes are not
// supported yet); a missing host directory is created, as `docker run -v` does.
async function volumeMounts(volumes: VolumeBind[]): Promise<BindMount[]> {
  const mounts: BindMount[] = [];
  for (const volume of volumes) {
    if (!volume.source.startsWith('/')) {
      throw new NboxError('ERR_NBOX_USAGE', `volume "${volume.source}": named volumes are not supported yet; use an absolute host path`);
    }
    if (!volume.target.startsWith('/')) {
      throw new NboxError('ERR_NBOX_USAGE', `invalid mount path: '${volume.target}' mount path must be absolute`);
    }
    const st = await stat(volume.source).catch(() => null);
    if (!st) await mkdir(volume.source, { recursive: true });
    mounts.push({ source: volume.source, target: volume.target, readonly: volume.readonly ?? false, isFile: st ? !st.isDirectory() : false });
  }
  return mounts;
}

async function finish(ctx: RunContext, record: ContainerRecord, status: ExitStatus): Promise<Exit> {
  const signal = status.signal === null ? null : signalName(status.signal);
  const exitCode = status.exitCode ?? 128 + (status.signal ?? 0);
  if (record.config.autoRemove) {
    await ctx.containers.remove(record);
  } else {
    try {
      await ctx.containers.setState(record, {
        ...record.state, status: 'exited', exitCode, finishedAt: new Date().toISOString(),
      });
    } catch (err) {
      // `rm -f` from another process removes the record as soon as the process is gone.
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }
  return { exitCode: status.exitCode, signal };
}

function signalName(signal: number): NodeJS.Signals | null {
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === signal);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

/** readEnvFile reads an --env-file; a missing one is Docker's one line. */
export function readEnvFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new NboxError('ERR_NBOX_USAGE', `open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}

/** OpenedStdio is a StdioOption opened: the child's fds and the caller's streams. */
export interface OpenedStdio {
  childFds: [number, number, number];
  /** Closes the fds only the child needed, and wraps the caller's ends in streams. */
  started(): { stdout: Readable | null; stderr: Readable | null };
  closeAll(): void;
}

/** openStdio opens what a StdioOption names. */
export function openStdio(option: StdioOption): OpenedStdio {
  if (Array.isArray(option)) return fixedStdio(option);
  if (option === 'inherit') return fixedStdio([0, 1, 2]);
  const devNull = openSync('/dev/null', 'r+');
  if (option === 'ignore') {
    const close = () => closeSync(devNull);
    return {
      childFds: [devNull, devNull, devNull],
      started: () => (close(), { stdout: null, stderr: null }),
      closeAll: close,
    };
  }
  const [outRead, outWrite] = addon().pipe();
  const [errRead, errWrite] = addon().pipe();
  const closeChildEnds = () => [devNull, outWrite, errWrite].forEach((fd) => closeSync(fd));
  return {
    childFds: [devNull, outWrite, errWrite],
    started: () => {
      closeChildEnds();
      // Loaded on use: the CLI passes its own fds and never needs sockets.
      const { Socket } = require('node:net') as typeof import('node:net');
      return {
        stdout: new Socket({ fd: outRead, readable: true, writable: false }),
        stderr: new Socket({ fd: errRead, readable: true, writable: false }),
      };
    },
    closeAll: () => [devNull, outWrite, errWrite, outRead, errRead].forEach((fd) => closeSync(fd)),
  };
}

/** terminalIo is what a StdioOption means for a container with a terminal: one output stream, and input
 * from the caller's stdin fd when it gives one. */
export function terminalIo(option: StdioOption, detachKeys: number[]): TerminalIo {
  if (option === 'inherit') return { input: 0, output: 1, detachKeys };
  if (option === 'pipe') return { input: null, output: 'pipe', detachKeys };
  if (option === 'ignore') return { input: null, output: null, detachKeys };
  return { input: option[0], output: option[1], detachKeys };
}

function fixedStdio(fds: [number, number, number]): OpenedStdio {
  return { childFds: fds, started: () => ({ stdout: null, stderr: null }), closeAll: () => {} };
}
