/* The container child, in runc's order: private mounts, overlay root,
 * pivot_root, kernel filesystems, binds, masks, hostname, credentials,
 * signals, fds, exec. Between clone3 and execve only system calls and
 * async-signal-safe functions run: the parent is a threaded Node process
 * whose locks may be held by threads that do not exist in the child. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "child.h"
#include "exec-search.h"
#include "openat2.h"
#include "proc-stat.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define MAX_BINDS 64
#define PATH_BUF 4096

static const char *const step_names[STEP_COUNT] = {
    "clone",        "parent-gone",  "cgroup",        "setns",        "setsid",       "mount-private", "bind-prepare", "mount-overlay",
    "pivot-root",   "mount-proc",   "mount-dev",     "device-nodes", "devices",      "sysctl",       "readonly-root", "no-new-privs", "mount-devpts",
    "mount-shm",    "mount-mqueue", "mount-sys",     "bind-mount",   "mask-paths",
    "readonly-paths", "hostname",   "loopback",      "workdir",      "seccomp",     "capabilities",
    "setgroups",    "setgid",       "setuid",        "signals",      "stdio",
    "chdir",        "exec",         "terminal",     "rlimits",
};

const char *child_step_name(int step) {
  return step >= 0 && step < STEP_COUNT ? step_names[step] : "unknown";
}

/* Docker's default masked and read-only paths (moby oci/defaults.go). */
static const char *const masked_paths[] = {
    "/proc/acpi",        "/proc/asound",        "/proc/interrupts", "/proc/kcore",
    "/proc/keys",        "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi",
    "/proc/timer_list",  "/proc/timer_stats",   "/sys/firmware",    "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

struct device_node {
  const char *name;
  unsigned major, minor;
};
static const struct device_node devices[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};
static const char *const dev_links[][2] = {
    {"fd", "/proc/self/fd"},          {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},    {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"},
};

struct child_ctx {
  const struct child_spec *spec;
  int cwd_fd;  /* the working directory, resolved inside the root */
  int null_fd; /* the container's own /dev/null, for stdio given as -1 */
  const struct sock_fprog *filter; /* NULL: unconfined */
  int error_fd;
  int sync_fd; /* read end; POLLHUP once the parent is gone */
  int pid_fd;  /* join mode: where the joiner writes the command's pid, else -1 */
  int tty_fd;  /* -t: the pty's slave, for 0-2, else -1 */
  int bind_fds[MAX_BINDS];
};

/* The init, and in join mode the joiner, run in nbox's own memory, suspended
 * as posix_spawn's child (CLONE_VM | CLONE_VFORK): no copy of Node's page
 * tables (20 ms of each start for a 480 MB test process here) and no
 * copy-on-write fault in Node afterwards, which on a VM costs more than the
 * rest of the join. Neither can be seen from a container while it does: the
 * init is pid 1 of a namespace no other process is in yet, and the joiner's
 * pid is the host's. nbox waits until the init has exec'd nbox-exec (or
 * failed), or the joiner has exec'd it, so none outlives the stack below,
 * and no other code runs on it. */
#define SPAWN_STACK_SIZE (256 * 1024)
#define SPAWN_GUARD_SIZE 4096

struct spawn_stack {
  char *base;
  size_t size;
  char *top;
};

/* One spawn at a time (child_spawn): the dumpable flag it puts back is the whole process's. */
static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;

/* A stack above a guard page. */
static int spawn_stack_map(struct spawn_stack *stack) {
  stack->size = SPAWN_GUARD_SIZE + SPAWN_STACK_SIZE;
  void *base = mmap(NULL, stack->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) return -1;
  stack->base = base;
  stack->top = stack->base + stack->size;
  if (mprotect(stack->base, SPAWN_GUARD_SIZE, PROT_NONE) < 0) {
    int saved = errno;
    munmap(stack->base, stack->size);
    return errno = saved, -1;
  }
  return 0;
}

static void copy_name(char *dst, size_t size, const char *src) {
  size_t n = strlen(src);
  if (n >= size) n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* Reports a failed step to the parent and exits; never returns. */
static void __attribute__((noreturn))
fail(struct child_ctx *ctx, int step, const char *syscall_name, int err, int index) {
  struct child_error msg;
  memset(&msg, 0, sizeof msg);
  msg.step = step;
  msg.err = err;
  msg.index = index;
  copy_name(msg.syscall, sizeof msg.syscall, syscall_name);
  ssize_t ignored = write(ctx->error_fd, &msg, sizeof msg);
  (void)ignored;
  _exit(127);
}

#define CHECK(ctx, expr, step, name, index)                                     \
  do {                                                                          \
    if ((expr) < 0) fail((ctx), (step), (name), errno, (index));                \
  } while (0)

static void check_parent_alive(struct child_ctx *ctx) {
  struct pollfd pfd = {.fd = ctx->sync_fd, .events = POLLIN};
  if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR))) fail(ctx, STEP_PARENT_GONE, "poll", ESRCH, -1);
}

/* mkdir -p of an absolute path, resolved against the current root. */
static int mkdir_all(const char *path, mode_t mode) {
  char buf[PATH_BUF];
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof buf) return errno = ENAMETOOLONG, -1;
  memcpy(buf, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
    buf[i] = saved;
  }
  return 0;
}

