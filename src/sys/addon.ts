// Typed loader of the native addon (build/Release/nbox.node). Only plain values
// cross the boundary; TypeScript validates before calling, C++ assumes valid input.
import { join } from 'node:path';

import { SysError } from '../errors';

/** BindMount is a host path bind-mounted into the container (its detached copy is taken before pivot_root),
 * or, with `tmpfs` set to its mount options, a fresh tmpfs. */
export interface BindMount {
  /** The host path; with sourceFd, only what errors show. */
  source: string;
  /** An fd of the source (O_PATH is enough) that the caller resolved and still owns: bound instead of the path. */
  sourceFd?: number;
  tmpfs?: string;
  /** Absolute path inside the container. */
  target: string;
  readonly: boolean;
  /** Create the target as a file (true) or directory (false) when missing. */
  isFile: boolean;
  /** A bind's propagation, Docker's mode name; absent: rprivate. */
  propagation?: Propagation;
}

/** Propagation is a bind propagation mode Docker takes. */
export type Propagation = 'rprivate' | 'private' | 'rshared' | 'shared' | 'rslave' | 'slave';

/** TerminalSize is a terminal's size in characters (0 by 0: unknown). */
export interface TerminalSize {
  rows: number;
  cols: number;
}

/** SeccompRule is one rule of a reduced seccomp profile (runtime/seccomp.ts): a syscall name, the action
 * (a SECCOMP_RET_* value) and conditions ANDed, each {index, op: libseccomp's scmp_compare, value, valueTwo}
 * with 64-bit values as decimal strings. */
export interface SeccompRule {
  name: string;
  action: number;
  args: { index: number; op: number; value: string; valueTwo: string }[];
}

/** ProcessSecurity is what a container's init and every command run in it share. */
export interface ProcessSecurity {
  /** The seccomp program (struct sock_filter[]) installed before the exec, or null: unconfined. */
  seccompFilter: Buffer | null;
  /** The bounding, permitted and effective capabilities: bit n is capability n. */
  caps: number;
  /** prctl(PR_SET_NO_NEW_PRIVS) before the exec (`--security-opt no-new-privileges`). */
  noNewPrivs?: boolean;
}

/** DeviceNode is a device node made in the container (`--device`, or a host one with --privileged). */
export interface DeviceNode {
  /** Absolute path inside the container. */
  path: string;
  /** S_IFCHR or S_IFBLK with the permission bits. */
  mode: number;
  major: number;
  minor: number;
  uid: number;
  gid: number;
}

/** ContainerSecurity is the part of ProcessSecurity only a container's init applies. */
export interface ContainerSecurity extends ProcessSecurity {
  /** No masked or read-only paths, /sys read-write. */
  privileged?: boolean;
  /** The root mount read-only once the working directory exists. */
  readonlyRootfs?: boolean;
  /** Names below /proc/sys (slashes) and values, flat: name, value, name, value... */
  sysctls?: string[];
  devices?: DeviceNode[];
}

/** SpawnSpec is everything the container child needs, resolved in TypeScript. */
export interface SpawnSpec extends ContainerSecurity {
  argv: string[];
  /** KEY=value strings; PATH in here is used to find argv[0]. */
  env: string[];
  cwd: string;
  /** Directories made for cwd belong to uid:gid, as BuildKit makes a WORKDIR for the USER. */
  chownCwd?: boolean;
  uid: number;
  gid: number;
  groups: number[];
  hostname: string;
  /** Host directory the overlay is mounted on (inside the child's mount namespace only). */
  rootfs: string;
  /** Image layer directories, topmost first. */
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  /** Give the container a network namespace of its own (lo only), else share the host's. */
  newNetwork: boolean;
  /** A network namespace set up beforehand (netnsCreate, netVethAttach) that the container joins instead. */
  netns?: string;
  mounts: BindMount[];
  /** Host fds that become the container's 0, 1 and 2; -1 is the container's own /dev/null. */
  stdio: [number, number, number];
  /** Files of its cgroups the child (single-threaded) writes "0" to before it does anything else (cgroup.ts joinFiles). */
  cgroupJoinFiles: string[];
  /** --ulimit: setrlimit before execve, as [resource, soft, hard] decimal triples (-1 is unlimited). */
  rlimits?: string[];
  /** -t: a pty made in the container's own devpts, of this size, is its 0-2 and controlling terminal (stdio is then
   * unused); the result carries its master. */
  terminal?: TerminalSize;
}

