/* nbox-monitor: the parent of one detached container (`run -d`).
 *
 * nbox posix_spawns it with the start socket on fd 3 and the sealed nbox-exec
 * memfd on fd 4 (monitor-proto.h). It forks once so that it is no child of
 * the caller, says HELLO, receives the SPEC (never through argv or env:
 * /proc/<pid>/cmdline is world-readable and env holds secrets) with the
 * sockets that hold the published host ports, and clones
 * the container's init with the same child_spawn a foreground run uses: the
 * init is its child, and its parent-death signal is the monitor's death.
 * Then it waits in an epoll loop, and records the end in state.json, of
 * which it is the only writer while it lives. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "jsonw.h"
#include "logfile.h"
#include "netlink.h"
#include "proc-stat.h"
#include "spawnfds.h"
#include "tree.h"
#include "wire.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define ZERO_TIME "0001-01-01T00:00:00Z"
#define MAX_SECTIONS 48
#define DRAIN_MS 2000
#define MOUNT_FIELDS 6 /* a mount in the spec: kind, source, target, readonly, isFile, propagation */

/* What the monitor was told and what it keeps in memory: state.json is always
 * rewritten whole from here, never read back. */
static struct {
  const char *id, *name, *store;
  int auto_remove;
  const char *const *cgroup_dirs;
  size_t ncgroups;
  int tmp_fd;
  char state_path[PATH_MAX + 16];
  char container_dir[PATH_MAX];
  pid_t self;
  unsigned long long self_start, pid_namespace;
  /* The state. */
  const char *status;
  pid_t pid;
  unsigned long long pid_start;
  int exit_code;
  const char *error;
  char started[JSONW_TIME_MAX], finished[JSONW_TIME_MAX];
  /* OOM kills in the memory group before this run, and whether this run had one (Docker's OOMKilled). */
  long long oom_base;
  /* The group's CPU time as this life began (cpu_time_ns). */
  unsigned long long cpu_base;
  int oom_killed;
} M;

/* The restart policy and where it stands (src/runtime/restart-policy.ts is the
 * statement of these rules that this follows). */
enum restart_name { RESTART_NO, RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_UNLESS_STOPPED };
static struct {
  enum restart_name name;
  long max;      /* on-failure's retry count; 0 sets no limit */
  int count;     /* restarts made so far */
  long delay_ms; /* the last wait before a restart; 0 before the first */
  struct timespec run_start;
} R;

/* A fault test's step (src/runtime/fault.ts): NBOX_TEST_STOP_AT=monitor:<step>
 * has the monitor SIGKILL itself there. Unset in every other run. */
static const char *fault_step;

static void fault_point(const char *step) {
  if (fault_step && strcmp(fault_step, step) == 0) kill(getpid(), SIGKILL);
}

static void now_text(char *out) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  jsonw_time(out, &ts);
}

/* A JSON string (quoted) of s, appended at *o. */
static char *put_string(char *o, const char *s) {
  *o++ = '"';
  o += jsonw_escape(o, (const unsigned char *)s, strlen(s));
  *o++ = '"';
  return o;
}

/* A fresh temp name in the store's tmp/, `<pid>-<start>-<12 hex>-<label>`,
 * the shape store/temp.ts sweeps once this process is dead. */
static void temp_name(char *out, size_t size, const char *label) {
  unsigned char random[6];
  if (getrandom(random, sizeof random, 0) != (ssize_t)sizeof random) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    memcpy(random, &ts.tv_nsec, sizeof random);
  }
  snprintf(out, size, "%d-%llu-%02x%02x%02x%02x%02x%02x-%s", (int)M.self, M.self_start, random[0], random[1], random[2],
           random[3], random[4], random[5], label);
}

/* The health part of the state (health_json appends at most health_json_max bytes). */
static size_t health_json_max(void);
static char *health_json(char *o);

/* Writes state.json atomically: a temp file in tmp/, then a rename onto the
 * path. 0, or -1 once the container directory is gone (`rm` renamed it). */
static int write_state(int running) {
  size_t cap = 4096;
  for (size_t i = 0; i < M.ncgroups; i++) cap += JSONW_ESCAPED_MAX(strlen(M.cgroup_dirs[i])) + 4;
  cap += JSONW_ESCAPED_MAX(strlen(M.error)) + health_json_max();
  char *buf = malloc(cap);
  if (!buf) return -1;
  char *o = buf;
  o += sprintf(o, "{\"status\":\"%s\",\"pid\":%d,\"pidStartTime\":%llu,\"exitCode\":%d,\"error\":", M.status, (int)M.pid,
               M.pid_start, M.exit_code);
  o = put_string(o, M.error);
  o += sprintf(o, ",\"startedAt\":\"%s\",\"finishedAt\":\"%s\",\"restartCount\":%d,\"oomKilled\":%s,\"cpuAtStart\":%llu",
               M.started, M.finished, R.count, M.oom_killed ? "true" : "false", M.cpu_base);
  o = health_json(o);
  if (running) {
    o += sprintf(o, ",\"owner\":{\"pid\":%d,\"startTime\":%llu,\"pidNamespace\":%llu},\"cgroup\":[", (int)M.self,
                 M.self_start, M.pid_namespace);
    for (size_t i = 0; i < M.ncgroups; i++) {
      if (i) *o++ = ',';
      o = put_string(o, M.cgroup_dirs[i]);
    }
    *o++ = ']';
  }
  *o++ = '}';
  char name[128];
  temp_name(name, sizeof name, "state");
  int fd = openat(M.tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  int rc = fd < 0 ? -1 : 0;
  for (char *at = buf; rc == 0 && at < o;) {
    ssize_t put = write(fd, at, (size_t)(o - at));
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) rc = -1;
    else at += put;
  }
  free(buf);
  if (fd >= 0) close(fd);
  if (rc == 0) rc = renameat(M.tmp_fd, name, AT_FDCWD, M.state_path);
  if (rc < 0 && fd >= 0) unlinkat(M.tmp_fd, name, 0);
  return rc;
}

/* Reads dir/file into buf as a string: its length, or <= 0 when there is none. */
static ssize_t read_group_file(const char *dir, const char *file, char *buf, size_t size) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n > 0) buf[n] = '\0';
  return n;
}

/* The value of the "key value" line of text that starts with key (given with its space), or -1. */
static long long keyed_value(const char *text, const char *key) {
  size_t len = strlen(key);
  for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (strncmp(line, key, len) == 0) return strtoll(line + len, NULL, 10);
  return -1;
}

/* The kernel's count of OOM kills in the container's memory group: the
 * oom_kill line of memory.oom_control (v1) or memory.events (v2); 0 when
 * neither is there. The group outlives a restart, so a run compares it with
 * the count at its start (cgroup-stats.ts oomKillCount reads the same). */
static long long oom_kill_count(void) {
  for (size_t i = 0; i < M.ncgroups; i++) {
    const char *dir = M.cgroup_dirs[i];
    char buf[1024];
    if (read_group_file(dir, strstr(dir, "/sys/fs/cgroup/memory/") == dir ? "memory.oom_control" : "memory.events", buf, sizeof buf) <= 0) continue;
    long long count = keyed_value(buf, "oom_kill ");
    if (count >= 0) return count;
  }
  return 0;
}

/* The group's CPU time in ns: v1 cpuacct.usage, v2 cpu.stat's usage_usec; 0
 * when neither is there. The group outlives a restart, so each life records
 * it as cpuAtStart, from which stats.ts measures that life's CPU %. */
static unsigned long long cpu_time_ns(void) {
  for (size_t i = 0; i < M.ncgroups; i++) {
    char buf[1024];
    if (read_group_file(M.cgroup_dirs[i], "cpuacct.usage", buf, sizeof buf) > 0) return strtoull(buf, NULL, 10);
    if (read_group_file(M.cgroup_dirs[i], "cpu.stat", buf, sizeof buf) <= 0) continue;
    long long usec = keyed_value(buf, "usage_usec ");
    if (usec >= 0) return (unsigned long long)usec * 1000;
  }
  return 0;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

/* Removes the container's cgroup dirs. A dir still busy (the init is dead,
 * the rest of the container is dying) is retried for a second, with a kill
 * through the group now and then; past that the next store open sweeps it. */
static void remove_cgroup(void) {
  for (int attempt = 0; attempt < 200; attempt++) {
    int busy = 0;
    for (size_t i = 0; i < M.ncgroups; i++) {
      if (rmdir(M.cgroup_dirs[i]) == 0 || errno == ENOENT) continue;
      if (errno != EBUSY) return;
      busy = 1;
      if (attempt % 20 == 0) {
        char kill_path[PATH_MAX];
        snprintf(kill_path, sizeof kill_path, "%s/cgroup.kill", M.cgroup_dirs[i]);
        int fd = open(kill_path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
          ssize_t ignored = write(fd, "1", 1);
          (void)ignored;
          close(fd);
        }
      }
    }
    if (!busy) return;
    sleep_ms(5);
  }
}

/* `--rm`: the directory is renamed into tmp/ (gone for every reader at once;
 * a kill midway leaves it to the stale-temp sweep), the name is freed if it
 * is still this container's, then the tree is deleted. */
static void remove_container(void) {
  char name[128], doomed[PATH_MAX];
  temp_name(name, sizeof name, "rm");
  if (renameat(AT_FDCWD, M.container_dir, M.tmp_fd, name) < 0) return;
  fault_point("removing");
  char link[PATH_MAX], target[80];
  snprintf(link, sizeof link, "%s/names/%s", M.store, M.name);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n > 0) {
    target[n] = '\0';
    if (strcmp(target, M.id) == 0) unlink(link);
  }
  snprintf(doomed, sizeof doomed, "%s/tmp/%s", M.store, name);
  /* What fails to go stays in tmp/ for the stale-temp sweep. */
  const char *failed;
  remove_tree(doomed, &failed, NULL, 0);
}

/* The spec's exitCommand (argv; none when empty), started and not waited for: it
 * releases the container's network lease once this monitor is gone. Only while
 * one of exitLeases (the networks' lease files) still names the container: an
 * `rm -f` releases them before its kill, and the sweep, a Node process (tens of
 * ms of CPU), would find nothing to do. */