static int resolve_in_root(int rootfd, const char *path, int want_dir) {
  struct open_how how = {.flags = O_PATH | O_CLOEXEC | (want_dir ? O_DIRECTORY : 0),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return openat2_retrying(rootfd, path, &how);
}

/* Opens (O_PATH) an absolute path inside the container's root, making what is
 * missing: directories, and with is_file an empty file as the last name. Every
 * component is resolved inside the root with no magic link followed, so a
 * WORKDIR or mount target through a symlink or /proc/self/fd/N never reaches
 * the host (the CVE-2024-21626 and CVE-2021-30465 classes). What it makes
 * belongs to *owner_uid:*owner_gid when given (a build's WORKDIR). An existing
 * target is only opened, never written: that would copy it up into the layer. */
static int open_creating(const char *path, int is_file, const uid_t *owner_uid, const gid_t *owner_gid) {
  char buf[PATH_BUF];
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof buf) return errno = ENAMETOOLONG, -1;
  memcpy(buf, path, len + 1);
  int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return -1;
  int dirfd = rootfd;
  for (size_t start = 1; start <= len;) {
    size_t end = start;
    while (end < len && buf[end] != '/') end++;
    if (end == start) { /* an empty component: "//" */
      start++;
      continue;
    }
    int want_file = is_file && end == len;
    char saved = buf[end];
    buf[end] = '\0';
    int fd = resolve_in_root(rootfd, buf, !want_file);
    if (fd < 0 && errno == ENOENT) {
      int made;
      if (want_file) {
        made = openat(dirfd, buf + start, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (made >= 0) close(made);
      } else {
        made = mkdirat(dirfd, buf + start, 0755);
      }
      if (made >= 0 && owner_uid && fchownat(dirfd, buf + start, *owner_uid, *owner_gid, AT_SYMLINK_NOFOLLOW) < 0)
        fd = -1;
      else if (made >= 0 || errno == EEXIST)
        fd = resolve_in_root(rootfd, buf, !want_file);
    }
    int saved_errno = errno;
    if (dirfd != rootfd) close(dirfd);
    if (fd < 0) {
      close(rootfd);
      return errno = saved_errno, -1;
    }
    dirfd = fd;
    buf[end] = saved;
    start = end + 1;
  }
  if (dirfd != rootfd) close(rootfd);
  return dirfd;
}

/* A cwd outside the root shows as "(unreachable)..." (runc checks the same). */
static int check_cwd_reachable(void) {
  char cwd[PATH_BUF];
  if (syscall(SYS_getcwd, cwd, sizeof cwd) < 0) return -1;
  if (cwd[0] != '/') return errno = EPERM, -1;
  return 0;
}

/* A kernel filesystem must land on a real directory, never through a
 * symlink the image planted (the CVE-2019-19921 class). */
static int make_mountpoint_dir(const char *path) {
  if (mkdir_all(path, 0755) < 0) return -1;
  int fd = open(path, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

static void mount_overlay(struct child_ctx *ctx) {
  const struct child_spec *s = ctx->spec;
  /* The new mount API takes lower dirs one at a time ("lowerdir+", kernel
   * 6.8), so no 4 KiB option string limits the number of layers. */
  int fsfd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  CHECK(ctx, fsfd, STEP_MOUNT_OVERLAY, "fsopen", -1);
  for (size_t i = 0; i < s->nlower; i++)
    CHECK(ctx, syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "lowerdir+", s->lower_dirs[i], 0),
          STEP_MOUNT_OVERLAY, "fsconfig", (int)i);
  CHECK(ctx, syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "upperdir", s->upper_dir, 0), STEP_MOUNT_OVERLAY,
        "fsconfig", -1);
  CHECK(ctx, syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "workdir", s->work_dir, 0), STEP_MOUNT_OVERLAY,
        "fsconfig", -1);
  /* Keep the upper dir a self-contained layer: no redirects, metacopy or index. */
  static const char *const off[] = {"redirect_dir", "metacopy", "index"};
  for (size_t i = 0; i < sizeof off / sizeof off[0]; i++)
    CHECK(ctx, syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, off[i], "off", 0), STEP_MOUNT_OVERLAY, "fsconfig",
          -1);
  CHECK(ctx, syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0), STEP_MOUNT_OVERLAY, "fsconfig", -1);
  int mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, 0);
  CHECK(ctx, mfd, STEP_MOUNT_OVERLAY, "fsmount", -1);
  CHECK(ctx, syscall(SYS_move_mount, mfd, "", AT_FDCWD, s->rootfs, MOVE_MOUNT_F_EMPTY_PATH), STEP_MOUNT_OVERLAY,
        "move_mount", -1);
  close(mfd);
  close(fsfd);
}

/* Detaches a copy of each bind source while the host root is still visible;
 * it is attached inside the container after pivot_root. A source the parent
 * resolved (inside a root it does not trust) comes detached already, as an
 * fd: it is never looked up by path again. */
int child_propagation(const char *name, unsigned long *flags) {
  static const struct {
    const char *name;
    unsigned long flags;
  } modes[] = {{"", MS_PRIVATE | MS_REC},     {"rprivate", MS_PRIVATE | MS_REC}, {"private", MS_PRIVATE | MS_REC},
               {"rslave", MS_SLAVE | MS_REC}, {"slave", MS_SLAVE | MS_REC},      {"rshared", MS_SHARED | MS_REC},
               {"shared", MS_SHARED}};
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
    if (strcmp(name, modes[i].name) == 0) return *flags = modes[i].flags, 0;
  return -1;
}

/* The binds' detached trees, cloned while this new namespace's mounts are
 * still peers of the host's (it is made private right after): a shared or
 * slave bind's tree then stays a peer, or becomes a slave, of the host's
 * source mount, as Docker's; every other tree, and every other mount of the
 * container, is private, so nothing else the container mounts reaches the
 * host. Propagation is set on the detached tree, before anything is mounted
 * under it. */
static void prepare_binds(struct child_ctx *ctx) {
  const struct child_spec *s = ctx->spec;
  for (size_t i = 0; i < s->nbinds; i++) {
    ctx->bind_fds[i] = -1;
    if (!s->binds[i].source) continue; /* a tmpfs, mounted after pivot_root */
    int fd = s->binds[i].source_fd >= 0
                 ? s->binds[i].source_fd
                 : (int)syscall(SYS_open_tree, AT_FDCWD, s->binds[i].source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    CHECK(ctx, fd, STEP_BIND_PREPARE, "open_tree", (int)i);
    unsigned long propagation = s->binds[i].propagation;
    struct mount_attr mode = {.propagation = propagation & ~MS_REC};
    CHECK(ctx, syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (propagation & MS_REC ? AT_RECURSIVE : 0), &mode, sizeof mode),
          STEP_BIND_PREPARE, "mount_setattr", (int)i);
    /* No device node is needed from a bind: nodev, whatever the device cgroup allows. */
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_NODEV | (s->binds[i].readonly ? MOUNT_ATTR_RDONLY : 0)};
    CHECK(ctx, syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr),
          STEP_BIND_PREPARE, "mount_setattr", (int)i);
    ctx->bind_fds[i] = fd;
  }
}