/** JoinSpec is a command to run in a running container, joined through its init's pidfd. */
export interface JoinSpec extends ProcessSecurity {
  /** A pidfd of the container's init: every namespace of it is joined. */
  pidfd: number;
  argv: string[];
  /** KEY=value strings; PATH in here is used to find argv[0]. */
  env: string[];
  /** Must exist; resolved inside the container's root. */
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  /** Host fds that become the command's 0, 1 and 2; -1 is the container's own /dev/null. */
  stdio: [number, number, number];
  /** The container's cgroup files the joiner writes "0" to (cgroup.ts joinFiles), before its namespaces. */
  cgroupJoinFiles: string[];
  /** The command is no child of this process and does not die with it; the result's pidfd is then -1. */
  detach?: boolean;
  /** -t, as spawn's (ignored with detach: nobody would hold the master). */
  terminal?: TerminalSize;
}

/** Spawned is a started container init: its host pid and a pidfd owned by the caller. */
export interface Spawned {
  pid: number;
  pidfd: number;
  /** With a terminal: its master (close-on-exec), owned by the caller. */
  terminal?: number;
  /** spawn's: an fd of the init's mount namespace (close-on-exec), owned by the caller, who closes it once the
   * init exited (the overlay is unmounted then, off the exit's path). */
  mountNamespace?: number;
}

/** ExitStatus is how a process ended: an exit code, or the signal that killed it. */
export interface ExitStatus {
  exitCode: number | null;
  signal: number | null;
}

/** MonitorHello is a started nbox-monitor (native/monitor.c) waiting for its spec: the start socket and its identity. */
export interface MonitorHello {
  fd: number;
  pid: number;
  startTime: number;
}

/** MonitorSpec is what the monitor needs besides the spawn spec: where the container's record is and what to remove at its end. */
export interface MonitorSpec {
  id: string;
  name: string;
  /** The store root: the record is containers/<id>/state.json, temp files go to tmp/. */
  store: string;
  /** The json-file log the monitor appends the container's output to. */
  log: string;
  /** --log-opt max-size (bytes) and max-file: the monitor rotates the log past the size; absent, it grows unbounded. */
  logRotate?: [string, string];
  autoRemove: boolean;
  /** -t: the monitor asks the init for a pty and keeps its master; the log then has one `stdout` stream. */
  tty: boolean;
  /** -i: attach clients' input reaches the container (its terminal, or a pipe that is its stdin). */
  stdin: boolean;
  /** The container's cgroup dirs, removed when it ends. */
  cgroupDirs: string[];
  /** The restart policy the monitor applies when the init exits (runtime/restart-policy.ts states its rules). */
  restart: { name: string; maximumRetryCount: number };
  /** monitor-proto.h's attach flags (stdin 1, stdout 2, stderr 4), or 0: with flags, the start fd stays open past
   * STARTED as an attach connection that gets all the output (`start -a`). */
  attach: number;
  /** With tty: the size the terminal starts at (0 by 0: unknown until an attached client resizes it). */
  ttySize: { rows: number; cols: number };
  /** The health probe (runtime/health-probe.ts): an empty argv runs none. */
  health: { argv: string[]; intervalMs: number; timeoutMs: number; startPeriodMs: number; startIntervalMs: number; retries: number; timeoutText: string };
  /** A command the monitor starts (and does not wait for) as it exits, after the container's end; [] for none. */
  exitCommand: string[];
  /** The lease files the exit command releases the container's leases from: it runs only while one names the container. */
  exitLeases?: string[];
  /** The sockets holding the container's published host ports (bindPort), at most 253: sent with the spec, kept open
   * by the monitor until the container ends. The caller's copies stay open, for it to close. */
  portFds: number[];
  /** nbox-proxy's argv (port-proxy.ts), run once the container started, with the k-th of proxyPorts (indices into
   * portFds) on its fd 3+k: it answers on the IPv6 ones until the container ends. Absent: none. */
  proxy?: string[];
  proxyPorts?: string[];
  /** A session container's owner (RunOptions.session), its pid and start time: the monitor kills the container
   * when that process dies, and refuses to start it once the process is gone. */
  sessionOwner?: [string, string];
}

