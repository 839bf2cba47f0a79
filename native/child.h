/* The container child: everything between clone3 and execve.
 *
 * The parent (a threaded Node process) fills a child_spec with pointers to
 * buffers it built beforehand; the child only reads them and makes system
 * calls, so nothing in it allocates, locks or touches V8. */
#ifndef NBOX_CHILD_H
#define NBOX_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/filter.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Steps of the child's setup, reported with errno when one fails. Keep in
 * sync with step_names in child.c. */
enum child_step {
  STEP_CLONE = 0,
  STEP_PARENT_GONE,
  STEP_CGROUP,
  STEP_SETNS,
  STEP_SETSID,
  STEP_MOUNT_PRIVATE,
  STEP_BIND_PREPARE,
  STEP_MOUNT_OVERLAY,
  STEP_PIVOT_ROOT,
  STEP_MOUNT_PROC,
  STEP_MOUNT_DEV,
  STEP_DEVICE_NODES,
  STEP_DEVICES,
  STEP_SYSCTL,
  STEP_READONLY_ROOT,
  STEP_NO_NEW_PRIVS,
  STEP_MOUNT_DEVPTS,
  STEP_MOUNT_SHM,
  STEP_MOUNT_MQUEUE,
  STEP_MOUNT_SYS,
  STEP_BIND_MOUNT,
  STEP_MASK_PATHS,
  STEP_READONLY_PATHS,
  STEP_HOSTNAME,
  STEP_LOOPBACK,
  STEP_WORKDIR,
  STEP_SECCOMP,
  STEP_CAPABILITIES,
  STEP_SETGROUPS,
  STEP_SETGID,
  STEP_SETUID,
  STEP_SIGNALS,
  STEP_STDIO,
  STEP_CHDIR,
  STEP_EXEC,
  STEP_TERMINAL,
  STEP_RLIMITS,
  STEP_COUNT
};

struct child_bind {
  const char *source; /* host path, opened before pivot_root; NULL for a tmpfs */
  int source_fd;      /* a detached tree of a source the parent resolved (used instead of source), or -1 */
  const char *target; /* absolute path inside the container */
  int readonly;
  int is_file;
  const char *tmpfs_options; /* a tmpfs mount's data string, when source is NULL */
  /* A bind's propagation as mount(2) flags: MS_PRIVATE, MS_SLAVE or MS_SHARED, with MS_REC when its
   * submounts get it too (child_propagation reads Docker's names). */
  unsigned long propagation;
};

/* Docker's bind propagation modes as child_bind's flags: "" is rprivate, Docker's default. slave and
 * private are recursive, as under Docker, whose rslave or rprivate container root leaves a bind's
 * submounts so; shared alone leaves them as on the host. Returns -1 for any other name. */
int child_propagation(const char *name, unsigned long *flags);

/* One --ulimit: RLIM_INFINITY is (unsigned long long)-1. */
struct child_rlimit {
  int resource;
  unsigned long long soft, hard;
};

/* A --device node (or, privileged, a host one) made in the container. */
struct child_device {
  const char *path; /* absolute, inside the container */
  mode_t mode;      /* S_IFCHR or S_IFBLK with the permission bits */
  unsigned major, minor;
  uid_t uid;
  gid_t gid;
};

/* The size of child_spec.exec_fd_arg: a join's `E:P:S:pt`. */
#define CHILD_EXEC_ARG_MAX 48

struct child_spec {
  char *const *argv; /* NULL-terminated */
  char *const *envp; /* NULL-terminated */
  const char *cwd;
  int chown_cwd; /* directories made for cwd belong to uid:gid (a build's WORKDIR) */
  uid_t uid;
  gid_t gid;
  const gid_t *groups;
  size_t ngroups;
  const char *hostname;
  const char *rootfs;
  const char *const *lower_dirs; /* topmost first */
  size_t nlower;
  const char *upper_dir;
  const char *work_dir;
  int new_network;
  /* The seccomp program the parent compiled (Docker's default profile, or
   * the container's): filter_len instructions, installed before the exec;
   * NULL: unconfined. */
  const struct sock_filter *filter;
  unsigned short filter_len;
  /* The bounding, permitted and effective capabilities (bit n: capability n);
   * a non-root uid loses the last two at setresuid. */
  uint64_t caps;
  int no_new_privs;
  int privileged;      /* no masked or read-only paths, /sys read-write */
  int readonly_rootfs; /* the root mount read-only once the cwd exists */
  /* --sysctl: name (a path below /proc/sys) and value, 2 * nsysctls strings. */
  const char *const *sysctls;
  size_t nsysctls;
  const struct child_device *devices;
  size_t ndevices;
  /* A network namespace kept on this file (a bridge network set up beforehand) that the child
   * joins instead of making one; NULL otherwise. */
  const char *netns_path;
  const struct child_bind *binds;
  size_t nbinds;
  int stdio[3]; /* -1: the container's own /dev/null */
  /* cgroup files (v1 tasks, v2 cgroup.procs) the child joins first by writing "0"
   * while it is one thread, so the device policy holds
   * before it mounts anything and a kill through the cgroup reaches it all. */
  const char *const *cgroup_join_files;
  size_t ncgroups;
  /* --ulimit: set by the init before execve, while it may still raise a hard limit. */
  const struct child_rlimit *rlimits;
  size_t nrlimits;
  /* The sealed memfd of nbox-exec and its argv (NULL-terminated): argv[1]
   * points at exec_fd_arg, filled with the error pipe's number before the
   * clone, and argv[2...] is the container's command. */
  int exec_fd;
  char *const *exec_argv;
  char *exec_fd_arg; /* CHILD_EXEC_ARG_MAX bytes */
  /* Join mode (`exec`): a pidfd of a running container's init, whose
   * namespaces the command joins; rootfs, layers, binds and hostname are then
   * unused and cwd must exist. -1 creates a new container. */
  int join_pidfd;
  /* Join mode: the command is no child of nbox and does not die with it
   * (`exec -d`); it still dies with the container. */
  int detach;
  /* -t: a socket the child sends the master of its pty over (SCM_RIGHTS),
   * made in the container's own devpts; the slave replaces stdio and is the
   * controlling terminal. -1: no terminal. console_rows and console_cols are
   * the terminal's size from the start. */
  int console_fd;
  unsigned short console_rows, console_cols;
};

/* What the child sends on the error pipe when a step fails. */
struct child_error {
  int step;
  int err;
  int index; /* which bind mount or lower dir, else -1 */
  char syscall[20];
};

struct spawn_result {
  pid_t pid;
  int pidfd;
  /* A new init's mount namespace (close-on-exec), held for the caller: its
   * exit then unmounts nothing, and the overlay's unmount (a sync of the
   * filesystem under the upper dir) waits for the caller's close, past the
   * end's record. -1 in join mode, or when the init is gone already. */
  int mount_ns;
};

/* Clones the container init (or, in join mode, a process in a running
 * container) and waits until it has exec'd. Returns 0 and fills *res, or -1
 * and fills *err (the child, if any, is reaped). */
int child_spawn(const struct child_spec *spec, struct spawn_result *res, struct child_error *err);

const char *child_step_name(int step);

/* The parent's end of console_fd: the pty master the child sent (close-on-exec)
 * before it exec'd, or -1 with errno (EPROTO for anything but one fd). */
int child_console_receive(int sock);

#ifdef __cplusplus
}
#endif

#endif