static char *const *exit_command;
static const struct wire_section *exit_leases;

#define LEASES_MAX (16u << 20) /* a lease file past this is not read: the sweep runs */

/* lease_recorded: a lease file names the container (`"<id>"`), or cannot be read whole. */
static int lease_recorded(void) {
  char needle[80];
  snprintf(needle, sizeof needle, "\"%s\"", M.id);
  for (size_t i = 0; exit_leases && i < exit_leases->count; i++) {
    int fd = open(exit_leases->strings[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) continue;
    struct stat st;
    char *text = fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size < LEASES_MAX ? malloc((size_t)st.st_size + 1) : NULL;
    ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
    if (fd >= 0) close(fd);
    int named = got < 0 || (text[got] = '\0', strstr(text, needle) != NULL);
    free(text);
    if (named) return 1;
  }
  return 0;
}

static void run_exit_command(void) {
  if (!exit_command || !exit_command[0] || !lease_recorded()) return;
  extern char **environ;
  pid_t pid;
  posix_spawn(&pid, exit_command[0], NULL, NULL, exit_command, environ);
}

/* The end: the exit is on record (or the container removed), the cgroup gone. */
static void control_end(void);

static void control_exit(int code);

/* The sockets that hold the container's published host ports (monitor-proto.h),
 * open for as long as it is this monitor's, across its restarts; the kernel
 * closes them should the monitor be killed. */
static int port_fds[MON_PORTS_MAX];
static size_t nports;

/* nbox-proxy, which answers on the IPv6 ones (native/proxy.c), and the write
 * end of its lifeline: it ends when the last copy is closed, even when the
 * monitor is killed. */
static pid_t proxy_pid = -1;
static int proxy_lifeline = -1;

/* start_proxy runs the spec's proxy argv (none when empty) with its k-th port
 * socket (proxyPorts: an index into port_fds) on fd 3+k. A proxy that cannot
 * start leaves those ports unanswered, not the container unstarted. */
static void start_proxy(const struct wire_section *argv, const struct wire_section *ports) {
  if (argv->count < 2 || ports->count != argv->count - 1 || ports->count > MON_PORTS_MAX) return;
  int lifeline[2];
  if (pipe2(lifeline, O_CLOEXEC) < 0) return;
  int fds[3 + MON_PORTS_MAX] = {lifeline[0], -1, -1};
  for (size_t k = 0; k < ports->count; k++) {
    unsigned long index = strtoul(ports->strings[k], NULL, 10);
    fds[3 + k] = index < nports ? port_fds[index] : -1;
  }
  const char *failed;
  char *envp[] = {NULL};
  if (spawn_fds(&proxy_pid, argv->strings[0], (char *const *)argv->strings, envp, fds, 3 + (int)ports->count, &failed) != 0) {
    proxy_pid = -1;
    close(lifeline[1]);
  } else {
    proxy_lifeline = lifeline[1];
  }
  close(lifeline[0]);
}

/* stop_proxy ends the proxy and waits for it: its copies of the sockets go with it. */
static void stop_proxy(void) {
  if (proxy_pid <= 0) return;
  kill(proxy_pid, SIGKILL);
  while (waitpid(proxy_pid, NULL, 0) < 0 && errno == EINTR) {
  }
  close(proxy_lifeline);
  proxy_pid = -1;
}

/* The init's mount namespace, which child_spawn holds open (spawn_result's
 * mount_ns): released once the end is on record, so that `rm -f`, `stop` and
 * a waiting caller need not wait out the overlay's unmount first. */
static int held_mnt_ns = -1;

static void release_mount_ns(void) {
  if (held_mnt_ns < 0) return;
  close(held_mnt_ns);
  held_mnt_ns = -1;
}

static void __attribute__((noreturn)) finish(void) {
  /* First: once the end is on record, a start (of this container or another) may bind them. */
  stop_proxy();
  while (nports > 0) close(port_fds[--nports]);
  control_end();
  fault_point("exited");
  remove_cgroup();
  if (M.auto_remove) remove_container();
  else {
    M.status = "exited";
    write_state(0);
  }
  control_exit(M.exit_code);
  release_mount_ns();
  run_exit_command();
  _exit(0);
}

static const struct wire_section *section(const struct wire_section *s, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(s[i].name, name) == 0) return &s[i];
  return NULL;
}

/* The one string of a section, or "" when it is missing or not one string. */
static const char *single(const struct wire_section *s, int n, const char *name) {
  const struct wire_section *sec = section(s, n, name);
  return sec && sec->count == 1 ? sec->strings[0] : "";
}

static void __attribute__((noreturn)) send_failed(int step, const char *step_name, const char *syscall_name, int err, int index) {
  struct mon_failed failed;
  memset(&failed, 0, sizeof failed);
  failed.step = step;
  failed.err = err;
  failed.index = index;
  strncpy(failed.step_name, step_name, sizeof failed.step_name - 1);
  strncpy(failed.syscall, syscall_name, sizeof failed.syscall - 1);
  wire_send(MON_SOCKET_FD, MON_FAILED, &failed, sizeof failed);
  _exit(1);
}

/* The spec's sections every container has, each checked for its count. */
static const char *const required[] = {"argv", "env", "cwd", "uid", "gid", "groups", "hostname", "rootfs", "lower",
                                        "upper", "work", "net", "seccomp", "mounts", "cgroupJoinFiles", "cgroupDirs", "rlimits",
                                        "caps", "nnp", "privileged", "readonly", "sysctls", "devices", "id", "name", "store", "autoRemove", "log", "restart", "restartMax", "health", "healthTimes", "tty", "stdin",
                                        "attach", "ttySize", "exitCommand", "exitLeases", "sessionOwner", "logRotate", "ports", "proxy", "proxyPorts"};

/* Every mount's propagation is one the child knows. */
static int propagations_valid(const struct wire_section *mounts) {
  unsigned long flags;
  for (size_t i = 0; i + MOUNT_FIELDS <= mounts->count; i += MOUNT_FIELDS)
    if (child_propagation(mounts->strings[i + 5], &flags) < 0) return 0;
  return 1;
}

static int spec_valid(const struct wire_section *s, int n) {
  static const char *const singles[] = {"cwd", "uid", "gid", "hostname", "rootfs", "upper", "work", "net",
                                        "seccomp", "caps", "nnp", "privileged", "readonly", "id", "name", "store", "autoRemove", "log", "restart", "restartMax", "tty", "stdin",
                                        "attach", "ports"};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
    if (!section(s, n, required[i])) return 0;
  for (int i = 0; i < n; i++) {
    int known = 0;
    for (size_t r = 0; r < sizeof required / sizeof required[0]; r++) known |= strcmp(s[i].name, required[r]) == 0;
    if (!known) return 0;
  }
  for (size_t i = 0; i < sizeof singles / sizeof singles[0]; i++)
    if (section(s, n, singles[i])->count != 1) return 0;
  return section(s, n, "argv")->count > 0 && section(s, n, "lower")->count > 0 &&
         section(s, n, "mounts")->count % MOUNT_FIELDS == 0 && propagations_valid(section(s, n, "mounts")) && section(s, n, "rlimits")->count % 3 == 0 && section(s, n, "sysctls")->count % 2 == 0 &&
         section(s, n, "devices")->count % 6 == 0 && section(s, n, "mounts")->count / MOUNT_FIELDS <= 64 &&
         section(s, n, "groups")->count <= 65536 && section(s, n, "ttySize")->count == 2 &&
         (section(s, n, "logRotate")->count == 0 || section(s, n, "logRotate")->count == 2) &&
         section(s, n, "proxyPorts")->count + (section(s, n, "proxy")->count > 0) == section(s, n, "proxy")->count && strcmp(single(s, n, "id"), M.id) == 0 &&
         single(s, n, "name")[0] != '\0' && single(s, n, "name")[0] != '.' && !strchr(single(s, n, "name"), '/');
}

/* The seccomp program from its hex (the addon's FilterHex): malloc'd, or NULL
 * for none ("") and for text that is no whole program (spec_valid refuses it). */
static struct sock_filter *decode_filter(const char *hex, unsigned short *len) {
  size_t digits = strlen(hex);
  *len = 0;
  if (digits == 0 || digits % (2 * sizeof(struct sock_filter)) != 0 || digits / 2 / sizeof(struct sock_filter) > BPF_MAXINSNS) return NULL;
  unsigned char *program = malloc(digits / 2);
  if (!program) return NULL;
  for (size_t i = 0; i < digits / 2; i++) {
    int value = 0;
    for (int k = 0; k < 2; k++) {
      char c = hex[2 * i + (size_t)k];
      int nibble = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (nibble < 0) {
        free(program);
        return NULL;
      }
      value = value * 16 + nibble;
    }
    program[i] = (unsigned char)value;
  }
  *len = (unsigned short)(digits / 2 / sizeof(struct sock_filter));
  return (struct sock_filter *)program;
}