/** InRoot is the root a path is resolved in: a directory's path, or an fd of it (O_PATH is enough) that the caller keeps. */
export type InRoot = string | number;

/** Addon is the native surface. */
/** VethLink is one container's link to a bridge. */
export interface VethLink {
  netns: string;
  bridge: string;
  hostIf: string;
  /** The link's name in the container: eth0, then eth1… for networks connected later. */
  ifName: string;
  mac: Buffer;
  address: string;
  prefix: number;
  /** The default route's gateway; 0.0.0.0 adds none (a second network's link). */
  gateway: string;
}

/** NftPort is a published IPv4 port as a network's DNAT maps hold it: hostIp:hostPort ('' any local address)
 * goes to address:containerPort. */
export interface NftPort {
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  address: string;
  containerPort: number;
}

export interface Addon {
  /** Takes the SysError class, the path of nbox-exec (which spawn runs from a sealed memfd) and of nbox-monitor. */
  init(errorClass: typeof SysError, execHelperPath: string, monitorPath: string): void;
  spawn(spec: SpawnSpec): Spawned;
  /** Compiles a reduced seccomp profile to BPF with libseccomp: the struct sock_filter array. */
  compileSeccomp(input: { defaultAction: number; arches: string[]; rules: SeccompRule[] }): Buffer;
  /** Runs a command in a running container (its namespaces, cgroup, credentials and filter), as `runc exec`;
   * the command is this process's child, returned as spawn's is, once it has exec'd (on the thread pool). */
  join(spec: JoinSpec): Promise<Spawned>;
  /** Starts an nbox-monitor for container id; resolves once it is ready for its spec. With readyNetns it makes
   * the network namespace of a `--network none` container while it waits (off the start's path). */
  spawnMonitor(id: string, readyNetns: boolean): Promise<MonitorHello>;
  /** spawnProgram starts a host program by absolute path in a session of its own, fds[i] on fd i (-1: /dev/null, for
   * 0-2) and no other fd, with env's `NAME=value` strings or none (posix_spawn: no fork of this process). The caller
   * waits on pidfd (wait) and closes it. */
  spawnProgram(path: string, argv: string[], fds: number[], env?: string[]): { pid: number; pidfd: number };
  /** Sends the monitor its spec (closing hello's fd either way, but once started with monitor.attach): resolves once the container's command runs,
   * rejects with the SysError spawn would throw for a failed start. */
  startInMonitor(fd: number, spec: SpawnSpec, monitor: MonitorSpec): Promise<{ pid: number; pidStartTime: number }>;
  /** TIOCSWINSZ: sets a terminal's size (a container's pty master); the kernel tells its foreground processes (SIGWINCH). */
  setWindowSize(fd: number, rows: number, cols: number): void;
  /** pidfd_open: a close-on-exec pidfd of pid, or null when no such process exists. */
  pidfdOpen(pid: number): number | null;
  /** exitNow ends this process at once with code (_exit): no 'exit' listener, no teardown. */
  exitNow(code: number): never;
  /** Resolves when the process behind the pidfd exits and is reaped; the pidfd stays open for the caller to
   * close. With `unref`, the wait does not keep this process's loop alive. */
  wait(pidfd: number, unref?: boolean): Promise<ExitStatus>;
  /** pidfd_send_signal; false when the process is already gone. */
  kill(pidfd: number, signal: number): boolean;
  /** flock(2) with LOCK_EX or LOCK_SH, non-blocking: false when held elsewhere. */
  tryLock(fd: number, exclusive: boolean): boolean;
  /** pipe2(O_CLOEXEC): [readFd, writeFd]. */
  pipe(): [number, number];
  /** lgetxattr: the attribute's value, or null when absent. */
  lgetxattr(path: string, name: string): Buffer | null;
  /** llistxattr: the names of a file's extended attributes (not following symlinks). */
  llistxattr(path: string): string[];
  /** lsetxattr: sets an extended attribute (not following symlinks). */
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** Attaches Docker's device allow-list, as an eBPF program, to a cgroup v2 directory. */
  attachDeviceFilter(cgroupDir: string): void;
  /** mknod: a device node, or an overlay whiteout (S_IFCHR, 0, 0). */
  mknod(path: string, mode: number, major: number, minor: number): void;
  /** A close-on-exec socket holding a published host port, hostIp '' (or 0.0.0.0) for every IPv4 address, an IPv6
   * address alone on IPv6, port 0 for one the kernel chooses: no other socket binds the port while it is open.
   * An IPv4 one's traffic is DNATed before it reaches it; an IPv6 one listens for nbox-proxy to accept on.
   * SysError step 'publish' (EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT without IPv6…). */
  bindPort(protocol: 'tcp' | 'udp', hostIp: string, port: number): { fd: number; port: number };
  /** Makes bridge name (if missing) with address/prefix, and sets it up. */
  netBridgeUp(name: string, address: string, prefix: number): void;
  /** Deletes a network link; a missing one is fine. */
  netLinkDelete(name: string): void;
  /** Sets a network link down; a missing one is fine. A bridge port that is down forwards nothing and its
   * learned addresses are forgotten at once, where a delete waits out an RCU barrier. */
  netLinkDown(name: string): void;
  /** Makes a network namespace (loopback up), kept by a bind mount on path, an existing file. */
  netnsCreate(path: string): void;
  /** Unmounts (lazily) the namespace kept on path; one not mounted is fine. */
  netnsRelease(path: string): void;
  /** Makes veth pair hostIf/eth0, eth0 in the namespace kept on netns with mac, address/prefix and a
   * default route via gateway, hostIf enslaved to bridge and up. */
  netVethAttach(link: VethLink): void;
  /** Adds (add) or deletes published IPv4 ports in the DNAT maps of nftables table `table` (family ip), over
   * netlink; deleting one that is not there fails (ENOENT). */
  nftPorts(table: string, add: boolean, ports: NftPort[]): void;
  /** openInRoot: an O_PATH, close-on-exec fd of path resolved as if root were `/` (openat2
   * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); with mkdir, missing directories are made one by one
   * (mode, less the umask) and the result is a directory. The caller closes the fd. */
  openInRoot(root: InRoot, path: string, opts?: { mkdir?: boolean; mode?: number }): number;
  /** openFileInRoot: a readable, close-on-exec fd of the regular file at path resolved inside root as openInRoot
   * resolves it, which must be the file with this dev and ino (SysError ESTALE if another; EINVAL if no regular
   * file: nothing else is ever opened). The caller closes the fd. */
  openFileInRoot(root: InRoot, path: string, dev: number, ino: number): number;
  /** copyFileInRoot copies the file openFileInRoot would open (same checks and errors, step 'open-in-root') into a
   * new file target, never through a symlink, and gives it mode (all 07777 bits) and mtimeMs (errors there: step 'copy'). */
  copyFileInRoot(root: InRoot, path: string, dev: number, ino: number, target: string, mode: number, mtimeMs: number): void;
  /** removeEmptyBeneath removes the empty regular file or empty directory at path (relative) below root,
   * following no symlink on the way; false when nothing of that kind is there. */
  removeEmptyBeneath(root: InRoot, path: string): boolean;
  /** removeTree removes path and everything beneath it, following no symlink and crossing no mount (a mount
   * point inside is SysError EXDEV, step 'remove-tree'); a missing path is no error, a non-directory is unlinked.
   * One walk on the thread pool. */
  removeTree(path: string): Promise<void>;
}

let loaded: Addon | undefined;

/** addon loads the native module once and injects SysError into it. */
export function addon(): Addon {
  if (!loaded) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require('../../../build/Release/nbox.node') as Addon;
    mod.init(SysError, join(__dirname, '../../../build/Release/nbox-exec'), join(__dirname, '../../../build/Release/nbox-monitor'));
    loaded = mod;
  }
  return loaded;
}

/** loadedAddon is the native module if something has loaded it, without loading it. */
export function loadedAddon(): Addon | undefined {
  return loaded;
}