static void pivot_into_rootfs(struct child_ctx *ctx) {
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  CHECK(ctx, oldroot, STEP_PIVOT_ROOT, "open", -1);
  int newroot = open(ctx->spec->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  CHECK(ctx, newroot, STEP_PIVOT_ROOT, "open", -1);
  CHECK(ctx, fchdir(newroot), STEP_PIVOT_ROOT, "fchdir", -1);
  CHECK(ctx, syscall(SYS_pivot_root, ".", "."), STEP_PIVOT_ROOT, "pivot_root", -1);
  /* The old root now sits on top of the new one: detach it. */
  CHECK(ctx, fchdir(oldroot), STEP_PIVOT_ROOT, "fchdir", -1);
  CHECK(ctx, mount("", ".", NULL, MS_SLAVE | MS_REC, NULL), STEP_PIVOT_ROOT, "mount", -1);
  CHECK(ctx, umount2(".", MNT_DETACH), STEP_PIVOT_ROOT, "umount2", -1);
  CHECK(ctx, chdir("/"), STEP_PIVOT_ROOT, "chdir", -1);
  close(oldroot);
  close(newroot);
}

static void mount_at(struct child_ctx *ctx, int step, const char *source, const char *target, const char *fstype,
                     unsigned long flags, const char *data) {
  CHECK(ctx, make_mountpoint_dir(target), step, "mkdir", -1);
  CHECK(ctx, mount(source, target, fstype, flags, data), step, "mount", -1);
}

static void mount_dev(struct child_ctx *ctx) {
  mount_at(ctx, STEP_MOUNT_DEV, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
    char path[32] = "/dev/";
    memcpy(path + 5, devices[i].name, strlen(devices[i].name) + 1);
    CHECK(ctx, mknod(path, S_IFCHR | 0666, makedev(devices[i].major, devices[i].minor)), STEP_DEVICE_NODES, "mknod",
          (int)i);
  }
  for (size_t i = 0; i < sizeof dev_links / sizeof dev_links[0]; i++) {
    char path[32] = "/dev/";
    memcpy(path + 5, dev_links[i][0], strlen(dev_links[i][0]) + 1);
    CHECK(ctx, symlink(dev_links[i][1], path), STEP_DEVICE_NODES, "symlink", (int)i);
  }
  /* Stdio that would be the host's /dev/null is this one, made just above:
   * the container never holds a host file it could chmod through /proc/self/fd. */
  ctx->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  CHECK(ctx, ctx->null_fd, STEP_DEVICE_NODES, "open", -1);
  mount_at(ctx, STEP_MOUNT_DEVPTS, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
           "newinstance,ptmxmode=0666,mode=0620,gid=5");
  mount_at(ctx, STEP_MOUNT_SHM, "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV,
           "mode=1777,size=65536k");
  mount_at(ctx, STEP_MOUNT_MQUEUE, "mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
}

/* --device nodes (privileged: the host's), made as runc makes them: the
 * parent directory resolved inside the root, the node made in it, never
 * through a link the image planted. One that exists (a standard node) stays. */
static void make_devices(struct child_ctx *ctx) {
  const struct child_spec *s = ctx->spec;
  for (size_t i = 0; i < s->ndevices; i++) {
    const struct child_device *d = &s->devices[i];
    char dir[PATH_BUF];
    const char *slash = strrchr(d->path, '/');
    size_t len = slash ? (size_t)(slash - d->path) : 0;
    if (!slash || len >= sizeof dir || slash[1] == '\0') fail(ctx, STEP_DEVICES, "mknod", EINVAL, (int)i);
    memcpy(dir, d->path, len);
    dir[len] = '\0';
    int dirfd = len == 0 ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC) : open_creating(dir, 0, NULL, NULL);
    CHECK(ctx, dirfd, STEP_DEVICES, "mkdir", (int)i);
    if (mknodat(dirfd, slash + 1, d->mode, makedev(d->major, d->minor)) < 0) {
      if (errno != EEXIST) fail(ctx, STEP_DEVICES, "mknod", errno, (int)i);
    } else {
      CHECK(ctx, fchownat(dirfd, slash + 1, d->uid, d->gid, AT_SYMLINK_NOFOLLOW), STEP_DEVICES, "fchownat", (int)i);
    }
    close(dirfd);
  }
}

/* --sysctl: each value written below the container's own /proc/sys, just
 * mounted, before /proc/sys turns read-only; the name resolves beneath it
 * with no link and no other mount on the way (the CVE-2019-16884 and
 * CVE-2023-27561 class: a write redirected out of procfs). */
static void write_sysctls(struct child_ctx *ctx) {
  const struct child_spec *s = ctx->spec;
  if (s->nsysctls == 0) return;
  int base = open("/proc/sys", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  CHECK(ctx, base, STEP_SYSCTL, "open", -1);
  struct statfs fs;
  CHECK(ctx, fstatfs(base, &fs), STEP_SYSCTL, "fstatfs", -1);
  if (fs.f_type != PROC_SUPER_MAGIC) fail(ctx, STEP_SYSCTL, "fstatfs", EPERM, -1);
  for (size_t i = 0; i < s->nsysctls; i++) {
    struct open_how how = {.flags = O_WRONLY | O_TRUNC | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
    int fd = openat2_retrying(base, s->sysctls[2 * i], &how);
    CHECK(ctx, fd, STEP_SYSCTL, "openat2", (int)i);
    const char *value = s->sysctls[2 * i + 1];
    CHECK(ctx, write(fd, value, strlen(value)), STEP_SYSCTL, "write", (int)i);
    close(fd);
  }
  close(base);
}

/* A detached tmpfs (the new mount API), to be moved onto its target's fd. */
static int make_tmpfs(struct child_ctx *ctx, const struct child_bind *bind, int index) {
  int fsfd = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
  CHECK(ctx, fsfd, STEP_BIND_MOUNT, "fsopen", index);
  CHECK(ctx, syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "source", "tmpfs", 0), STEP_BIND_MOUNT, "fsconfig", index);
  /* The options string, "key=value,..." as -v/--tmpfs give it, one key at a time. */
  char options[PATH_BUF];
  size_t len = strlen(bind->tmpfs_options);
  if (len >= sizeof options) fail(ctx, STEP_BIND_MOUNT, "fsconfig", E2BIG, index);
  memcpy(options, bind->tmpfs_options, len + 1);
  unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (bind->readonly ? MOUNT_ATTR_RDONLY : 0);
  for (char *key = options; key && *key;) {
    char *next = strchr(key, ',');
    if (next) *next++ = '\0';
    char *value = strchr(key, '=');
    if (value) *value++ = '\0';
    if (strcmp(key, "ro") == 0) attrs |= MOUNT_ATTR_RDONLY;
    else if (strcmp(key, "noexec") == 0) attrs |= MOUNT_ATTR_NOEXEC;
    /* Always nosuid and nodev: suid and dev are not granted. */
    else if (strcmp(key, "rw") != 0 && strcmp(key, "exec") != 0 && strcmp(key, "nosuid") != 0 && strcmp(key, "nodev") != 0 &&
             strcmp(key, "suid") != 0 && strcmp(key, "dev") != 0)
      CHECK(ctx, syscall(SYS_fsconfig, fsfd, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, value, 0),
            STEP_BIND_MOUNT, "fsconfig", index);
    key = next;
  }
  CHECK(ctx, syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0), STEP_BIND_MOUNT, "fsconfig", index);
  int mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, attrs);
  CHECK(ctx, mfd, STEP_BIND_MOUNT, "fsmount", index);
  close(fsfd);
  return mfd;
}