/* Points a child_spec into the decoded sections. */
static void build_spec(const struct wire_section *s, int n, struct child_spec *spec, char *exec_fd_arg) {
  memset(spec, 0, sizeof *spec);
  spec->argv = (char *const *)section(s, n, "argv")->strings;
  spec->envp = (char *const *)section(s, n, "env")->strings;
  spec->cwd = single(s, n, "cwd");
  spec->uid = (uid_t)strtoul(single(s, n, "uid"), NULL, 10);
  spec->gid = (gid_t)strtoul(single(s, n, "gid"), NULL, 10);
  const struct wire_section *groups = section(s, n, "groups");
  gid_t *gids = calloc(groups->count + 1, sizeof *gids);
  for (size_t i = 0; gids && i < groups->count; i++) gids[i] = (gid_t)strtoul(groups->strings[i], NULL, 10);
  spec->groups = gids;
  spec->ngroups = gids ? groups->count : 0;
  spec->hostname = single(s, n, "hostname");
  spec->rootfs = single(s, n, "rootfs");
  spec->lower_dirs = section(s, n, "lower")->strings;
  spec->nlower = section(s, n, "lower")->count;
  spec->upper_dir = single(s, n, "upper");
  spec->work_dir = single(s, n, "work");
  /* "0": the host's network; "1": a namespace of its own; a path: the namespace kept there. */
  spec->new_network = strcmp(single(s, n, "net"), "0") != 0;
  spec->netns_path = single(s, n, "net")[0] == '/' ? single(s, n, "net") : NULL;
  spec->filter = decode_filter(single(s, n, "seccomp"), &spec->filter_len);
  spec->caps = strtoull(single(s, n, "caps"), NULL, 10);
  spec->no_new_privs = strcmp(single(s, n, "nnp"), "1") == 0;
  spec->privileged = strcmp(single(s, n, "privileged"), "1") == 0;
  spec->readonly_rootfs = strcmp(single(s, n, "readonly"), "1") == 0;
  spec->sysctls = section(s, n, "sysctls")->strings;
  spec->nsysctls = section(s, n, "sysctls")->count / 2;
  /* devices: path, mode, major, minor, uid, gid. */
  const struct wire_section *devices = section(s, n, "devices");
  size_t ndevices = devices->count / 6;
  struct child_device *nodes = calloc(ndevices + 1, sizeof *nodes);
  for (size_t i = 0; nodes && i < ndevices; i++) {
    const char *const *d = devices->strings + i * 6;
    nodes[i] = (struct child_device){d[0], (mode_t)strtoul(d[1], NULL, 10), (unsigned)strtoul(d[2], NULL, 10),
                                     (unsigned)strtoul(d[3], NULL, 10), (uid_t)strtoul(d[4], NULL, 10), (gid_t)strtoul(d[5], NULL, 10)};
  }
  spec->devices = nodes;
  spec->ndevices = nodes ? ndevices : 0;
  /* mounts: kind (bind|tmpfs), source or tmpfs options, target, readonly, isFile, propagation (spec_valid checked it). */
  const struct wire_section *mounts = section(s, n, "mounts");
  size_t nbinds = mounts->count / MOUNT_FIELDS;
  struct child_bind *binds = calloc(nbinds + 1, sizeof *binds);
  for (size_t i = 0; binds && i < nbinds; i++) {
    const char *const *m = mounts->strings + i * MOUNT_FIELDS;
    child_propagation(m[5], &binds[i].propagation);
    int tmpfs = strcmp(m[0], "tmpfs") == 0;
    binds[i].source = tmpfs ? NULL : m[1];
    binds[i].tmpfs_options = tmpfs ? m[1] : NULL;
    binds[i].source_fd = -1;
    binds[i].target = m[2];
    binds[i].readonly = strcmp(m[3], "1") == 0;
    binds[i].is_file = strcmp(m[4], "1") == 0;
  }
  spec->binds = binds;
  spec->nbinds = binds ? nbinds : 0;
  spec->cgroup_join_files = section(s, n, "cgroupJoinFiles")->strings;
  spec->ncgroups = section(s, n, "cgroupJoinFiles")->count;
  /* rlimits: resource, soft, hard (-1 is unlimited). */
  const struct wire_section *rlimits = section(s, n, "rlimits");
  size_t nrlimits = rlimits->count / 3;
  struct child_rlimit *limits = calloc(nrlimits + 1, sizeof *limits);
  for (size_t i = 0; limits && i < nrlimits; i++) {
    limits[i].resource = atoi(rlimits->strings[i * 3]);
    limits[i].soft = (unsigned long long)strtoll(rlimits->strings[i * 3 + 1], NULL, 10);
    limits[i].hard = (unsigned long long)strtoll(rlimits->strings[i * 3 + 2], NULL, 10);
  }
  spec->rlimits = limits;
  spec->nrlimits = limits ? nrlimits : 0;
  spec->exec_fd = MON_EXEC_FD;
  /* nbox-exec ERROR_FD COMMAND...: child_spawn writes the fd number in. */
  size_t argc = section(s, n, "argv")->count;
  char **exec_argv = calloc(argc + 3, sizeof *exec_argv);
  if (exec_argv) {
    exec_argv[0] = (char *)"nbox-exec";
    exec_argv[1] = exec_fd_arg;
    for (size_t i = 0; i < argc; i++) exec_argv[i + 2] = spec->argv[i];
  }
  spec->exec_argv = exec_argv;
  spec->exec_fd_arg = exec_fd_arg;
  spec->join_pidfd = -1;
  spec->console_fd = -1; /* console_open gives a -t container one */
  spec->stdio[0] = -1;
  spec->stdio[1] = -1;
  spec->stdio[2] = -1;
}

/* -t: the pair the init sends its pty's master over (child.c makes the pty
 * in the container's own devpts). The monitor owns the master for the
 * container's life: it is the one `stdout` stream of the log, with the
 * terminal's \r\n endings, as in Docker. */
static int console_pair[2] = {-1, -1};
/* The size the first life's terminal starts at: the attached caller's (`run -it`, `start -ai`), else 0 by 0. */
static unsigned short console_rows, console_cols;

static int console_open(struct child_spec *spec) {
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, console_pair) < 0) return -1;
  spec->console_fd = console_pair[1];
  /* Else its size is unknown until an attached client resizes it, as `docker run -dt`'s. */
  spec->console_rows = console_rows;
  spec->console_cols = console_cols;
  return 0;
}

/* The master the init sent before it exec'd, or -1 with errno. */
static int console_receive(void) {
  close(console_pair[1]);
  int master = child_console_receive(console_pair[0]);
  int err = errno;
  close(console_pair[0]);
  errno = err;
  return master;
}

/* The control socket, containers/<id>/monitor.sock (monitor-proto.h): attach
 * clients get the output and may send input and resizes. It is bound through
 * /proc/self/fd/<dirfd> because sun_path holds 108 bytes and the store's path
 * may be longer, lives only inside the store (root's alone, never mounted into
 * a container), and is never abstract: a --network host container shares
 * that namespace. Every peer must be root. */
#define CTL_CLIENTS 16
#define CTL_LISTEN_ID 16 /* epoll ids: the listener, then CTL_CLIENT_ID + slot */
#define CTL_CLIENT_ID 32
#define CTL_INPUT_ID 17 /* the input fd, watched for room while a lossless client's input waits */
static struct ctl_client {
  int fd; /* -1: a free slot */
  int attached;
  int lossless; /* the start socket of `start -a`: waited for, never dropped for being slow */
  uint32_t flags;
  size_t len;
  unsigned char buf[sizeof(struct mon_hdr) + MON_CONTROL_MAX];
} ctl_clients[CTL_CLIENTS];
static int ctl_listen = -1, ctl_dir = -1, ctl_epoll = -1;
static int ctl_input = -1;   /* the terminal's master, or with -i the stdin pipe's write end */
static int ctl_console = -1; /* the terminal's master, which RESIZE sets the size of */

/* Binds the socket before STARTED, so an attach right after `run -d` finds it.
 * Without it the container runs on, and attach says so. */
static void control_open(void) {
  for (int i = 0; i < CTL_CLIENTS; i++) ctl_clients[i].fd = -1;
  ctl_dir = open(M.container_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ctl_dir < 0) return;
  /* A socket left by the last run's monitor. */
  unlinkat(ctl_dir, "monitor.sock", 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/monitor.sock", ctl_dir);
  ctl_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  mode_t mask = umask(077);
  int rc = ctl_listen < 0 ? -1 : bind(ctl_listen, (struct sockaddr *)&addr, sizeof addr);
  umask(mask);
  if (rc == 0) rc = listen(ctl_listen, CTL_CLIENTS);
  if (rc < 0 && ctl_listen >= 0) {
    close(ctl_listen);
    ctl_listen = -1;
  }
}

/* Watches the socket and its clients in ep: each life of the init (a restart) has an epoll of its own,
 * and attached clients stay attached across it. */
static void control_watch(int ep) {
  ctl_epoll = ep;
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.u32 = CTL_LISTEN_ID;
  if (ctl_listen >= 0) epoll_ctl(ep, EPOLL_CTL_ADD, ctl_listen, &ev);
  for (int i = 0; i < CTL_CLIENTS; i++) {
    if (ctl_clients[i].fd < 0) continue;
    ev.data.u32 = CTL_CLIENT_ID + (uint32_t)i;
    epoll_ctl(ep, EPOLL_CTL_ADD, ctl_clients[i].fd, &ev);
  }
}

/* At the end: no new client. The connected ones see EOF when the monitor
 * exits, after the end is on record. */
static void control_end(void) {
  if (ctl_listen < 0) return;
  unlinkat(ctl_dir, "monitor.sock", 0);
  close(ctl_listen);
  ctl_listen = -1;
}

/* A lossless client's input the container's stdin could not take yet: that
 * client is not read (its socket fills, and nbox holds its input back) until
 * this is written, so piped input reaches the container whole, while the
 * monitor goes on reading the container's output. */
static struct {
  unsigned char *data;
  size_t at, len;
  int slot; /* -1: nothing waits */
} input_wait = {.slot = -1};

/* Forgets waiting input: the client went, or the init it was for is gone. */
static void input_forget(void) {
  free(input_wait.data);
  input_wait.data = NULL;
  input_wait.at = input_wait.len = 0;
  input_wait.slot = -1;
}

static void control_drop(int slot) {
  if (input_wait.slot == slot) {
    if (ctl_input >= 0) epoll_ctl(ctl_epoll, EPOLL_CTL_DEL, ctl_input, NULL);
    input_forget();
  }
  epoll_ctl(ctl_epoll, EPOLL_CTL_DEL, ctl_clients[slot].fd, NULL);
  close(ctl_clients[slot].fd);
  ctl_clients[slot].fd = -1;
}

static void control_accept(void) {
  for (;;) {
    int fd = accept4(ctl_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    struct ucred cred;
    socklen_t len = sizeof cred;
    int slot = -1;
    for (int i = 0; i < CTL_CLIENTS && slot < 0; i++)
      if (ctl_clients[i].fd < 0) slot = i;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0 || slot < 0) {
      close(fd);
      continue;
    }
    /* Room for a burst of output: a client that cannot take a frame whole is dropped, never waited for. */
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    ctl_clients[slot] = (struct ctl_client){.fd = fd};
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.u32 = CTL_CLIENT_ID + (uint32_t)slot;
    epoll_ctl(ctl_epoll, EPOLL_CTL_ADD, fd, &ev);
  }
}

/* `start -a`: the start socket becomes an attached client before the init's
 * first output is read. It gets a slot even when the listener failed. */
static void control_adopt(int fd, uint32_t flags) {
  for (int i = 0; i < CTL_CLIENTS; i++) {
    if (ctl_clients[i].fd >= 0) continue;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    ctl_clients[i] = (struct ctl_client){.fd = fd, .attached = 1, .lossless = 1, .flags = flags};
    return;
  }
  close(fd);
}

/* Sends a frame whole to a client: 0, or -1 once it should be dropped. A
 * lossless client is waited for while its socket is full (the container's
 * pipe fills meanwhile and holds it back, as Docker's attach does); any other
 * one that cannot take the frame at once is dropped. */
static int control_send(struct ctl_client *c, const struct mon_hdr *hdr, const void *data, size_t len) {
  struct iovec iov[2] = {{(void *)hdr, sizeof *hdr}, {(void *)data, len}};
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
  size_t left = sizeof *hdr + len;
  while (left > 0) {
    ssize_t put = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0 && errno == EAGAIN && c->lossless) {
      struct pollfd p = {.fd = c->fd, .events = POLLOUT};
      poll(&p, 1, -1);
      continue;
    }
    if (put <= 0) return -1;
    if (!c->lossless && (size_t)put != left) return -1;
    left -= (size_t)put;
    while (put > 0) {
      size_t step = (size_t)put < msg.msg_iov->iov_len ? (size_t)put : msg.msg_iov->iov_len;
      msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + step;
      msg.msg_iov->iov_len -= step;
      put -= (ssize_t)step;
      if (msg.msg_iov->iov_len == 0 && msg.msg_iovlen > 1) {
        msg.msg_iov++;
        msg.msg_iovlen--;
      }
    }
  }
  return 0;
}

