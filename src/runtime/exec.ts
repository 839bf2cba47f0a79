// `exec`: a command in a running container, as `runc exec` runs it. The
// native join enters every namespace of the container's init through a pidfd
// and its cgroup, with the same credentials, capabilities, syscall filter and
// exec helper an init gets; this module finds the container, checks that its
// recorded init is still that process, and words failures as Docker does.
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { constants as osConstants } from 'node:os';

import { NboxError, SysError } from '../errors';
import { openInRoot } from '../image/fs-calls';
import type { Store } from '../image/store';
import { addon, type ExitStatus } from '../sys/addon';
import { inCgroup, processStartTime } from '../sys/proc';
import { readBounded } from '../sys/read-bounded';
import type { ContainerRecord } from './container-record';
import type { ContainerRegistry } from './container-registry';
import { mergeEnv, readEnvFile } from './env';
import { ContainerStartError, startFailure } from './launch';
import { openStdio, terminalIo, type OpenedStdio, type StdioOption } from './stdio-option';
import type { Exit } from './running-container';
import { guardStdio, type GuardedStdio } from './stdio';
import { joinFiles } from './cgroup';
import { parseDetachKeys } from './detach-keys';
import { TerminalStdio, type TerminalSize } from './terminal';
import { resolveUser } from './user';
import { execSecurity } from './security';
import { seccompCacheDir } from './seccomp';

/** ExecOptions are `docker exec`'s flags, as data. */
export interface ExecOptions {
  /** -e values: NAME=value, or NAME to copy from this process's env. */
  env?: string[];
  /** --env-file paths. */
  envFiles?: string[];
  /** -u: a name or uid, with an optional group; default the container's USER. */
  user?: string;
  /** -w: default the container's working directory. */
  workdir?: string;
  /** Where the command's 0, 1 and 2 go (default: pipes the caller reads, stdin /dev/null). */
  stdio?: StdioOption;
  /** exec (buffered) rejects with an ExecError, its output in it, when the command exits non-zero, as execa does. */
  reject?: boolean;
  /** -i with piped stdio: the command's stdin is a pipe, written through ExecProcess.stdin (end it for EOF). */
  stdin?: boolean;
  /** -d: the command does not die with this process; it still dies with the container. */
  detach?: boolean;
  /** -t: the command's 0, 1 and 2 are a terminal made in the container's devpts, and TERM=xterm unless set;
   * stdio then means what RunOptions.tty says (default 'pipe': the output as `stdout`). Not with detach. */
  tty?: boolean;
  /** The terminal's size from the start (default 0 by 0); ExecProcess.resize changes it. */
  ttySize?: TerminalSize;
  /** --detach-keys, as RunOptions.detachKeys. */
  detachKeys?: string;
  /** --privileged: every capability for this command. */
  privileged?: boolean;
}

/** ExecProcess is a command started in a running container. */
export class ExecProcess implements AsyncDisposable {
  constructor(
    readonly pid: number,
    /** Resolves when the command exits and its output is all copied out. */
    readonly exited: Promise<Exit>,
    readonly stdout: Readable | null,
    readonly stderr: Readable | null,
    private readonly signal: (signal: number) => boolean,
    private readonly terminal?: TerminalStdio,
    /** The command's input, when started with `stdin` and piped stdio. */
    readonly stdin: Writable | null = null,
  ) {}

  /** resize sets the size of the command's terminal (tty); without one it does nothing. */
  resize(size: TerminalSize): void {
    this.terminal?.resize(size);
  }

  /** detached resolves when the terminal's input held the detach keys; it never does otherwise. */
  get detached(): Promise<void> {
    return this.terminal?.detached ?? new Promise(() => {});
  }

  /** kill signals the command; false once it has exited. */
  kill(signal: NodeJS.Signals | number = 'SIGKILL'): boolean {
    const number = typeof signal === 'number' ? signal : osConstants.signals[signal];
    if (number === undefined) throw new NboxError('ERR_NBOX_USAGE', `invalid signal: ${signal}`);
    return this.signal(number);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
  }
}

/** ExecContext is what `exec` needs from the library. */
export interface ExecContext {
  store: Store;
  containers: ContainerRegistry;
}