static void attach_binds(struct child_ctx *ctx) {
  const struct child_spec *s = ctx->spec;
  for (size_t i = 0; i < s->nbinds; i++) {
    /* Mounted on the fd of the target resolved in the root, never on a path
     * the kernel would resolve again. */
    int target = open_creating(s->binds[i].target, s->binds[i].is_file, NULL, NULL);
    CHECK(ctx, target, STEP_BIND_MOUNT, "mkdir", (int)i);
    /* procfs is the container's view of the kernel: nothing is mounted over
     * any of it, whatever link (/dev/fd, a bind's content) led there. */
    struct statfs fs;
    CHECK(ctx, fstatfs(target, &fs), STEP_BIND_MOUNT, "fstatfs", (int)i);
    if (fs.f_type == PROC_SUPER_MAGIC) fail(ctx, STEP_BIND_MOUNT, "fstatfs", EPERM, (int)i);
    int tree = s->binds[i].source ? ctx->bind_fds[i] : make_tmpfs(ctx, &s->binds[i], (int)i);
    CHECK(ctx, syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
          STEP_BIND_MOUNT, "move_mount", (int)i);
    close(tree);
    close(target);
  }
}

static void mask_paths(struct child_ctx *ctx) {
  for (size_t i = 0; i < sizeof masked_paths / sizeof masked_paths[0]; i++) {
    int fd = open(masked_paths[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      fail(ctx, STEP_MASK_PATHS, "open", errno, (int)i);
    }
    struct stat st;
    int is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    close(fd);
    if (is_dir)
      CHECK(ctx, mount("tmpfs", masked_paths[i], "tmpfs", MS_RDONLY, "nr_blocks=1,nr_inodes=1"), STEP_MASK_PATHS,
            "mount", (int)i);
    else
      CHECK(ctx, mount("/dev/null", masked_paths[i], NULL, MS_BIND, NULL), STEP_MASK_PATHS, "mount", (int)i);
  }
  for (size_t i = 0; i < sizeof readonly_paths / sizeof readonly_paths[0]; i++) {
    if (mount(readonly_paths[i], readonly_paths[i], NULL, MS_BIND | MS_REC, NULL) < 0) {
      if (errno == ENOENT) continue;
      fail(ctx, STEP_READONLY_PATHS, "mount", errno, (int)i);
    }
    CHECK(ctx,
          mount(NULL, readonly_paths[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                NULL),
          STEP_READONLY_PATHS, "mount", (int)i);
  }
}

/* Joins the network namespace nbox set up (veth, address, route) before the clone, or
 * another container's (/proc/PID/ns/net, a magic link: followed). */
static void join_netns(struct child_ctx *ctx) {
  int fd = open(ctx->spec->netns_path, O_RDONLY | O_CLOEXEC);
  CHECK(ctx, fd, STEP_SETNS, "open", -1);
  CHECK(ctx, syscall(SYS_setns, fd, CLONE_NEWNET), STEP_SETNS, "setns", -1);
  close(fd);
}

static void loopback_up(struct child_ctx *ctx) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK(ctx, sock, STEP_LOOPBACK, "socket", -1);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  CHECK(ctx, ioctl(sock, SIOCGIFFLAGS, &ifr), STEP_LOOPBACK, "ioctl", -1);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  CHECK(ctx, ioctl(sock, SIOCSIFFLAGS, &ifr), STEP_LOOPBACK, "ioctl", -1);
  close(sock);
}

static void set_credentials(struct child_ctx *ctx) {
  const struct child_spec *s = ctx->spec;
  uint64_t keep = s->caps;
  /* Bounding set first: dropping needs CAP_SETPCAP, which setuid may take away. */
  for (int cap = 0; cap <= 63; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      fail(ctx, STEP_CAPABILITIES, "prctl", errno, cap);
  }
  CHECK(ctx, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), STEP_CAPABILITIES, "prctl", -1);
  /* The ids change while every capability is still held (a --cap-drop ALL
   * container has no CAP_SETGID of its own); raw calls: glibc's wrappers
   * would try to signal threads that only exist in the parent. A non-root
   * uid loses its permitted and effective caps at setresuid, as in Docker. */
  CHECK(ctx, syscall(SYS_setgroups, s->ngroups, s->groups), STEP_SETGROUPS, "setgroups", -1);
  CHECK(ctx, syscall(SYS_setresgid, s->gid, s->gid, s->gid), STEP_SETGID, "setresgid", -1);
  CHECK(ctx, syscall(SYS_setresuid, s->uid, s->uid, s->uid), STEP_SETUID, "setresuid", -1);
  /* Then the container's caps (Docker's 14 unless --cap-add, --cap-drop or
   * --privileged said otherwise) for root, none for another uid, and an
   * empty inheritable set for every user, whatever nbox itself was started
   * with (CVE-2022-24769: with a file's inheritable caps, an inherited set
   * would grant a USER more than the container's caps). */
  if (s->uid != 0) keep = 0;
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  data[0].effective = data[0].permitted = (uint32_t)keep;
  data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
  CHECK(ctx, syscall(SYS_capset, &hdr, data), STEP_CAPABILITIES, "capset", -1);
  /* The ids' change made the memory dumpable as fs.suid_dumpable says, and until the exec that memory is
   * nbox's own (spawn_stack): no process of the container's user may attach to it or read it. */
  CHECK(ctx, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), STEP_CAPABILITIES, "prctl", -1);
  /* A credential change clears the parent-death signal: set it again, then
   * make sure the parent did not die in between. */
  if (s->detach) return;
  CHECK(ctx, prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), STEP_PARENT_GONE, "prctl", -1);
  check_parent_alive(ctx);
}

static void reset_signals(struct child_ctx *ctx) {
  /* Node ignores SIGPIPE and SIGXFSZ and blocks signals around the clone. */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, NULL); /* glibc-reserved signals fail with EINVAL: harmless */
  }
  uint64_t empty = 0;
  CHECK(ctx, syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, sizeof empty), STEP_SIGNALS, "rt_sigprocmask",
        -1);
}