/* Input for the container; what its terminal or pipe cannot take now is lost, as the monitor never blocks. */
static void control_input(const unsigned char *data, size_t len) {
  while (len > 0) {
    ssize_t put = write(ctl_input, data, len);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return;
    data += put;
    len -= (size_t)put;
  }
}

/* A lossless client's input: what does not fit now waits (input_wait), and the client with it. */
static void control_input_lossless(int slot, const unsigned char *data, size_t len) {
  size_t at = 0;
  while (at < len) {
    ssize_t put = write(ctl_input, data + at, len - at);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0 && errno == EAGAIN) break;
    if (put <= 0) return; /* the container closed its stdin: the rest has no reader */
    at += (size_t)put;
  }
  if (at == len) return;
  input_wait.data = malloc(len - at);
  if (!input_wait.data) return;
  memcpy(input_wait.data, data + at, len - at);
  input_wait.len = len - at;
  input_wait.slot = slot;
  struct epoll_event ev = {.events = 0};
  ev.data.u32 = CTL_CLIENT_ID + (uint32_t)slot;
  epoll_ctl(ctl_epoll, EPOLL_CTL_MOD, ctl_clients[slot].fd, &ev);
  ev.events = EPOLLOUT;
  ev.data.u32 = CTL_INPUT_ID;
  epoll_ctl(ctl_epoll, EPOLL_CTL_ADD, ctl_input, &ev);
}

static void control_frame(struct ctl_client *c, uint32_t type, const unsigned char *data, uint32_t len) {
  if (type == MON_ATTACH && len == sizeof c->flags && !c->attached) {
    memcpy(&c->flags, data, sizeof c->flags);
    c->attached = 1;
  } else if (type == MON_STDIN && c->attached && (c->flags & MON_ATTACH_STDIN) && ctl_input >= 0) {
    /* An empty STDIN is the client's EOF: a -i pipe closes (a terminal has no EOF but ^D). */
    if (len > 0 && c->lossless) control_input_lossless((int)(c - ctl_clients), data, len);
    else if (len > 0) control_input(data, len);
    else if (ctl_input != ctl_console) {
      close(ctl_input);
      ctl_input = -1;
    }
  } else if (type == MON_RESIZE && len == sizeof(struct mon_resize) && ctl_console >= 0) {
    struct mon_resize size;
    memcpy(&size, data, sizeof size);
    struct winsize ws = {.ws_row = size.rows, .ws_col = size.cols};
    ioctl(ctl_console, TIOCSWINSZ, &ws);
  }
}

/* Handles the whole frames a client sent, until its input has to wait. */
static void control_frames(int slot) {
  struct ctl_client *c = &ctl_clients[slot];
  size_t at = 0;
  while (input_wait.slot != slot && c->len - at >= sizeof(struct mon_hdr)) {
    struct mon_hdr hdr;
    memcpy(&hdr, c->buf + at, sizeof hdr);
    if (hdr.len > MON_CONTROL_MAX) return control_drop(slot);
    if (c->len - at < sizeof hdr + hdr.len) break;
    control_frame(c, hdr.type, c->buf + at + sizeof hdr, hdr.len);
    at += sizeof hdr + hdr.len;
  }
  memmove(c->buf, c->buf + at, c->len - at);
  c->len -= at;
}

static void control_read(int slot) {
  struct ctl_client *c = &ctl_clients[slot];
  while (c->fd >= 0 && input_wait.slot != slot) {
    ssize_t got = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return;
    if (got <= 0) return control_drop(slot);
    c->len += (size_t)got;
    control_frames(slot);
  }
}

/* Room in the container's stdin: the waiting input goes on, then its client is read again. */
static void control_input_ready(void) {
  while (input_wait.at < input_wait.len) {
    ssize_t put = write(ctl_input, input_wait.data + input_wait.at, input_wait.len - input_wait.at);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0 && errno == EAGAIN) return;
    if (put <= 0) break;
    input_wait.at += (size_t)put;
  }
  int slot = input_wait.slot;
  epoll_ctl(ctl_epoll, EPOLL_CTL_DEL, ctl_input, NULL);
  input_forget();
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.u32 = CTL_CLIENT_ID + (uint32_t)slot;
  epoll_ctl(ctl_epoll, EPOLL_CTL_MOD, ctl_clients[slot].fd, &ev);
  /* Frames read before it waited, then whatever came since. */
  control_frames(slot);
  if (ctl_clients[slot].fd >= 0) control_read(slot);
}

static void control_event(uint32_t which) {
  if (which == CTL_LISTEN_ID) control_accept();
  else if (which == CTL_INPUT_ID) control_input_ready();
  else control_read((int)(which - CTL_CLIENT_ID));
}

/* The log streams' tap: each chunk of output goes to the clients attached to its stream. */
static void control_output(const struct log_stream *s, const unsigned char *data, size_t len) {
  int out = strcmp(s->name, "stdout") == 0;
  struct mon_hdr hdr = {out ? MON_STDOUT : MON_STDERR, (uint32_t)len};
  uint32_t want = out ? MON_ATTACH_STDOUT : MON_ATTACH_STDERR;
  for (int i = 0; i < CTL_CLIENTS; i++) {
    struct ctl_client *c = &ctl_clients[i];
    if (c->fd < 0 || !c->attached || !(c->flags & want)) continue;
    if (control_send(c, &hdr, data, len) < 0) control_drop(i);
  }
}

/* A life of the init ended and a restart is on record: a start socket's client
 * (`start -a`, a foreground `run`) was for that life, as Docker's CLI waits
 * for the next exit only. It gets the exit code and is let go. */
static void control_release(int code) {
  struct mon_hdr hdr = {MON_EXIT, sizeof(int32_t)};
  int32_t value = code;
  for (int i = 0; i < CTL_CLIENTS; i++) {
    if (ctl_clients[i].fd < 0 || !ctl_clients[i].lossless) continue;
    control_send(&ctl_clients[i], &hdr, &value, sizeof value);
    control_drop(i);
  }
}

/* The end is on record: attached clients get the exit code (a --rm
 * container's record is gone by now, so it is theirs only from here). */
static void control_exit(int code) {
  struct mon_hdr hdr = {MON_EXIT, sizeof(int32_t)};
  int32_t value = code;
  for (int i = 0; i < CTL_CLIENTS; i++)
    if (ctl_clients[i].fd >= 0 && ctl_clients[i].attached) control_send(&ctl_clients[i], &hdr, &value, sizeof value);
}

static long ms_since(const struct timespec *from) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - from->tv_sec) * 1000 + (now.tv_nsec - from->tv_nsec) / 1000000;
}

/* Reads the policy from the spec; nbox validated it (restart-policy.ts). */
static void restart_config(const struct wire_section *s, int n) {
  const char *name = single(s, n, "restart");
  R.name = strcmp(name, "always") == 0           ? RESTART_ALWAYS
           : strcmp(name, "on-failure") == 0     ? RESTART_ON_FAILURE
           : strcmp(name, "unless-stopped") == 0 ? RESTART_UNLESS_STOPPED
                                                 : RESTART_NO;
  R.max = strtol(single(s, n, "restartMax"), NULL, 10);
}

/* `update --restart` on a running container (update.ts) writes the new policy,
 * `NAME MAX`, to restart-policy in the container's directory: read at each
 * exit, before the restart decision. A new monitor's spec has it already. */
#define RESTART_POLICY_FILE "restart-policy"

