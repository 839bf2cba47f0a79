/* nbox-monitor: the parent of one detached container (`run -d`).
 *
 * nbox posix_spawns it with the start socket on fd 3 and the sealed nbox-exec
 * memfd on fd 4 (monitor-proto.h). It forks once so that it is no child of
 * the caller, says HELLO, receives the SPEC (never through argv or env:
 * /proc/<pid>/cmdline is world-readable and env holds secrets), and clones
 * the container's init with the same child_spawn a foreground run uses: the
 * init is its child, and its parent-death signal is the monitor's death.
 * Then it waits in an epoll loop, and records the end in state.json, of
 * which it is the only writer while it lives. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "jsonw.h"
#include "logfile.h"
#include "wire.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define ZERO_TIME "0001-01-01T00:00:00Z"
#define MAX_SECTIONS 32
#define DRAIN_MS 2000

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
} M;

/* Field 22 of /proc/<pid>/stat, or 0. */
static unsigned long long start_time(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char *at = strrchr(buf, ')');
  if (!at) return 0;
  at += 2; /* field 3 */
  for (int field = 3; field < 22 && at; field++) {
    at = strchr(at, ' ');
    if (at) at++;
  }
  return at ? strtoull(at, NULL, 10) : 0;
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

/* Writes state.json atomically: a temp file in tmp/, then a rename onto the
 * path. 0, or -1 once the container directory is gone (`rm` renamed it). */
static int write_state(int running) {
  size_t cap = 4096;
  for (size_t i = 0; i < M.ncgroups; i++) cap += JSONW_ESCAPED_MAX(strlen(M.cgroup_dirs[i])) + 4;
  cap += JSONW_ESCAPED_MAX(strlen(M.error));
  char *buf = malloc(cap);
  if (!buf) return -1;
  char *o = buf;
  o += sprintf(o, "{\"status\":\"%s\",\"pid\":%d,\"pidStartTime\":%llu,\"exitCode\":%d,\"error\":", M.status, (int)M.pid,
               M.pid_start, M.exit_code);
  o = put_string(o, M.error);
  o += sprintf(o, ",\"startedAt\":\"%s\",\"finishedAt\":\"%s\",\"restartCount\":0,\"oomKilled\":false", M.started,
               M.finished);
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

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (type == FTW_DP) rmdir(path);
  else unlink(path);
  return 0;
}

/* `--rm`: the directory is renamed into tmp/ (gone for every reader at once;
 * a kill midway leaves it to the stale-temp sweep), the name is freed if it
 * is still this container's, then the tree is deleted. */
static void remove_container(void) {
  char name[128], doomed[PATH_MAX];
  temp_name(name, sizeof name, "rm");
  if (renameat(AT_FDCWD, M.container_dir, M.tmp_fd, name) < 0) return;
  char link[PATH_MAX], target[80];
  snprintf(link, sizeof link, "%s/names/%s", M.store, M.name);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n > 0) {
    target[n] = '\0';
    if (strcmp(target, M.id) == 0) unlink(link);
  }
  snprintf(doomed, sizeof doomed, "%s/tmp/%s", M.store, name);
  nftw(doomed, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The end: the exit is on record (or the container removed), the cgroup gone. */
static void control_end(void);

static void __attribute__((noreturn)) finish(void) {
  control_end();
  remove_cgroup();
  if (M.auto_remove) remove_container();
  else {
    M.status = "exited";
    write_state(0);
  }
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
                                        "upper", "work", "net", "seccomp", "mounts", "cgroupProcs", "cgroupDirs",
                                        "id", "name", "store", "autoRemove", "log", "tty", "stdin"};

static int spec_valid(const struct wire_section *s, int n) {
  static const char *const singles[] = {"cwd", "uid", "gid", "hostname", "rootfs", "upper", "work", "net",
                                        "seccomp", "id", "name", "store", "autoRemove", "log", "tty", "stdin"};
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
         section(s, n, "mounts")->count % 5 == 0 && section(s, n, "mounts")->count / 5 <= 64 &&
         section(s, n, "groups")->count <= 65536 && strcmp(single(s, n, "id"), M.id) == 0 &&
         single(s, n, "name")[0] != '\0' && single(s, n, "name")[0] != '.' && !strchr(single(s, n, "name"), '/');
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
  spec->new_network = strcmp(single(s, n, "net"), "1") == 0;
  spec->seccomp = strcmp(single(s, n, "seccomp"), "0") != 0;
  /* mounts: kind (bind|tmpfs), source or tmpfs options, target, readonly, isFile. */
  const struct wire_section *mounts = section(s, n, "mounts");
  size_t nbinds = mounts->count / 5;
  struct child_bind *binds = calloc(nbinds + 1, sizeof *binds);
  for (size_t i = 0; binds && i < nbinds; i++) {
    const char *const *m = mounts->strings + i * 5;
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
  spec->cgroup_procs = section(s, n, "cgroupProcs")->strings;
  spec->ncgroups = section(s, n, "cgroupProcs")->count;
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

static void console_open(struct child_spec *spec) {
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, console_pair) < 0)
    send_failed(-1, "monitor-console", "socketpair", errno, -1);
  spec->console_fd = console_pair[1];
  /* Its size is unknown until an attached client resizes it, as `docker run -dt`'s. */
  spec->console_rows = 0;
  spec->console_cols = 0;
}

/* The master the init sent before it exec'd, or -1 with errno. */
static int console_receive(void) {
  close(console_pair[1]);
  char byte;
  struct iovec iov = {&byte, 1};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t got;
  do got = recvmsg(console_pair[0], &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (got < 0 && errno == EINTR);
  int err = errno;
  close(console_pair[0]);
  if (got < 0) return errno = err, -1;
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  if (got != 1 || !cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
      cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
    return errno = EPROTO, -1;
  int master;
  memcpy(&master, CMSG_DATA(cmsg), sizeof master);
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
static struct ctl_client {
  int fd; /* -1: a free slot */
  int attached;
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

static void control_watch(int ep) {
  ctl_epoll = ep;
  if (ctl_listen < 0) return;
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.u32 = CTL_LISTEN_ID;
  epoll_ctl(ep, EPOLL_CTL_ADD, ctl_listen, &ev);
}

/* At the end: no new client. The connected ones see EOF when the monitor
 * exits, after the end is on record. */
static void control_end(void) {
  if (ctl_listen < 0) return;
  unlinkat(ctl_dir, "monitor.sock", 0);
  close(ctl_listen);
  ctl_listen = -1;
}

static void control_drop(int slot) {
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

static void control_frame(struct ctl_client *c, uint32_t type, const unsigned char *data, uint32_t len) {
  if (type == MON_ATTACH && len == sizeof c->flags && !c->attached) {
    memcpy(&c->flags, data, sizeof c->flags);
    c->attached = 1;
  } else if (type == MON_STDIN && c->attached && (c->flags & MON_ATTACH_STDIN) && ctl_input >= 0) {
    control_input(data, len);
  } else if (type == MON_RESIZE && len == sizeof(struct mon_resize) && ctl_console >= 0) {
    struct mon_resize size;
    memcpy(&size, data, sizeof size);
    struct winsize ws = {.ws_row = size.rows, .ws_col = size.cols};
    ioctl(ctl_console, TIOCSWINSZ, &ws);
  }
}

static void control_read(int slot) {
  struct ctl_client *c = &ctl_clients[slot];
  for (;;) {
    ssize_t got = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return;
    if (got <= 0) return control_drop(slot);
    c->len += (size_t)got;
    size_t at = 0;
    while (c->len - at >= sizeof(struct mon_hdr)) {
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
}

static void control_event(uint32_t which) {
  if (which == CTL_LISTEN_ID) control_accept();
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
    struct iovec iov[2] = {{&hdr, sizeof hdr}, {(void *)data, len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t put;
    do put = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (put < 0 && errno == EINTR);
    if (put != (ssize_t)(sizeof hdr + len)) control_drop(i);
  }
}

int main(int argc, char **argv) {
  if (argc != 2 || strlen(argv[1]) != 64 || strspn(argv[1], "0123456789abcdef") != 64) return 2;
  /* A library caller's fds without close-on-exec never reach the monitor. */
  syscall(SYS_close_range, MON_EXEC_FD + 1, ~0U, 0);
  /* Fork once: the caller reaps this process at once and never gets a
   * SIGCHLD or a zombie of the monitor. */
  pid_t forked = fork();
  if (forked < 0) return 1;
  if (forked > 0) _exit(0);
  setsid();
  prctl(PR_SET_NAME, "nbox-monitor", 0, 0, 0);
  /* It may live long: it keeps no caller's directory busy (every path it uses is absolute). */
  if (chdir("/") < 0) _exit(1);
  M.id = argv[1];
  M.self = getpid();
  M.self_start = start_time(M.self);
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

  struct mon_hdr hdr;
  char *payload = malloc(MON_SPEC_MAX + 1);
  if (!payload) _exit(1);
  int got = wire_recv(MON_SOCKET_FD, &hdr, payload, MON_SPEC_MAX);
  /* EOF: nbox gave up (or died) before the container existed. */
  if (got <= 0 || hdr.type != MON_SPEC) _exit(0);
  payload[hdr.len] = '\0';
  struct wire_section sections[MAX_SECTIONS];
  int n = wire_decode(payload, hdr.len, sections, MAX_SECTIONS);
  if (n < 0 || !spec_valid(sections, n)) send_failed(-1, "monitor-spec", "decode", EPROTO, -1);

  M.name = single(sections, n, "name");
  M.store = single(sections, n, "store");
  M.auto_remove = strcmp(single(sections, n, "autoRemove"), "1") == 0;
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
  char exec_fd_arg[16] = "";
  build_spec(sections, n, &spec, exec_fd_arg);
  if (!spec.groups || !spec.binds || !spec.exec_argv) send_failed(-1, "monitor-spec", "calloc", ENOMEM, -1);

  struct log_file log;
  if (logfile_open(&log, single(sections, n, "log")) < 0) send_failed(-1, "monitor-log", "open", errno, -1);
  int tty = strcmp(single(sections, n, "tty"), "1") == 0;
  int open_stdin = strcmp(single(sections, n, "stdin"), "1") == 0;
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, in_pipe[2] = {-1, -1};
  if (tty) console_open(&spec);
  else if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0)
    send_failed(-1, "monitor-log", "pipe2", errno, -1);
  /* -i without -t: a pipe attach clients write into; with -t the input is the terminal's. */
  if (open_stdin && !tty && pipe2(in_pipe, O_CLOEXEC) < 0) send_failed(-1, "monitor-stdin", "pipe2", errno, -1);
  spec.stdio[0] = in_pipe[0];
  spec.stdio[1] = out_pipe[1];
  spec.stdio[2] = err_pipe[1];

  struct spawn_result res;
  struct child_error cerr;
  if (child_spawn(&spec, &res, &cerr) < 0)
    send_failed(cerr.step, child_step_name(cerr.step), cerr.syscall, cerr.err, cerr.index);
  if (tty) {
    out_pipe[0] = console_receive();
    if (out_pipe[0] < 0) {
      int err = errno;
      syscall(SYS_pidfd_send_signal, res.pidfd, SIGKILL, NULL, 0);
      siginfo_t si;
      waitid((idtype_t)P_PIDFD, (id_t)res.pidfd, &si, WEXITED);
      remove_cgroup();
      send_failed(STEP_TERMINAL, child_step_name(STEP_TERMINAL), "recvmsg", err, -1);
    }
    /* Its own fd: the log stream closes the master at EOF, and no later fd may take its number. */
    ctl_console = fcntl(out_pipe[0], F_DUPFD_CLOEXEC, 0);
    if (open_stdin) ctl_input = ctl_console;
  } else {
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (in_pipe[0] >= 0) {
      close(in_pipe[0]);
      fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
      ctl_input = in_pipe[1];
    }
  }
  M.pid = res.pid;
  M.pid_start = start_time(res.pid);
  M.status = "running";
  now_text(M.started);
  if (write_state(1) < 0) {
    int err = errno;
    syscall(SYS_pidfd_send_signal, res.pidfd, SIGKILL, NULL, 0);
    siginfo_t si;
    waitid((idtype_t)P_PIDFD, (id_t)res.pidfd, &si, WEXITED);
    remove_cgroup();
    send_failed(-1, "monitor-state", "rename", err, -1);
  }
  control_open();
  struct mon_process started = {.pid = res.pid, .start = M.pid_start};
  /* nbox may be gone by now: the container runs on regardless. */
  wire_send(MON_SOCKET_FD, MON_STARTED, &started, sizeof started);
  close(MON_SOCKET_FD);

  /* A terminal is one stream: its master. */
  int nstreams = tty ? 1 : 2;
  struct log_stream streams[2];
  logfile_stream(&streams[0], out_pipe[0], "stdout");
  logfile_stream(&streams[1], err_pipe[0], "stderr");
  streams[0].tap = control_output;
  streams[1].tap = control_output;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.u32 = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, sigfd, &ev);
  ev.data.u32 = 1;
  epoll_ctl(ep, EPOLL_CTL_ADD, res.pidfd, &ev);
  control_watch(ep);
  for (uint32_t i = 0; i < (uint32_t)nstreams; i++) {
    fcntl(streams[i].fd, F_SETFL, O_NONBLOCK);
    ev.data.u32 = 2 + i;
    epoll_ctl(ep, EPOLL_CTL_ADD, streams[i].fd, &ev);
  }
  int terminated = 0, open_streams = nstreams;
  long drain_left = -1; /* ms left to drain the logs once the init is reaped */
  siginfo_t exit_info;
  for (;;) {
    if (drain_left >= 0 && open_streams == 0) break;
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    struct epoll_event events[4];
    int ready = epoll_wait(ep, events, 4, drain_left >= 0 ? (int)drain_left : -1);
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
          syscall(SYS_pidfd_send_signal, res.pidfd, SIGKILL, NULL, 0);
        }
      } else if (which == 1) {
        memset(&exit_info, 0, sizeof exit_info);
        if (waitid((idtype_t)P_PIDFD, (id_t)res.pidfd, &exit_info, WEXITED | WNOHANG) < 0 || exit_info.si_pid == 0)
          continue;
        epoll_ctl(ep, EPOLL_CTL_DEL, res.pidfd, NULL);
        close(res.pidfd);
        int signaled = exit_info.si_code == CLD_KILLED || exit_info.si_code == CLD_DUMPED;
        M.exit_code = signaled ? 128 + exit_info.si_status : exit_info.si_status;
        if (terminated) {
          M.exit_code = 137;
          M.error = "nbox-monitor was terminated: the container was killed";
        }
        drain_left = DRAIN_MS;
      } else if (which >= CTL_LISTEN_ID) {
        control_event(which);
      } else {
        struct log_stream *s = &streams[which - 2];
        if (logfile_read(s, &log) == 0) {
          epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
          close(s->fd);
          s->fd = -1;
          open_streams--;
        }
      }
    }
  }
  for (int i = 0; i < nstreams; i++) logfile_end(&streams[i], &log);
  now_text(M.finished);
  finish();
}