static void setup_stdio(struct child_ctx *ctx) {
  int fds[3];
  /* A source below 3 could be overwritten by an earlier dup2: move it up first. */
  for (int i = 0; i < 3; i++) {
    fds[i] = ctx->tty_fd >= 0 ? ctx->tty_fd : ctx->spec->stdio[i] < 0 ? ctx->null_fd : ctx->spec->stdio[i];
    if (fds[i] < 3 && fds[i] != i) {
      fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
      CHECK(ctx, fds[i], STEP_STDIO, "fcntl", i);
    }
  }
  for (int i = 0; i < 3; i++) {
    if (fds[i] != i) CHECK(ctx, dup2(fds[i], i), STEP_STDIO, "dup2", i);
    /* Node marks 0-2 close-on-exec; dup2 onto itself would not clear it. */
    CHECK(ctx, fcntl(i, F_SETFD, 0), STEP_STDIO, "fcntl", i);
  }
  /* Every other fd closes at exec (the error pipe must live until then). */
  CHECK(ctx, syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC), STEP_STDIO, "close_range", -1);
}

/* -t: the container's terminal, made as runc makes it, in the container's own
 * devpts: a host pty node would let the container reach the host's ptys, and
 * ttyname would fail inside. The ptmx opened must be that devpts's (no
 * symlink on the way, checked by its filesystem and device); the slave comes
 * from the master (TIOCGPTPEER), never by a path a process inside could swap.
 * It belongs to the user and the tty group (5), as in Docker, becomes the
 * controlling terminal of this session, /dev/console of a new container and,
 * in setup_stdio, 0-2; the master goes to the parent over console_fd. Runs as
 * root, after setsid. */
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
static void setup_terminal(struct child_ctx *ctx) {
  const struct child_spec *s = ctx->spec;
  int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  CHECK(ctx, rootfd, STEP_TERMINAL, "open", -1);
  struct open_how how = {.flags = O_RDWR | O_NOCTTY | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int master = openat2_retrying(rootfd, "/dev/pts/ptmx", &how);
  CHECK(ctx, master, STEP_TERMINAL, "openat2", -1);
  close(rootfd);
  struct statfs fs;
  struct stat st;
  CHECK(ctx, fstatfs(master, &fs), STEP_TERMINAL, "fstatfs", -1);
  CHECK(ctx, fstat(master, &st), STEP_TERMINAL, "fstat", -1);
  if (fs.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 2))
    fail(ctx, STEP_TERMINAL, "fstatfs", EPERM, -1);
  int unlock = 0;
  CHECK(ctx, ioctl(master, TIOCSPTLCK, &unlock), STEP_TERMINAL, "ioctl", -1);
  struct winsize size = {.ws_row = s->console_rows, .ws_col = s->console_cols};
  CHECK(ctx, ioctl(master, TIOCSWINSZ, &size), STEP_TERMINAL, "ioctl", -1);
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  CHECK(ctx, slave, STEP_TERMINAL, "ioctl", -1);
  CHECK(ctx, fchown(slave, s->uid, 5), STEP_TERMINAL, "fchown", -1);
  if (s->join_pidfd < 0) {
    /* The init's /dev/console is its terminal, as runc binds it: the slave's
     * own mount cloned from the fd over a new file of the container's /dev. */
    int console = open("/dev/console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    CHECK(ctx, console, STEP_TERMINAL, "open", -1);
    int tree = (int)syscall(SYS_open_tree, slave, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    CHECK(ctx, tree, STEP_TERMINAL, "open_tree", -1);
    CHECK(ctx, syscall(SYS_move_mount, tree, "", console, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), STEP_TERMINAL,
          "move_mount", -1);
    close(tree);
    close(console);
  }
  char byte = 0;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &master, sizeof master);
  CHECK(ctx, sendmsg(s->console_fd, &msg, MSG_NOSIGNAL), STEP_TERMINAL, "sendmsg", -1);
  close(master);
  close(s->console_fd);
  /* A joined command makes it its controlling terminal itself, in the session it starts (nbox-exec). */
  if (s->join_pidfd < 0) CHECK(ctx, ioctl(slave, TIOCSCTTY, 0), STEP_TERMINAL, "ioctl", -1);
  ctx->tty_fd = slave;
}

/* The last exec goes through the sealed nbox-exec memfd, which finds and runs
 * the command: /proc/self/exe is never the host's node binary. The error pipe
 * stays open across that exec so nbox-exec can report a missing command; a
 * joiner's pid pipe and sync pipe too, for the fork nbox-exec makes. */
static void exec_command(struct child_ctx *ctx) {
  CHECK(ctx, fcntl(ctx->error_fd, F_SETFD, 0), STEP_EXEC, "fcntl", -1);
  if (ctx->pid_fd >= 0) {
    CHECK(ctx, fcntl(ctx->pid_fd, F_SETFD, 0), STEP_EXEC, "fcntl", -1);
    CHECK(ctx, fcntl(ctx->sync_fd, F_SETFD, 0), STEP_EXEC, "fcntl", -1);
  }
  syscall(SYS_execveat, ctx->spec->exec_fd, "", ctx->spec->exec_argv, ctx->spec->envp, AT_EMPTY_PATH);
  fail(ctx, STEP_EXEC, "execveat", errno, -1);
}

/* The last steps of both the init and a joined command: the syscall filter
 * (while CAP_SYS_ADMIN is still held, so no no_new_privs is needed), the
 * credentials, signals and stdio, then the working directory (after setuid,
 * so one the user may not enter fails as in Docker), and the exec. */
__attribute__((noreturn)) static void become_command(struct child_ctx *ctx) {
  if (ctx->spec->no_new_privs) CHECK(ctx, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), STEP_NO_NEW_PRIVS, "prctl", -1);
  if (ctx->filter) CHECK(ctx, syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, ctx->filter), STEP_SECCOMP, "seccomp", -1);
  set_credentials(ctx);
  reset_signals(ctx);
  setup_stdio(ctx);
  CHECK(ctx, fchdir(ctx->cwd_fd), STEP_CHDIR, "fchdir", -1);
  CHECK(ctx, check_cwd_reachable(), STEP_CHDIR, "getcwd", -1);
  close(ctx->cwd_fd);
  umask(022);
  exec_command(ctx);
  _exit(127);
}