static void restart_update(void) {
  char path[PATH_MAX + 32], text[64], name[32];
  snprintf(path, sizeof path, "%s/" RESTART_POLICY_FILE, M.container_dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  text[n > 0 ? n : 0] = '\0';
  long max = 0;
  if (sscanf(text, "%31s %ld", name, &max) != 2) return;
  R.name = strcmp(name, "always") == 0           ? RESTART_ALWAYS
           : strcmp(name, "on-failure") == 0     ? RESTART_ON_FAILURE
           : strcmp(name, "unless-stopped") == 0 ? RESTART_UNLESS_STOPPED
                                                 : RESTART_NO;
  R.max = max;
}

/* The stop marker `stop`, `kill` and `rm` write before they signal
 * (stop-marker.ts): `cancel` is moby's ExitOnNext, `manual` its
 * HasBeenManuallyStopped. No marker: neither. */
static void read_marker(int *cancel, int *manual) {
  char path[PATH_MAX + 16], text[64];
  snprintf(path, sizeof path, "%s/stopped", M.container_dir);
  *cancel = *manual = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  text[n > 0 ? n : 0] = '\0';
  *cancel = strstr(text, "cancel") != NULL;
  *manual = strstr(text, "manual") != NULL;
}

/* moby's RestartManager.ShouldRestart (restart-policy.ts shouldRestart). */
static int restart_wanted(int exit_code) {
  int cancel, manual;
  read_marker(&cancel, &manual);
  if (R.name == RESTART_NO || cancel) return 0;
  switch (R.name) {
  case RESTART_ALWAYS: return 1;
  case RESTART_UNLESS_STOPPED: return !manual;
  case RESTART_ON_FAILURE: return exit_code != 0 && (R.max == 0 || R.count < R.max);
  default: return 0;
  }
}

/* restart-policy.ts restartDelay: 100 ms doubling up to a minute, back to
 * 100 ms after a run of 10 s or more. */
static long restart_delay(long previous_ms, long ran_ms) {
  long previous = ran_ms >= 10000 ? 0 : previous_ms;
  if (previous == 0) return 100;
  return previous < 60000 ? (previous * 2 < 60000 ? previous * 2 : 60000) : 60000;
}

/* A session container's owner (RunOptions.session, src/runtime/session.ts): a
 * pidfd opened before the owner's start time is checked, so a reused pid is
 * never taken for it; -1 for a container without one. When it polls readable
 * the owner has died (SIGKILL included), and the container is killed with no
 * restart, as when the monitor is told to go. Its record is the session
 * sweep's to remove (nbox-reaper), with its volumes and lease. */
#define OWNER_ID 4
static int owner_pidfd = -1;
static int owner_gone;

/* Opens the owner's pidfd from the spec's sessionOwner (pid, start time; none when empty): 0, or -1 when that
 * process is gone already. */
static int owner_open(const struct wire_section *s, int n) {
  const struct wire_section *owner = section(s, n, "sessionOwner");
  if (owner->count != 2) return 0;
  pid_t pid = (pid_t)strtol(owner->strings[0], NULL, 10);
  owner_pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
  if (owner_pidfd >= 0) fcntl(owner_pidfd, F_SETFD, FD_CLOEXEC);
  if (owner_pidfd >= 0 && proc_start_time(pid, 0) == strtoull(owner->strings[1], NULL, 10)) return 0;
  if (owner_pidfd >= 0) close(owner_pidfd);
  owner_pidfd = -1;
  return -1;
}

/* Whether the owner has died, without waiting. */
static int owner_dead(void) {
  struct pollfd p = {.fd = owner_pidfd, .events = POLLIN};
  return owner_pidfd >= 0 && poll(&p, 1, 0) > 0;
}

/* The wait before a restart. It looks at the marker and the container's
 * directory every 100 ms, so a `stop` or `rm` in the meantime ends the
 * monitor at once, as does the death of a session's owner. 0: restart now;
 * -1: finish instead. */
static int restart_wait(int sigfd, long delay_ms) {
  struct timespec from;
  clock_gettime(CLOCK_MONOTONIC, &from);
  for (;;) {
    int cancel, manual;
    read_marker(&cancel, &manual);
    if (cancel || (R.name == RESTART_UNLESS_STOPPED && manual) || access(M.container_dir, F_OK) < 0 || owner_dead()) return -1;
    long left = delay_ms - ms_since(&from);
    if (left <= 0) return 0;
    struct pollfd p = {.fd = sigfd, .events = POLLIN};
    if (poll(&p, 1, (int)(left < 100 ? left : 100)) > 0) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si)
        if (si.ssi_signo != SIGCHLD) return -1;
    }
  }
}

/* `snapshot` and `restore` of a running container (container-snapshot.ts)
 * write LAYER_OP_FILE in its directory, then end the init; the monitor acts on
 * it between two lives, so the container keeps its monitor, cgroup, network
 * namespace, address and ports, and runs again at once:
 *   "snapshot N": upper/ becomes snapshots/N, the topmost lower;
 *   "restore NAME DROP": upper/ goes to the store's tmp/NAME (nbox deletes it),
 *   and the DROP topmost lowers, which must be this container's snapshots, go.
 * Either way a fresh upper/ gets the mode and owner of the snapshot root it
 * covers (snapshot-layers.ts freshUpperDir).
 * Returns 1 when done, 0 without an op, -1 on failure (M.error says it). */
#define LAYER_OP_FILE "snapshot-op"
#define SNAPSHOTS_DIR "snapshots"

static int layer_failed(const char *what, int err) {
  static char text[160];
  snprintf(text, sizeof text, "%s: %s", what, strerror(err));
  M.error = text;
  return -1;
}

/* The upper dir's root stands for the top of the merged root: it copies the root below it. */
static int fresh_upper(int cdir, const char *below) {
  struct stat st;
  int have = below && fstatat(cdir, below, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
  if (mkdirat(cdir, "upper", 0755) < 0) return -1;
  if (have && (fchmodat(cdir, "upper", st.st_mode & 07777, 0) < 0 || fchownat(cdir, "upper", st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)) return -1;
  return 0;
}

static int temp_name_valid(const char *name) {
  size_t len = strlen(name);
  if (len == 0 || len > 100) return 0;
  for (size_t i = 0; i < len; i++)
    if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'z') || name[i] == '-')) return 0;
  return 1;
}