/** startExec runs cmd in the running container ref; a command that cannot start throws ContainerStartError (126, 127). */
export async function startExec(ctx: ExecContext, ref: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecProcess> {
  if (cmd.length === 0) throw new NboxError('ERR_NBOX_USAGE', 'exec needs a command to run');
  const detachKeys = parseDetachKeys(opts.detachKeys ?? '');
  const tty = (opts.tty ?? false) && !opts.detach;
  const record = await ctx.containers.resolve(ref);
  const { config, state } = record;
  const workdir = opts.workdir || config.workingDir || '/';
  if (!workdir.startsWith('/')) {
    throw new NboxError('ERR_NBOX_USAGE', `the working directory '${workdir}' is invalid, it needs to be an absolute path`);
  }
  const envFiles = (opts.envFiles ?? []).map((path) => ({ path, text: readEnvFile(path) }));
  const init = openInit(record);
  let opened: OpenedStdio | undefined;
  let guarded: GuardedStdio | undefined;
  let spawned;
  try {
    const users = readUserDatabase(init.rootFd);
    closeSync(init.rootFd);
    init.rootFd = -1;
    const user = resolveUser(opts.user ?? config.user, users.passwd, users.group, config.security?.groupAdd);
    const containerEnv = withoutDefaultHome(config.env, users, config.user);
    const env = mergeEnv({ imageEnv: containerEnv, hostname: config.hostname, user, cliEnv: opts.env ?? [], envFiles, hostEnv: process.env, tty });
    if (tty) {
      guarded = new TerminalStdio(terminalIo(opts.stdio ?? 'pipe', detachKeys));
    } else {
      opened = openStdio(opts.detach ? 'ignore' : (opts.stdio ?? 'pipe'), { stdin: opts.stdin });
      guarded = guardStdio(opened.childFds);
    }
    spawned = await addon().join({
      pidfd: init.pidfd,
      argv: cmd,
      env,
      cwd: workdir,
      uid: user.uid,
      gid: user.gid,
      groups: user.groups,
      ...execSecurity(config, opts.privileged ?? false, seccompCacheDir(ctx.store.root.dir)),
      stdio: guarded.childFds,
      cgroupJoinFiles: joinFiles(state.cgroup ?? []),
      detach: opts.detach ?? false,
      ...(tty ? { terminal: opts.ttySize ?? { rows: 0, cols: 0 } } : {}),
    });
  } catch (err) {
    guarded?.close();
    opened?.closeAll();
    throw err instanceof SysError ? execFailure(err, cmd[0], workdir) : err;
  } finally {
    if (init.rootFd >= 0) closeSync(init.rootFd);
    closeSync(init.pidfd);
  }
  const { pid, pidfd } = spawned;
  const terminal = guarded instanceof TerminalStdio ? guarded : undefined;
  try {
    if (terminal && spawned.terminal !== undefined) terminal.attach(spawned.terminal);
    guarded.started();
  } catch (err) {
    // The command runs already: it goes with the failure, not on without its stdio.
    if (pidfd >= 0) {
      addon().kill(pidfd, osConstants.signals.SIGKILL);
      await addon().wait(pidfd);
      closeSync(pidfd);
    }
    guarded.close();
    opened?.closeAll();
    throw new ContainerStartError(`unable to attach the command's stdio: ${(err as Error).message}`, 126, err);
  }
  const streams = opened ? opened.started() : { stdout: terminal?.stdout ?? null, stderr: null, stdin: null };
  if (opts.detach) {
    // Not this process's child: nothing to wait for, and its pid is no handle to signal it by.
    guarded.close();
    return new ExecProcess(pid, Promise.resolve({ exitCode: null, signal: null }), null, null, () => false);
  }
  let done = false;
  const exited = addon().wait(pidfd).then(async (status: ExitStatus): Promise<Exit> => {
    done = true;
    closeSync(pidfd);
    await guarded.drained();
    guarded.close();
    return { exitCode: status.exitCode, signal: status.signal === null ? null : signalName(status.signal) };
  });
  return new ExecProcess(pid, exited, streams.stdout, streams.stderr, (signal) => !done && addon().kill(pidfd, signal), terminal, streams.stdin);
}

// The container's init, opened as a pidfd and checked to be the recorded
// process: a pid whose process ended may belong to another by now. Its start
// time and its place in the container's group identify it. The check comes
// after the pidfd and the root are opened, and the process must still be alive
// after it: then the pid named the same process throughout.
interface OpenedInit {
  pidfd: number;
  /** The init's root directory: the container's filesystem as it is now. */
  rootFd: number;
}

function openInit(record: ContainerRecord): OpenedInit {
  const { state, config } = record;
  const notRunning = () => new NboxError('ERR_NBOX_CONFLICT', `container ${config.id} is not running`);
  if (state.status !== 'running' || state.pid <= 0) throw notRunning();
  // A frozen init would hold the join (and the joiner's cgroup write) until it thaws.
  if (state.paused) throw new NboxError('ERR_NBOX_CONFLICT', `Container ${config.id} is paused, unpause the container first`);
  const pidfd = addon().pidfdOpen(state.pid);
  if (pidfd === null) throw notRunning();
  let rootFd = -1;
  try {
    rootFd = openSync(`/proc/${state.pid}/root`, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    // Gone meanwhile (or a zombie): not running.
  }
  const sameProcess = processStartTime(state.pid) === state.pidStartTime && (!state.cgroup?.length || inCgroup(state.pid, basename(state.cgroup[0])));
  if (rootFd < 0 || !sameProcess || !addon().kill(pidfd, 0)) {
    if (rootFd >= 0) closeSync(rootFd);
    closeSync(pidfd);
    throw notRunning();
  }
  return { pidfd, rootFd };
}

// A user database larger than this is no passwd file a container needs.
const MAX_USER_FILE = 4 * 1024 * 1024;

interface UserDatabase {
  passwd: string | null;
  group: string | null;
}

// readUserDatabase reads the container's own /etc/passwd and /etc/group as
// it sees them now (its writable layer, volumes included), as runc does after
// joining: each is resolved inside the container's root and read through the
// fd opened there, so a container that swaps a directory for a symlink
// meanwhile cannot point nbox at a host file.
function readUserDatabase(rootFd: number): UserDatabase {
  return { passwd: readContainerFile(rootFd, '/etc/passwd'), group: readContainerFile(rootFd, '/etc/group') };
}

// withoutDefaultHome leaves out the HOME that `run` took from its user's
// passwd entry (none was set): Docker records none, so an exec as another
// user gets that user's HOME, as runc gives it.
function withoutDefaultHome(env: string[], users: UserDatabase, runUser: string): string[] {
  let home: string;
  try {
    home = resolveUser(runUser, users.passwd, users.group).home;
  } catch {
    return env;
  }
  return env.filter((entry) => entry !== `HOME=${home}`);
}

function readContainerFile(rootFd: number, path: string): string | null {
  let fd: number;
  try {
    fd = openInRoot(rootFd, path);
  } catch (err) {
    if (err instanceof SysError) return null;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    // Only a regular file: a FIFO or device the container put there could block or feed nbox forever.
    if (!st.isFile() || st.size > MAX_USER_FILE) return null;
    // Bounded: the container can grow the file after the fstat.
    const file = openSync(`/proc/self/fd/${fd}`, 'r');
    try {
      return readBounded(file, MAX_USER_FILE)?.toString('utf8') ?? null;
    } finally {
      closeSync(file);
    }
  } finally {
    closeSync(fd);
  }
}

/** execFailure words a command that could not start as Docker's `exec` does,
 * with its exit code: 127 for a missing file, 126 for anything else. */
export function execFailure(err: SysError, command: string, workdir: string): ContainerStartError {
  let detail: string;
  if (err.step === 'exec') {
    detail = startFailure(err, command).message;
  } else if (err.step === 'workdir' || (err.step === 'chdir' && err.syscall === 'fchdir')) {
    detail = `chdir to cwd ("${workdir}") set in config.json failed: ${errnoText(err)}`;
  } else if (err.step === 'chdir') {
    detail = 'current working directory is outside of container mount namespace root -- possible container breakout detected';
  } else {
    detail = err.message;
  }
  const missing = /no such file or directory|executable file not found/.test(detail);
  return new ContainerStartError(`OCI runtime exec failed: exec failed: unable to start container process: ${detail}: unknown`, missing ? 127 : 126, err);
}

// The C library's text for the errno, lower-cased as Go prints it.
function errnoText(err: SysError): string {
  const text = err.message.slice(err.message.lastIndexOf(': ') + 2);
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function signalName(signal: number): NodeJS.Signals | null {
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === signal);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

/** ExecResult is how an exec'd command ended, with its output when it was piped (the default). */
export interface ExecResult {
  /** The command's exit code (128 + n for a signal); null when detached. */
  exitCode: number | null;
  stdout?: string;
  stderr?: string;
}

/** execToEnd waits for a started exec: its exit code, and its output when piped. */
export async function execToEnd(proc: ExecProcess, options: ExecOptions): Promise<ExecResult> {
  const collect = async (stream: Readable | null) => {
    if (!stream) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const [stdout, stderr, exit] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.exited]);
  const exitCode = options.detach ? null : (exit.exitCode ?? 128 + (exit.signal ? osConstants.signals[exit.signal] : 0));
  const result = { exitCode, ...(stdout === undefined ? {} : { stdout }), ...(stderr === undefined ? {} : { stderr }) };
  if (options.reject && exitCode !== null && exitCode !== 0) throw new ExecError(result as ExecResult & { exitCode: number });
  return result;
}

/** ExecError is a command that exited non-zero, with what it wrote (exec's `reject`). */
export class ExecError extends NboxError {
  readonly exitCode: number;
  readonly stdout: string | undefined;
  readonly stderr: string | undefined;
  constructor(result: ExecResult & { exitCode: number }) {
    const tail = (result.stderr ?? '').trim().split('\n').slice(-5).join('\n');
    super('ERR_NBOX_CONFLICT', `command exited with code ${result.exitCode}${tail ? `: ${tail}` : ''}`);
    this.name = 'ExecError';
    this.exitCode = result.exitCode;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
  }
}