/* Closes every fd but the ones setup still needs (the pipes, stdio and the
 * detached bind trees). Node's own fds (close-on-exec, but open until exec)
 * could otherwise reach host directories through /proc/self/fd after
 * pivot_root (CVE-2024-21626). */
static void close_other_fds(struct child_ctx *ctx) {
  unsigned keep[9 + MAX_BINDS];
  size_t n = 0;
  int fixed[9] = {ctx->error_fd, ctx->sync_fd, ctx->spec->stdio[0], ctx->spec->stdio[1], ctx->spec->stdio[2], ctx->spec->exec_fd,
                  ctx->pid_fd, ctx->spec->join_pidfd, ctx->spec->console_fd};
  /* Negative entries (stdio -1: the container's own /dev/null; no join; no terminal) are skipped. */
  for (size_t i = 0; i < 9; i++)
    if (fixed[i] >= 0) keep[n++] = (unsigned)fixed[i];
  for (size_t i = 0; i < ctx->spec->nbinds && ctx->spec->join_pidfd < 0; i++)
    if (ctx->bind_fds[i] >= 0) keep[n++] = (unsigned)ctx->bind_fds[i];
  for (size_t i = 1; i < n; i++) /* insertion sort: a few dozen values at most */
    for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
      unsigned t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  unsigned from = 3;
  for (size_t i = 0; i < n; i++) {
    if (keep[i] < from) continue;
    if (keep[i] > from) CHECK(ctx, syscall(SYS_close_range, from, keep[i] - 1, 0), STEP_STDIO, "close_range", -1);
    from = keep[i] + 1;
  }
  CHECK(ctx, syscall(SYS_close_range, from, ~0U, 0), STEP_STDIO, "close_range", -1);
}

/* Joins the container's cgroups ("0" is the writer itself) before anything
 * else runs; a new container then gets its cgroup namespace, rooted there. */
static void join_cgroups(struct child_ctx *ctx, int new_namespace) {
  const struct child_spec *s = ctx->spec;
  for (size_t i = 0; i < s->ncgroups; i++) {
    int fd = open(s->cgroup_join_files[i], O_WRONLY | O_CLOEXEC);
    CHECK(ctx, fd, STEP_CGROUP, "open", (int)i);
    CHECK(ctx, write(fd, "0", 1), STEP_CGROUP, "write", (int)i);
    close(fd);
  }
  if (new_namespace) CHECK(ctx, syscall(SYS_unshare, CLONE_NEWCGROUP), STEP_CGROUP, "unshare", -1);
}

/* --ulimit, as runc's init sets its process's rlimits: before the credentials
 * change (a hard limit above the inherited one needs CAP_SYS_RESOURCE). */
static void set_rlimits(struct child_ctx *ctx) {
  const struct child_spec *s = ctx->spec;
  for (size_t i = 0; i < s->nrlimits; i++) {
    struct rlimit limit = {.rlim_cur = (rlim_t)s->rlimits[i].soft, .rlim_max = (rlim_t)s->rlimits[i].hard};
    CHECK(ctx, syscall(SYS_prlimit64, 0, s->rlimits[i].resource, &limit, NULL), STEP_RLIMITS, "prlimit64", (int)i);
  }
}

static void __attribute__((noreturn)) child_main(struct child_ctx *ctx) {
  const struct child_spec *s = ctx->spec;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail(ctx, STEP_PARENT_GONE, "prctl", errno, -1);
  check_parent_alive(ctx);
  join_cgroups(ctx, 1);
  if (s->netns_path) join_netns(ctx);
  /* No controlling terminal: TIOCSTI and job control cannot reach the caller's. */
  CHECK(ctx, setsid(), STEP_SETSID, "setsid", -1);
  umask(0);
  prepare_binds(ctx);
  /* Nothing mounted from here on may propagate back to the host (but under an rshared bind). */
  CHECK(ctx, mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL), STEP_MOUNT_PRIVATE, "mount", -1);
  close_other_fds(ctx);
  mount_overlay(ctx);
  pivot_into_rootfs(ctx);
  mount_at(ctx, STEP_MOUNT_PROC, "proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
  mount_dev(ctx);
  make_devices(ctx);
  if (s->console_fd >= 0) setup_terminal(ctx);
  mount_at(ctx, STEP_MOUNT_SYS, "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | (s->privileged ? 0 : MS_RDONLY), NULL);
  write_sysctls(ctx);
  attach_binds(ctx);
  if (!s->privileged) mask_paths(ctx);
  CHECK(ctx, sethostname(s->hostname, strlen(s->hostname)), STEP_HOSTNAME, "sethostname", -1);
  /* A namespace kept on a file came up with its loopback (net_netns_new), or is another container's. */
  if (s->new_network && !s->netns_path) loopback_up(ctx);
  ctx->cwd_fd = open_creating(s->cwd, 0, s->chown_cwd ? &s->uid : NULL, s->chown_cwd ? &s->gid : NULL);
  CHECK(ctx, ctx->cwd_fd, STEP_WORKDIR, "mkdir", -1);
  /* --read-only: the root mount alone (not /dev, the binds, the tmpfs
   * mounts), once the cwd exists in it, as Docker makes WORKDIR first. */
  if (s->readonly_rootfs) {
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    CHECK(ctx, syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &attr, sizeof attr), STEP_READONLY_ROOT, "mount_setattr", -1);
  }
  set_rlimits(ctx);
  /* After the last mount. */
  become_command(ctx);
}


/* The container's /dev/null, for stdio given as -1: a process inside may have
 * replaced it, so it must still be the null device (never a link, a FIFO or a
 * file the container reads back). */
static int open_container_null(void) {
  int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return -1;
  struct open_how how = {.flags = O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS};
  int fd = openat2_retrying(rootfd, "/dev/null", &how);
  close(rootfd);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3) || fcntl(fd, F_SETFL, O_RDWR) < 0) {
    close(fd);
    return errno = EPERM, -1;
  }
  return fd;
}

/* The init's start: its context, and the parent's ends of the pipes, which it closes. */
struct init_start {
  struct child_ctx ctx;
  int parent_ends[2];
};

static int init_entry(void *arg) {
  const struct init_start *start = arg;
  struct child_ctx ctx = start->ctx;
  close(start->parent_ends[0]);
  close(start->parent_ends[1]);
  child_main(&ctx);
}