static int layer_change(struct child_spec *spec) {
  char path[PATH_MAX + 32], text[160];
  snprintf(path, sizeof path, "%s/" LAYER_OP_FILE, M.container_dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  unlink(path);
  text[n > 0 ? n : 0] = '\0';
  int cancel, manual;
  read_marker(&cancel, &manual);
  /* A stop or rm since: that end stands. */
  if (cancel) return 0;
  /* The layers change under a new mount: the old one goes first. */
  release_mount_ns();
  int cdir = open(M.container_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cdir < 0) return layer_failed("snapshot", errno);
  char name[128], prefix[PATH_MAX + 16];
  unsigned long number, drop;
  int rc = -1;
  snprintf(prefix, sizeof prefix, "%s/" SNAPSHOTS_DIR "/", M.container_dir);
  if (sscanf(text, "snapshot %lu", &number) == 1 && number >= 1 && number < 1000000000UL) {
    char rel[64];
    snprintf(rel, sizeof rel, SNAPSHOTS_DIR "/%lu", number);
    const char **lowers = calloc(spec->nlower + 1, sizeof *lowers);
    char *lower = malloc(strlen(prefix) + 16);
    if (!lowers || !lower) {
      free(lowers);
      free(lower);
      close(cdir);
      return layer_failed("snapshot", ENOMEM);
    }
    sprintf(lower, "%s%lu", prefix, number);
    if ((mkdirat(cdir, SNAPSHOTS_DIR, 0700) < 0 && errno != EEXIST) || renameat(cdir, "upper", cdir, rel) < 0 || fresh_upper(cdir, rel) < 0) {
      rc = layer_failed("snapshot", errno);
      free(lowers);
      free(lower);
    } else {
      lowers[0] = lower;
      memcpy(lowers + 1, spec->lower_dirs, spec->nlower * sizeof *lowers);
      spec->lower_dirs = lowers;
      spec->nlower++;
      rc = 1;
    }
  } else if (sscanf(text, "restore %127s %lu", name, &drop) == 2 && temp_name_valid(name) && drop < spec->nlower) {
    int ours = 1;
    for (unsigned long i = 0; i < drop; i++) ours = ours && strncmp(spec->lower_dirs[i], prefix, strlen(prefix)) == 0;
    if (!ours) {
      rc = layer_failed("restore", EINVAL);
    } else {
      /* The root below the new upper: the topmost snapshot kept, if any. */
      const char *kept = spec->lower_dirs[drop];
      char rel[64] = "";
      if (strncmp(kept, prefix, strlen(prefix)) == 0) snprintf(rel, sizeof rel, SNAPSHOTS_DIR "/%s", kept + strlen(prefix));
      if (renameat(cdir, "upper", M.tmp_fd, name) < 0 || fresh_upper(cdir, rel[0] ? rel : NULL) < 0) {
        rc = layer_failed("restore", errno);
      } else {
        spec->lower_dirs += drop;
        spec->nlower -= drop;
        rc = 1;
      }
    }
  } else {
    rc = layer_failed("snapshot", EINVAL);
  }
  close(cdir);
  return rc;
}

/* -t and -i, from the spec: how each life of the init gets its stdio. */
static struct {
  int tty, open_stdin;
} IO;

static void io_failed(struct child_error *cerr, int step, const char *syscall_name, int err) {
  memset(cerr, 0, sizeof *cerr);
  cerr->step = step;
  cerr->err = err;
  cerr->index = -1;
  snprintf(cerr->syscall, sizeof cerr->syscall, "%s", syscall_name);
}

/* Clones the init with fresh stdio: log pipes, or with -t a pty whose master
 * comes back from the init (fds[1] is then -1: a terminal is one stream); with
 * -i a stdin pipe (or the master) attach clients write into. fds[] gets what
 * the log reads. */
static void close_pair(int pair[2]) {
  for (int i = 0; i < 2; i++)
    if (pair[i] >= 0) close(pair[i]);
}

static int spawn_init(struct child_spec *spec, struct spawn_result *res, struct child_error *cerr, int fds[2]) {
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, in_pipe[2] = {-1, -1};
  int opened = IO.tty ? console_open(spec) : pipe2(out_pipe, O_CLOEXEC) < 0 ? -1 : pipe2(err_pipe, O_CLOEXEC);
  if (opened == 0 && IO.open_stdin && !IO.tty) opened = pipe2(in_pipe, O_CLOEXEC);
  if (opened < 0) {
    io_failed(cerr, -1, IO.tty ? "socketpair" : "pipe2", errno);
    close_pair(out_pipe);
    close_pair(err_pipe);
    return -1;
  }
  spec->stdio[0] = in_pipe[0];
  spec->stdio[1] = out_pipe[1];
  spec->stdio[2] = err_pipe[1];
  int rc = child_spawn(spec, res, cerr);
  /* The init's ends. */
  int theirs[3] = {in_pipe[0], out_pipe[1], err_pipe[1]};
  for (int i = 0; i < 3; i++)
    if (theirs[i] >= 0) close(theirs[i]);
  if (rc < 0) {
    if (IO.tty) close_pair(console_pair);
    int ours[3] = {in_pipe[1], out_pipe[0], err_pipe[0]};
    for (int i = 0; i < 3; i++)
      if (ours[i] >= 0) close(ours[i]);
    return -1;
  }
  /* The last life's input, if any; input that waited for it goes with it. */
  input_forget();
  if (ctl_input >= 0 && ctl_input != ctl_console) close(ctl_input);
  if (ctl_console >= 0) close(ctl_console);
  ctl_input = ctl_console = -1;
  if (IO.tty) {
    int master = console_receive();
    if (master < 0) {
      int err = errno;
      syscall(SYS_pidfd_send_signal, res->pidfd, SIGKILL, NULL, 0);
      siginfo_t si;
      waitid((idtype_t)P_PIDFD, (id_t)res->pidfd, &si, WEXITED);
      close(res->pidfd);
      if (res->mount_ns >= 0) close(res->mount_ns);
      io_failed(cerr, STEP_TERMINAL, "recvmsg", err);
      return -1;
    }
    /* Its own fd: the log stream closes the master at EOF, and no later fd may take its number. */
    ctl_console = fcntl(master, F_DUPFD_CLOEXEC, 0);
    if (IO.open_stdin) ctl_input = ctl_console;
    fds[0] = master;
    fds[1] = -1;
  } else {
    if (in_pipe[1] >= 0) {
      fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
      ctl_input = in_pipe[1];
    }
    fds[0] = out_pipe[0];
    fds[1] = err_pipe[0];
  }
  held_mnt_ns = res->mount_ns;
  clock_gettime(CLOCK_MONOTONIC, &R.run_start);
  return 0;
}

/* A failed restart as Docker records it (launch.ts startFailure's codes). */
static void record_spawn_failure(const struct child_error *cerr) {
  int exec = cerr->step == STEP_EXEC;
  M.exit_code = exec && cerr->err == ENOENT ? 127
                : exec && (cerr->err == EACCES || cerr->err == ENOEXEC || cerr->err == EISDIR) ? 126
                                                                                                : 125;
  static char text[160];
  snprintf(text, sizeof text, "restart failed: %s: %s: %s", cerr->step >= 0 ? child_step_name(cerr->step) : "monitor",
           cerr->syscall, strerror(cerr->err));
  M.error = text;
}

/* HEALTHCHECK: the probe runs through child_spawn's join mode (CLONE_PARENT
 * makes it this monitor's child) with the container's env, user and cwd, and
 * its result is judged as moby's handleProbeResult does (daemon/health.go). */
#define HEALTH_LOG_MAX 5
#define HEALTH_OUTPUT_MAX 4096
enum { HEALTH_TIMER = 8, HEALTH_PROBE, HEALTH_OUTPUT };

struct health_result {
  char start[JSONW_TIME_MAX], end[JSONW_TIME_MAX];
  int exit_code;
  size_t len;
  char output[HEALTH_OUTPUT_MAX + 1];
};

static struct {
  int enabled;
  long interval_ms, timeout_ms, start_period_ms, start_interval_ms;
  long retries;
  const char *timeout_text;
  const char *status;
  long streak;
  struct health_result log[HEALTH_LOG_MAX], current;
  int nlog;
  struct child_spec spec;
  char exec_fd_arg[CHILD_EXEC_ARG_MAX];
  int timer_fd, init_pidfd, probe_pidfd, probe_out, timed_out;
  struct timespec run_start;
} H = {.timer_fd = -1, .probe_pidfd = -1, .probe_out = -1};

/* Reads the probe from the spec: a copy of the container's spec in join
 * mode, with the probe's argv. */
static int health_config(const struct wire_section *s, int n, const struct child_spec *container) {
  const struct wire_section *argv = section(s, n, "health"), *times = section(s, n, "healthTimes");
  if (argv->count == 0) return 0;
  if (times->count != 6) return -1;
  H.interval_ms = strtol(times->strings[0], NULL, 10);
  H.timeout_ms = strtol(times->strings[1], NULL, 10);
  H.start_period_ms = strtol(times->strings[2], NULL, 10);
  H.start_interval_ms = strtol(times->strings[3], NULL, 10);
  H.retries = strtol(times->strings[4], NULL, 10);
  H.timeout_text = times->strings[5];
  if (H.interval_ms <= 0 || H.timeout_ms <= 0 || H.start_interval_ms <= 0 || H.retries <= 0) return -1;
  H.spec = *container;
  H.spec.argv = (char *const *)argv->strings;
  char **exec_argv = calloc(argv->count + 3, sizeof *exec_argv);
  if (!exec_argv) return -1;
  exec_argv[0] = (char *)"nbox-exec";
  exec_argv[1] = H.exec_fd_arg;
  for (size_t i = 0; i < argv->count; i++) exec_argv[i + 2] = (char *)argv->strings[i];
  H.spec.exec_argv = exec_argv;
  H.spec.exec_fd_arg = H.exec_fd_arg;
  H.spec.console_fd = -1;
  H.spec.detach = 0;
  H.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (H.timer_fd < 0) return -1;
  H.enabled = 1;
  return 0;
}

static void health_arm(long ms) {
  struct itimerspec at = {.it_value = {ms / 1000, (ms % 1000) * 1000000L}};
  timerfd_settime(H.timer_fd, 0, &at, NULL);
}

/* moby's probe interval: the start interval while starting inside the start period. */
static long health_next_interval(void) {
  int early = strcmp(H.status, "starting") == 0 && ms_since(&H.run_start) < H.start_period_ms;
  return early ? H.start_interval_ms : H.interval_ms;
}

/* The health JSON of state.json, appended at o (health_json_max bytes at most). */
static size_t health_json_max(void) {
  return H.enabled ? 128 + HEALTH_LOG_MAX * (JSONW_ESCAPED_MAX(HEALTH_OUTPUT_MAX) + 2 * JSONW_TIME_MAX + 96) : 0;
}

static char *health_json(char *o) {
  if (!H.enabled) return o;
  o += sprintf(o, ",\"health\":{\"status\":\"%s\",\"failingStreak\":%ld,\"log\":[", H.status, H.streak);
  for (int i = 0; i < H.nlog; i++) {
    const struct health_result *r = &H.log[i];
    o += sprintf(o, "%s{\"start\":\"%s\",\"end\":\"%s\",\"exitCode\":%d,\"output\":\"", i ? "," : "", r->start, r->end,
                 r->exit_code);
    o += jsonw_escape(o, (const unsigned char *)r->output, r->len);
    o += sprintf(o, "\"}");
  }
  return o + sprintf(o, "]}");
}

/* Whether the container's cgroup is frozen (`pause`): no probe runs then. */
static int health_paused(void) {
  for (size_t i = 0; i < M.ncgroups; i++) {
    char path[PATH_MAX], text[16] = "";
    snprintf(path, sizeof path, "%s/cgroup.freeze", M.cgroup_dirs[i]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      snprintf(path, sizeof path, "%s/freezer.state", M.cgroup_dirs[i]);
      fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) continue;
    ssize_t got = read(fd, text, sizeof text - 1);
    close(fd);
    if (got > 0 && (text[0] == '1' || strncmp(text, "FR", 2) == 0)) return 1;
  }
  return 0;
}

/* handleProbeResult: 0 is healthy; a failure counts toward unhealthy unless
 * the container is starting inside its start period. The last 5 are kept. */
static void health_result(void) {
  struct health_result *r = &H.current;
  now_text(r->end);
  if (r->exit_code == 0) {
    H.streak = 0;
    H.status = "healthy";
  } else if (!(strcmp(H.status, "starting") == 0 && ms_since(&H.run_start) < H.start_period_ms)) {
    if (++H.streak >= H.retries) H.status = "unhealthy";
  }
  if (H.nlog == HEALTH_LOG_MAX) {
    memmove(&H.log[0], &H.log[1], sizeof H.log[0] * (HEALTH_LOG_MAX - 1));
    H.nlog--;
  }
  H.log[H.nlog++] = *r;
  write_state(1);
  health_arm(health_next_interval());
}

static void health_output(int ep, int to_eof) {
  char scrap[4096];
  for (;;) {
    struct health_result *r = &H.current;
    size_t room = HEALTH_OUTPUT_MAX - r->len;
    /* Past the cap the rest is read and dropped, so the probe never blocks on a full pipe. */
    ssize_t got = room > 0 ? read(H.probe_out, r->output + r->len, room) : read(H.probe_out, scrap, sizeof scrap);
    if (got > 0) {
      if (room > 0) r->len += (size_t)got;
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN && !to_eof) return;
    break;
  }
  epoll_ctl(ep, EPOLL_CTL_DEL, H.probe_out, NULL);
  close(H.probe_out);
  H.probe_out = -1;
}

static void health_spawn(int ep) {
  struct health_result *r = &H.current;
  memset(r, 0, sizeof *r);
  now_text(r->start);
  int out[2];
  struct spawn_result res;
  struct child_error cerr;
  if (pipe2(out, O_CLOEXEC) < 0) {
    r->exit_code = -1;
    r->len = (size_t)snprintf(r->output, sizeof r->output, "pipe2: %s", strerror(errno));
    health_result();
    return;
  }
  H.spec.join_pidfd = H.init_pidfd;
  H.spec.stdio[0] = -1;
  H.spec.stdio[1] = out[1];
  H.spec.stdio[2] = out[1];
  int rc = child_spawn(&H.spec, &res, &cerr);
  close(out[1]);
  if (rc < 0) {
    close(out[0]);
    r->exit_code = -1;
    const char *command = H.spec.argv[0];
    if (cerr.step == STEP_EXEC && cerr.err == ENOENT && !strchr(command, '/'))
      r->len = (size_t)snprintf(r->output, sizeof r->output, "exec: \"%s\": executable file not found in $PATH", command);
    else
      r->len = (size_t)snprintf(r->output, sizeof r->output, "exec: \"%s\": %s: %s: %s", command,
                                cerr.step >= 0 ? child_step_name(cerr.step) : "monitor", cerr.syscall, strerror(cerr.err));
    if (r->len > HEALTH_OUTPUT_MAX) r->len = HEALTH_OUTPUT_MAX;
    health_result();
    return;
  }
  H.probe_pidfd = res.pidfd;
  H.probe_out = out[0];
  H.timed_out = 0;
  fcntl(H.probe_out, F_SETFL, O_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.u32 = HEALTH_PROBE;
  epoll_ctl(ep, EPOLL_CTL_ADD, H.probe_pidfd, &ev);
  ev.data.u32 = HEALTH_OUTPUT;
  epoll_ctl(ep, EPOLL_CTL_ADD, H.probe_out, &ev);
  health_arm(H.timeout_ms);
}

static void health_reaped(int ep) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (waitid((idtype_t)P_PIDFD, (id_t)H.probe_pidfd, &info, WEXITED | WNOHANG) < 0 || info.si_pid == 0) return;
  epoll_ctl(ep, EPOLL_CTL_DEL, H.probe_pidfd, NULL);
  close(H.probe_pidfd);
  H.probe_pidfd = -1;
  /* What it wrote is in the pipe; a writer it left behind is not waited for. */
  if (H.probe_out >= 0) health_output(ep, 0);
  if (H.probe_out >= 0) {
    epoll_ctl(ep, EPOLL_CTL_DEL, H.probe_out, NULL);
    close(H.probe_out);
    H.probe_out = -1;
  }
  struct health_result *r = &H.current;
  if (H.timed_out) {
    r->exit_code = -1;
    r->len = (size_t)snprintf(r->output, sizeof r->output, "Health check exceeded timeout (%s)", H.timeout_text);
  } else {
    int signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
    r->exit_code = signaled ? 128 + info.si_status : info.si_status;
  }
  health_result();
}

/* The timer: the next probe is due, or the running one has timed out. */
static void health_timer(int ep) {
  uint64_t expirations;
  if (read(H.timer_fd, &expirations, sizeof expirations) < 0) return;
  if (H.probe_pidfd >= 0) {
    H.timed_out = 1;
    syscall(SYS_pidfd_send_signal, H.probe_pidfd, SIGKILL, NULL, 0);
    return;
  }
  if (health_paused()) health_arm(health_next_interval());
  else health_spawn(ep);
}

/* Called by the epoll loop for the health events. */
static void health_event(int ep, uint32_t which) {
  if (which == HEALTH_TIMER) health_timer(ep);
  else if (which == HEALTH_PROBE) health_reaped(ep);
  else if (H.probe_out >= 0) health_output(ep, 0);
}

/* Each (re)start: starting again, before its running state is written. */
static void health_reset(void) {
  H.status = "starting";
  H.streak = 0;
}

/* The first probe of a run is an interval away. */
static void health_start(int ep, int init_pidfd) {
  if (!H.enabled) return;
  H.init_pidfd = init_pidfd;
  clock_gettime(CLOCK_MONOTONIC, &H.run_start);
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.u32 = HEALTH_TIMER;
  epoll_ctl(ep, EPOLL_CTL_ADD, H.timer_fd, &ev);
  health_arm(health_next_interval());
}

/* The init exited: a running probe goes with it, and no more are due. */
static void health_stop(int ep) {
  if (!H.enabled) return;
  health_arm(0);
  epoll_ctl(ep, EPOLL_CTL_DEL, H.timer_fd, NULL);
  if (H.probe_pidfd >= 0) {
    syscall(SYS_pidfd_send_signal, H.probe_pidfd, SIGKILL, NULL, 0);
    siginfo_t info;
    waitid((idtype_t)P_PIDFD, (id_t)H.probe_pidfd, &info, WEXITED);
    epoll_ctl(ep, EPOLL_CTL_DEL, H.probe_pidfd, NULL);
    close(H.probe_pidfd);
    H.probe_pidfd = -1;
  }
  if (H.probe_out >= 0) {
    epoll_ctl(ep, EPOLL_CTL_DEL, H.probe_out, NULL);
    close(H.probe_out);
    H.probe_out = -1;
  }
  /* As Docker's: a container that is not running is not healthy. */
  H.status = "unhealthy";
}

/* Runs one life of the init: its logs until it exits, then drains them (at
 * most DRAIN_MS). Sets M.exit_code; 1 when the monitor was told to go or the
 * session's owner died. */
static int supervise(int sigfd, int pidfd, const int fds[2], struct log_file *log) {
  /* A terminal is one stream: its master. */
  int nstreams = fds[1] < 0 ? 1 : 2;
  struct log_stream streams[2];
  logfile_stream(&streams[0], fds[0], "stdout");
  logfile_stream(&streams[1], fds[1], "stderr");
  streams[0].tap = control_output;
  streams[1].tap = control_output;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.u32 = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, sigfd, &ev);
  ev.data.u32 = 1;
  epoll_ctl(ep, EPOLL_CTL_ADD, pidfd, &ev);
  ev.data.u32 = OWNER_ID;
  if (owner_pidfd >= 0 && !owner_gone) epoll_ctl(ep, EPOLL_CTL_ADD, owner_pidfd, &ev);
  control_watch(ep);
  for (uint32_t i = 0; i < (uint32_t)nstreams; i++) {
    fcntl(streams[i].fd, F_SETFL, O_NONBLOCK);
    ev.data.u32 = 2 + i;
    epoll_ctl(ep, EPOLL_CTL_ADD, streams[i].fd, &ev);
  }
  health_start(ep, pidfd);
  int terminated = 0, open_streams = nstreams;
  long drain_left = -1; /* ms left to drain the logs once the init is reaped */
  siginfo_t exit_info;
  for (;;) {
    if (drain_left >= 0 && open_streams == 0) break;
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    struct epoll_event events[8];
    int ready = epoll_wait(ep, events, 8, drain_left >= 0 ? (int)drain_left : -1);
    if (ready < 0 && errno != EINTR) break;
    if (drain_left >= 0) {
      clock_gettime(CLOCK_MONOTONIC, &after);
      drain_left -= (after.tv_sec - before.tv_sec) * 1000 + (after.tv_nsec - before.tv_nsec) / 1000000;
      if (ready == 0 || drain_left <= 0) break;
    }
    for (int e = 0; e < ready; e++) {
      uint32_t which = events[e].data.u32;
      if (which == 0) {
        struct signalfd_siginfo si;
        while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
          if (si.ssi_signo == SIGCHLD) continue;
          /* Told to go (a session shutting down): the container goes first. */
          terminated = 1;
          syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        }
      } else if (which == 1) {
        memset(&exit_info, 0, sizeof exit_info);
        if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &exit_info, WEXITED | WNOHANG) < 0 || exit_info.si_pid == 0)
          continue;
        health_stop(ep);
        epoll_ctl(ep, EPOLL_CTL_DEL, pidfd, NULL);
        close(pidfd);
        int signaled = exit_info.si_code == CLD_KILLED || exit_info.si_code == CLD_DUMPED;
        M.exit_code = signaled ? 128 + exit_info.si_status : exit_info.si_status;
        if (terminated) {
          M.exit_code = 137;
          M.error = owner_gone ? "the session's owner exited: the container was killed" : "nbox-monitor was terminated: the container was killed";
        }
        drain_left = DRAIN_MS;
      } else if (which == OWNER_ID) {
        /* Level-triggered and readable from now on: watched no more. */
        epoll_ctl(ep, EPOLL_CTL_DEL, owner_pidfd, NULL);
        owner_gone = 1;
        terminated = 1;
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
      } else if (which >= CTL_LISTEN_ID) {
        control_event(which);
      } else if (which >= HEALTH_TIMER) {
        health_event(ep, which);
      } else {
        struct log_stream *s = &streams[which - 2];
        if (logfile_read(s, log) == 0) {
          epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
          close(s->fd);
          s->fd = -1;
          open_streams--;
        }
      }
    }
  }
  for (int i = 0; i < nstreams; i++) {
    logfile_end(&streams[i], log);
    if (streams[i].fd >= 0) close(streams[i].fd);
  }
  close(ep);
  return terminated;
}