/* The joiner (runc exec's nsexec): joins the container's cgroups, then every
 * namespace of its init through the pidfd, and makes itself what the command
 * will be: its terminal and stdio, cwd (resolved inside the root), syscall
 * filter, credentials and signals. A PID namespace applies only to children,
 * so the command is forked after that, and not from here: this process is
 * nbox's memory (or the monitor's), and a process the container can see,
 * stop and, with CAP_SYS_PTRACE, attach to must neither share it nor copy
 * it. It execs the sealed nbox-exec, which forks the command from its own few
 * kB (with CLONE_PARENT, as runc's stage-2: nbox is its parent, reaps it, and
 * its parent-death signal is nbox's), passes the command's pid on and exits. */
static int joiner_entry(void *arg) {
  struct child_ctx *ctx = arg;
  const struct child_spec *s = ctx->spec;
  /* Until the exec, /proc/<pid>/exe is the host's node and the fds are nbox's:
   * non-dumpable (runc does the same; CVE-2016-9962, CVE-2019-5736). The mm is
   * nbox's own (spawn_stack): nbox makes it dumpable again once the exec is done. */
  CHECK(ctx, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), STEP_SETNS, "prctl", -1);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail(ctx, STEP_PARENT_GONE, "prctl", errno, -1);
  check_parent_alive(ctx);
  /* A session of its own, with no controlling terminal, before anything of the container can see a process of
   * it: the command forked from it would otherwise be in nbox's, with the caller's terminal to push input into
   * (TIOCSTI) until its own setsid. */
  CHECK(ctx, setsid(), STEP_SETSID, "setsid", -1);
  close_other_fds(ctx);
  join_cgroups(ctx, 0);
  CHECK(ctx,
        syscall(SYS_setns, s->join_pidfd, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP),
        STEP_SETNS, "setns", -1);
  close(s->join_pidfd);
  CHECK(ctx, chdir("/"), STEP_SETNS, "chdir", -1);
  if (s->console_fd >= 0) setup_terminal(ctx);
  ctx->null_fd = -1;
  if (s->stdio[0] < 0 || s->stdio[1] < 0 || s->stdio[2] < 0) {
    ctx->null_fd = open_container_null();
    CHECK(ctx, ctx->null_fd, STEP_DEVICE_NODES, "open", -1);
  }
  int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  CHECK(ctx, rootfd, STEP_WORKDIR, "open", -1);
  ctx->cwd_fd = resolve_in_root(rootfd, s->cwd, 1);
  CHECK(ctx, ctx->cwd_fd, STEP_WORKDIR, "openat2", -1);
  close(rootfd);
  become_command(ctx);
}

#define JOIN_START_TIMEOUT_MS 10000

/* Whether the error pipe has something to read (a message or EOF) within JOIN_START_TIMEOUT_MS. */
static int error_pipe_ready(int fd) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (spent >= JOIN_START_TIMEOUT_MS) return 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int n = poll(&pfd, 1, (int)(JOIN_START_TIMEOUT_MS - spent));
    if (n > 0) return 1;
    if (n == 0) return 0;
    if (errno != EINTR) return 1; /* the read reports it */
  }
}

/* Whether pid is an unreaped child of this process in the PID namespace of the container whose init pidfd
 * joined: the pid a joiner passes on comes through a pipe the command held too, before it exec'd. */
static int is_joined_child(int pidfd, pid_t pid, int init_pidfd) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0) return 0;
  char path[64], text[512];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", init_pidfd);
  if (proc_read_text(path, text, sizeof text) <= 0) return 0;
  const char *at = strstr(text, "\nPid:\t");
  if (!at) return 0;
  long init = strtol(at + 6, NULL, 10);
  struct stat mine, theirs;
  snprintf(path, sizeof path, "/proc/%ld/ns/pid", init);
  if (init <= 0 || stat(path, &theirs) < 0) return 0;
  snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)pid);
  return stat(path, &mine) == 0 && mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
}

/* The end of a join, once the error pipe said how it went (got: what its
 * read returned): the joiner is reaped, and the command (nbox's child too)
 * is handed over as a pidfd, or killed and reaped when it failed. */
static int join_result(const struct child_spec *spec, int joiner_pidfd, int pid_fd, int sync_fd, ssize_t got, int read_errno,
                       struct child_error *msg, struct spawn_result *res, struct child_error *err) {
  pid_t joined = 0;
  ssize_t got_pid;
  do got_pid = read(pid_fd, &joined, sizeof joined);
  while (got_pid < 0 && errno == EINTR);
  close(pid_fd);
  siginfo_t info;
  while (waitid((idtype_t)P_PIDFD, (id_t)joiner_pidfd, &info, WEXITED) < 0 && errno == EINTR) {
  }
  close(joiner_pidfd);
  close(sync_fd);
  if (got_pid != (ssize_t)sizeof joined) joined = 0;
  res->mount_ns = -1;
  if (got == 0 && joined > 0 && spec->detach) {
    /* No child of ours: its pid may name another process by the time we look. */
    res->pid = joined;
    res->pidfd = -1;
    return 0;
  }
  /* Our unreaped child, its pid not reusable before we wait for it; checked to be that before it is
   * signalled or waited for. A detached one is not ours to either. */
  int pidfd = -1, open_errno = EIO;
  if (joined > 0 && !spec->detach) {
    pidfd = (int)syscall(SYS_pidfd_open, joined, 0);
    open_errno = errno;
    if (pidfd >= 0 && !is_joined_child(pidfd, joined, spec->join_pidfd)) {
      close(pidfd);
      pidfd = -1;
      open_errno = ECHILD;
    }
  }
  if (got == 0 && pidfd >= 0) {
    res->pid = joined;
    res->pidfd = pidfd;
    return 0;
  }
  if (got != (ssize_t)sizeof *msg) {
    memset(msg, 0, sizeof *msg);
    msg->index = -1;
    if (got == 0) {
      msg->step = STEP_CLONE;
      msg->err = joined > 0 ? open_errno : EIO;
      copy_name(msg->syscall, sizeof msg->syscall, joined > 0 ? "pidfd_open" : "clone");
    } else {
      msg->step = STEP_EXEC;
      msg->err = got < 0 ? read_errno : EIO;
      copy_name(msg->syscall, sizeof msg->syscall, read_errno == ETIMEDOUT ? "start" : "read");
    }
  }
  if (pidfd >= 0) {
    /* Killed even when it reported its failure, after which it exits by itself: a message may come from a
     * command the container took over before it exec'd. */
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | __WALL) < 0 && errno == EINTR) {
    }
    close(pidfd);
  }
  *err = *msg;
  return -1;
}