/* A spare monitor (monitor.ts keeps one spawned ahead for a library's next
 * run) is spawned with this ID and takes its container's from the spec, in
 * place: argv[1] keeps its length, and ps shows the container's ID as ever. */
#define SPARE_ID "0000000000000000000000000000000000000000000000000000000000000000"

static void adopt_id(char *spare, const struct wire_section *id) {
  if (!id || id->count != 1 || strlen(id->strings[0]) != 64 || strspn(id->strings[0], "0123456789abcdef") != 64) return;
  memcpy(spare, id->strings[0], 64);
}

/* The network namespace of a container that has its own (--network none), made
 * while nbox prepares the spec when argv[2] asks for it: its making (half a
 * millisecond here) is then off the start's path. -1: the clone makes one. */
static int ready_netns = -1;
static char ready_netns_path[32];

/* The first run's namespace is the one made ahead; a restart's is made by its clone. */
static void use_ready_netns(struct child_spec *spec) {
  if (ready_netns < 0 || !spec->new_network || spec->netns_path) return;
  snprintf(ready_netns_path, sizeof ready_netns_path, "/proc/self/fd/%d", ready_netns);
  spec->netns_path = ready_netns_path;
}

static void drop_ready_netns(struct child_spec *spec) {
  if (ready_netns < 0) return;
  if (spec->netns_path == ready_netns_path) spec->netns_path = NULL;
  close(ready_netns);
  ready_netns = -1;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3 || strlen(argv[1]) != 64 || strspn(argv[1], "0123456789abcdef") != 64) return 2;
  /* A library caller's fds without close-on-exec never reach the monitor. */
  syscall(SYS_close_range, MON_EXEC_FD + 1, ~0U, 0);
  /* Fork once: the caller reaps this process (when HELLO comes) and never
   * gets a SIGCHLD or a zombie of the monitor. */
  pid_t forked = fork();
  if (forked < 0) return 1;
  if (forked > 0) _exit(0);
  setsid();
  prctl(PR_SET_NAME, "nbox-monitor", 0, 0, 0);
  const char *stop_at = getenv("NBOX_TEST_STOP_AT");
  if (stop_at && strncmp(stop_at, "monitor:", 8) == 0) fault_step = stop_at + 8;
  /* It may live long: it keeps no caller's directory busy (every path it uses is absolute). */
  if (chdir("/") < 0) _exit(1);
  M.id = argv[1];
  M.self = getpid();
  M.self_start = proc_start_time(M.self, 0);
  struct stat ns;
  M.pid_namespace = stat("/proc/self/ns/pid", &ns) == 0 ? (unsigned long long)ns.st_ino : 0;

  /* Signals are read from a signalfd. SIGCHLD is blocked, never ignored:
   * ignoring it would reap the init before waitid(P_PIDFD) sees it. */
  sigset_t handled;
  sigemptyset(&handled);
  int signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT};
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) sigaddset(&handled, signals[i]);
  sigprocmask(SIG_BLOCK, &handled, NULL);
  signal(SIGPIPE, SIG_IGN);
  int sigfd = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);

  struct mon_process hello = {.pid = M.self, .start = M.self_start};
  if (sigfd < 0 || wire_send(MON_SOCKET_FD, MON_HELLO, &hello, sizeof hello) < 0) _exit(1);
  fault_point("hello");
  if (argc == 3 && strcmp(argv[2], "netns") == 0) {
    const char *failed;
    ready_netns = net_netns_new(&failed);
  }

  struct mon_hdr hdr;
  char *payload = malloc(MON_SPEC_MAX + 1);
  if (!payload) _exit(1);
  int got = wire_recv_fds(MON_SOCKET_FD, &hdr, payload, MON_SPEC_MAX, port_fds, MON_PORTS_MAX, &nports);
  /* EOF: nbox gave up (or died) before the container existed. */
  if (got <= 0 || hdr.type != MON_SPEC) _exit(0);
  payload[hdr.len] = '\0';
  struct wire_section sections[MAX_SECTIONS];
  int n = wire_decode(payload, hdr.len, sections, MAX_SECTIONS);
  if (n >= 0 && strcmp(argv[1], SPARE_ID) == 0) adopt_id(argv[1], section(sections, n, "id"));
  if (n < 0 || !spec_valid(sections, n)) send_failed(-1, "monitor-spec", "decode", EPROTO, -1);
  char nports_text[16];
  snprintf(nports_text, sizeof nports_text, "%zu", nports);
  if (strcmp(single(sections, n, "ports"), nports_text) != 0) send_failed(-1, "monitor-spec", "recvmsg", EPROTO, -1);

  fault_point("spec");
  M.name = single(sections, n, "name");
  M.store = single(sections, n, "store");
  M.auto_remove = strcmp(single(sections, n, "autoRemove"), "1") == 0;
  exit_command = (char *const *)section(sections, n, "exitCommand")->strings;
  exit_leases = section(sections, n, "exitLeases");
  M.cgroup_dirs = section(sections, n, "cgroupDirs")->strings;
  M.ncgroups = section(sections, n, "cgroupDirs")->count;
  M.error = "";
  memcpy(M.finished, ZERO_TIME, sizeof ZERO_TIME);
  char tmp_path[PATH_MAX];
  /* The store path is nbox's own (at most a few hundred bytes); the id is 64 hex digits. */
  if (strlen(M.store) > PATH_MAX - 256) send_failed(-1, "monitor-store", "open", ENAMETOOLONG, -1);
  snprintf(tmp_path, sizeof tmp_path, "%s/tmp", M.store);
  snprintf(M.container_dir, sizeof M.container_dir, "%s/containers/%s", M.store, M.id);
  snprintf(M.state_path, sizeof M.state_path, "%s/state.json", M.container_dir);
  M.tmp_fd = open(tmp_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (M.tmp_fd < 0) send_failed(-1, "monitor-store", "open", errno, -1);

  struct child_spec spec;
  char exec_fd_arg[CHILD_EXEC_ARG_MAX] = "";
  build_spec(sections, n, &spec, exec_fd_arg);
  if (!spec.groups || !spec.binds || !spec.rlimits || !spec.exec_argv || !spec.devices) send_failed(-1, "monitor-spec", "calloc", ENOMEM, -1);
  /* A filter asked for and not decoded never runs the container unconfined. */
  if (single(sections, n, "seccomp")[0] != '\0' && !spec.filter) send_failed(-1, "monitor-spec", "seccomp", EPROTO, -1);
  if (health_config(sections, n, &spec) < 0) send_failed(-1, "monitor-spec", "health", EINVAL, -1);
  if (owner_open(sections, n) < 0) send_failed(-1, "monitor-session", "pidfd_open", ESRCH, -1);

  struct log_file log;
  if (logfile_open(&log, single(sections, n, "log")) < 0) send_failed(-1, "monitor-log", "open", errno, -1);
  const struct wire_section *rotation = section(sections, n, "logRotate");
  if (rotation->count == 2) logfile_limit(&log, strtoull(rotation->strings[0], NULL, 10), atoi(rotation->strings[1]));
  restart_config(sections, n);
  /* An update of the last run's monitor: this spec already holds it. */
  char policy_path[PATH_MAX + 32];
  snprintf(policy_path, sizeof policy_path, "%s/" RESTART_POLICY_FILE, M.container_dir);
  unlink(policy_path);
  IO.tty = strcmp(single(sections, n, "tty"), "1") == 0;
  IO.open_stdin = strcmp(single(sections, n, "stdin"), "1") == 0;
  console_rows = (unsigned short)strtoul(section(sections, n, "ttySize")->strings[0], NULL, 10);
  console_cols = (unsigned short)strtoul(section(sections, n, "ttySize")->strings[1], NULL, 10);

  struct spawn_result res;
  struct child_error cerr;
  int fds[2];
  M.oom_base = oom_kill_count();
  M.cpu_base = cpu_time_ns();
  use_ready_netns(&spec);
  int spawned = spawn_init(&spec, &res, &cerr, fds);
  drop_ready_netns(&spec);
  if (spawned < 0)
    send_failed(cerr.step, cerr.step >= 0 ? child_step_name(cerr.step) : "monitor-log", cerr.syscall, cerr.err, cerr.index);
  fault_point("spawned");
  M.pid = res.pid;
  M.pid_start = proc_start_time(res.pid, 0);
  M.status = "running";
  now_text(M.started);
  health_reset();
  if (write_state(1) < 0) {
    int err = errno;
    syscall(SYS_pidfd_send_signal, res.pidfd, SIGKILL, NULL, 0);
    siginfo_t si;
    waitid((idtype_t)P_PIDFD, (id_t)res.pidfd, &si, WEXITED);
    remove_cgroup();
    send_failed(-1, "monitor-state", "rename", err, -1);
  }
  fault_point("running");
  control_open();
  struct mon_process started = {.pid = res.pid, .start = M.pid_start};
  /* nbox may be gone by now: the container runs on regardless. */
  uint32_t attach = (uint32_t)strtoul(single(sections, n, "attach"), NULL, 10);
  if (wire_send(MON_SOCKET_FD, MON_STARTED, &started, sizeof started) == 0 && attach != 0) control_adopt(MON_SOCKET_FD, attach);
  else close(MON_SOCKET_FD);
  /* After the start is told: its IPv6 sockets queue connections until it takes them. */
  start_proxy(section(sections, n, "proxy"), section(sections, n, "proxyPorts"));

  for (;;) {
    int terminated = supervise(sigfd, res.pidfd, fds, &log);
    now_text(M.finished);
    M.oom_killed = oom_kill_count() > M.oom_base;
    restart_update();
    int layered = terminated ? 0 : layer_change(&spec);
    if (layered < 0) break;
    if (!layered && (terminated || !restart_wanted(M.exit_code))) break;
    M.pid = 0;
    M.pid_start = 0;
    if (layered) {
      /* A snapshot or restore runs the container again at once, and is no restart. */
      control_release(M.exit_code);
    } else {
      R.delay_ms = restart_delay(R.delay_ms, ms_since(&R.run_start));
      M.status = "restarting";
      /* A failed write: `rm` took the directory; nothing is left to restart. */
      if (write_state(1) < 0) break;
      /* Its end is on record: the last run's mounts go before the restart's wait. */
      release_mount_ns();
      control_release(M.exit_code);
      if (restart_wait(sigfd, R.delay_ms) < 0) break;
    }
    M.oom_base = oom_kill_count();
    M.cpu_base = cpu_time_ns();
    if (spawn_init(&spec, &res, &cerr, fds) < 0) {
      record_spawn_failure(&cerr);
      break;
    }
    if (!layered) R.count++;
    M.pid = res.pid;
    M.pid_start = proc_start_time(res.pid, 0);
    M.status = "running";
    M.oom_killed = 0;
    M.error = "";
    M.exit_code = 0;
    now_text(M.started);
    health_reset();
    if (write_state(1) < 0) {
      syscall(SYS_pidfd_send_signal, res.pidfd, SIGKILL, NULL, 0);
      siginfo_t si;
      waitid((idtype_t)P_PIDFD, (id_t)res.pidfd, &si, WEXITED);
      break;
    }
  }
  finish();
}