int child_console_receive(int sock) {
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
  do got = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (got < 0 && errno == EINTR);
  if (got < 0) return -1;
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  if (got != 1 || !cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
      cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
    return errno = EPROTO, -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return fd;
}

/* Writes v in decimal and a NUL at out (at most 11 bytes): its length. */
static size_t put_decimal(char *out, unsigned v) {
  char digits[10];
  size_t n = 0;
  do digits[n++] = (char)('0' + v % 10), v /= 10;
  while (v > 0);
  for (size_t i = 0; i < n; i++) out[i] = digits[n - 1 - i];
  out[n] = '\0';
  return n;
}

int child_spawn(const struct child_spec *spec, struct spawn_result *res, struct child_error *err) {
  memset(err, 0, sizeof *err);
  err->index = -1;
  if (spec->nbinds > MAX_BINDS) {
    err->step = STEP_BIND_PREPARE;
    err->err = E2BIG;
    copy_name(err->syscall, sizeof err->syscall, "open_tree");
    return -1;
  }
  int join = spec->join_pidfd >= 0;
  int error_pipe[2], sync_pipe[2] = {-1, -1}, pid_pipe[2] = {-1, -1};
  if (pipe2(error_pipe, O_CLOEXEC) < 0) goto clone_failed;
  if (pipe2(sync_pipe, O_CLOEXEC) < 0 || (join && pipe2(pid_pipe, O_CLOEXEC) < 0)) {
    int saved = errno;
    close(error_pipe[0]);
    close(error_pipe[1]);
    if (sync_pipe[0] >= 0) {
      close(sync_pipe[0]);
      close(sync_pipe[1]);
    }
    errno = saved;
    goto clone_failed;
  }

  /* nbox-exec's first argument: the number the child's error pipe has; a joiner's adds its pid and sync pipes
   * and how to fork the command (exec-helper.c). */
  char *arg = spec->exec_fd_arg;
  arg += put_decimal(arg, (unsigned)error_pipe[1]);
  if (join) {
    *arg++ = ':';
    arg += put_decimal(arg, (unsigned)pid_pipe[1]);
    *arg++ = ':';
    arg += put_decimal(arg, (unsigned)sync_pipe[0]);
    *arg++ = ':';
    if (!spec->detach) *arg++ = 'p';
    if (spec->console_fd >= 0) *arg++ = 't';
    *arg = '\0';
  }
  /* The cgroup namespace comes after joining the container's cgroups, so it is rooted there. */
  int flags = CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
  if (spec->new_network && !spec->netns_path) flags |= CLONE_NEWNET;
  struct sock_fprog program = {.len = spec->filter_len, .filter = (struct sock_filter *)spec->filter};
  int pidfd = -1;

  struct spawn_stack stack = {0};
  if (spawn_stack_map(&stack) < 0) {
    int saved = errno;
    close(error_pipe[0]);
    close(error_pipe[1]);
    close(sync_pipe[0]);
    close(sync_pipe[1]);
    if (join) {
      close(pid_pipe[0]);
      close(pid_pipe[1]);
    }
    errno = saved;
    goto clone_failed;
  }

  /* Block every signal so no Node handler runs in the child before it resets them. */
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  long pid;
  /* The children make this mm non-dumpable (joiner_entry, set_credentials): it is ours again once they have
   * exec'd. One spawn at a time, so that no other thread's puts it back under a child of this one. */
  pthread_mutex_lock(&spawn_lock);
  int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  if (join) {
    struct child_ctx joiner = {.spec = spec, .filter = spec->filter ? &program : NULL, .error_fd = error_pipe[1], .sync_fd = sync_pipe[0],
                               .pid_fd = pid_pipe[1], .tty_fd = -1};
    /* The joiner's own fd table drops this end and the other pipes' (close_other_fds). */
    pid = clone(joiner_entry, stack.top, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &joiner, &pidfd);
  } else {
    struct init_start start = {
        .ctx = {.spec = spec, .filter = spec->filter ? &program : NULL, .error_fd = error_pipe[1], .sync_fd = sync_pipe[0], .pid_fd = -1, .tty_fd = -1},
        .parent_ends = {error_pipe[0], sync_pipe[1]},
    };
    pid = clone(init_entry, stack.top, flags | CLONE_VM | CLONE_VFORK | SIGCHLD, &start, &pidfd);
  }
  int clone_errno = errno;
  if (dumpable > 0) prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
  pthread_mutex_unlock(&spawn_lock);
  munmap(stack.base, stack.size);
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  close(error_pipe[1]);
  close(sync_pipe[0]);
  if (join) close(pid_pipe[1]);
  if (pid < 0) {
    close(error_pipe[0]);
    close(sync_pipe[1]);
    if (join) close(pid_pipe[0]);
    errno = clone_errno;
    goto clone_failed;
  }

  /* EOF on the error pipe means execve succeeded (the pipe is O_CLOEXEC). A joined command is in the container
   * before it execs, where a process may stop it: nbox waits JOIN_START_TIMEOUT_MS at most, then kills it. */
  struct child_error msg;
  ssize_t got;
  if (join && !error_pipe_ready(error_pipe[0])) got = -1, errno = ETIMEDOUT;
  else {
    do got = read(error_pipe[0], &msg, sizeof msg);
    while (got < 0 && errno == EINTR);
  }
  int read_errno = errno;
  close(error_pipe[0]);
  if (join) return join_result(spec, pidfd, pid_pipe[0], sync_pipe[1], got, read_errno, &msg, res, err);
  close(sync_pipe[1]);
  errno = read_errno;
  if (got != 0) {
    /* A message, or a read that failed: either way the child is not running our command. */
    if (got != (ssize_t)sizeof msg) {
      memset(&msg, 0, sizeof msg);
      msg.step = STEP_EXEC;
      msg.err = got < 0 ? errno : EIO;
      msg.index = -1;
      copy_name(msg.syscall, sizeof msg.syscall, "read");
      syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    }
    siginfo_t info;
    while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0 && errno == EINTR) {
    }
    close(pidfd);
    *err = msg;
    return -1;
  }
  res->pid = (pid_t)pid;
  res->pidfd = pidfd;
  char ns_path[32] = "/proc/";
  char *at = ns_path + 6;
  at += put_decimal(at, (unsigned)pid);
  memcpy(at, "/ns/mnt", sizeof "/ns/mnt");
  res->mount_ns = open(ns_path, O_RDONLY | O_CLOEXEC);
  return 0;

clone_failed:
  err->step = STEP_CLONE;
  err->err = errno;
  copy_name(err->syscall, sizeof err->syscall, "clone");
  return -1;
}
