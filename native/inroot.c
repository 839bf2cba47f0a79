/* Resolution inside a root with openat2: see inroot.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "openat2.h"

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

static int openat2_fd(int dirfd, const char *path, unsigned long long flags, unsigned long long resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = flags;
  how.resolve = resolve;
  return openat2_retrying(dirfd, path, &how);
}

/* Closes fd (if any) keeping errno, and returns -1 with *failed set. */
static int fail_closing(int fd, const char *syscall_name, const char **failed) {
  int err = errno;
  if (fd >= 0) close(fd);
  *failed = syscall_name;
  errno = err;
  return -1;
}

int inroot_open(int rootfd, const char *path, int make_dirs, mode_t mode, const char **failed) {
  unsigned long long flags = O_PATH | O_CLOEXEC | (make_dirs ? O_DIRECTORY : 0);
  int fd = openat2_fd(rootfd, path[0] ? path : ".", flags, IN_ROOT);
  if (fd >= 0) return fd;
  if (errno != ENOENT || !make_dirs) return fail_closing(-1, "openat2", failed);
  /* Walk the prefixes: each missing name is made in its parent as resolved in
   * root, then the prefix is resolved again, so a symlink raced in its place
   * still resolves inside root. */
  char prefix[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof prefix) {
    errno = ENAMETOOLONG;
    return fail_closing(-1, "openat2", failed);
  }
  int parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
  if (parent < 0) return fail_closing(-1, "fcntl", failed);
  for (size_t at = 0; at < len;) {
    while (at < len && path[at] == '/') at++;
    size_t end = at;
    while (end < len && path[end] != '/') end++;
    if (end == at) break;
    memcpy(prefix, path, end);
    prefix[end] = '\0';
    const char *name = prefix + at;
    at = end;
    if (strcmp(name, ".") == 0) continue;
    fd = openat2_fd(rootfd, prefix, O_PATH | O_DIRECTORY | O_CLOEXEC, IN_ROOT);
    if (fd < 0 && errno == ENOENT) {
      if (mkdirat(parent, name, mode) < 0 && errno != EEXIST) return fail_closing(parent, "mkdirat", failed);
      fd = openat2_fd(rootfd, prefix, O_PATH | O_DIRECTORY | O_CLOEXEC, IN_ROOT);
    }
    if (fd < 0) return fail_closing(parent, "openat2", failed);
    close(parent);
    parent = fd;
  }
  return parent;
}

int inroot_open_file(int rootfd, const char *path, struct stat *st, const char **failed) {
  int pathfd = inroot_open(rootfd, path, 0, 0, failed);
  if (pathfd < 0) return -1;
  if (fstat(pathfd, st) < 0) return fail_closing(pathfd, "fstat", failed);
  if (!S_ISREG(st->st_mode)) {
    errno = EINVAL;
    return fail_closing(pathfd, "open", failed);
  }
  /* This process's /proc/self/fd, opened once: a reopen then looks up one name, not a whole /proc path. */
  static int proc_fds = -1;
  if (proc_fds < 0) proc_fds = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (proc_fds < 0) return fail_closing(pathfd, "open", failed);
  char name[16];
  snprintf(name, sizeof name, "%d", pathfd);
  int fd = openat(proc_fds, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_closing(pathfd, "openat", failed);
  close(pathfd);
  return fd;
}

int copy_to_new_file(int fd, const char *target, mode_t mode, struct timespec mtime, const char **failed) {
  int out = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) return fail_closing(-1, "open", failed);
  off_t in_at = 0;
  int plain = 0; /* copy_file_range refused: read and write */
  char buf[65536];
  for (;;) {
    ssize_t n;
    if (!plain) {
      n = copy_file_range(fd, &in_at, out, NULL, 1 << 30, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) && in_at == 0) {
        plain = 1;
        continue;
      }
      if (n < 0) return fail_closing(out, "copy_file_range", failed);
      if (n == 0) break;
      continue;
    }
    n = pread(fd, buf, sizeof buf, in_at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_closing(out, "read", failed);
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(out, buf + done, (size_t)(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return fail_closing(out, "write", failed);
      done += w;
    }
    in_at += n;
  }
  if (fchmod(out, mode) < 0) return fail_closing(out, "fchmod", failed);
  struct timespec times[2] = {mtime, mtime};
  if (futimens(out, times) < 0) return fail_closing(out, "futimens", failed);
  if (close(out) < 0) return fail_closing(-1, "close", failed);
  return 0;
}

int inroot_remove_empty(int rootfd, const char *path, const char **failed) {
  char parent_path[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof parent_path) {
    errno = ENAMETOOLONG;
    return fail_closing(-1, "openat2", failed);
  }
  const char *slash = strrchr(path, '/');
  const char *name = slash ? slash + 1 : path;
  if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
    errno = EINVAL;
    return fail_closing(-1, "unlinkat", failed);
  }
  size_t parent_len = slash ? (size_t)(slash - path) : 0;
  memcpy(parent_path, path, parent_len);
  parent_path[parent_len] = '\0';

  int dirfd = openat2_fd(rootfd, parent_len ? parent_path : ".", O_PATH | O_DIRECTORY | O_CLOEXEC,
                         RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
  if (dirfd < 0) {
    /* Missing, or a symlink (ELOOP) or non-directory in the way: no stub of ours is there. */
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return 0;
    return fail_closing(-1, "openat2", failed);
  }
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return close(dirfd), 0;
    return fail_closing(dirfd, "fstatat", failed);
  }
  int removed = 0;
  if (S_ISREG(st.st_mode) && st.st_size == 0) {
    if (unlinkat(dirfd, name, 0) < 0) return fail_closing(dirfd, "unlinkat", failed);
    removed = 1;
  } else if (S_ISDIR(st.st_mode)) {
    /* The kernel refuses a directory that is not empty: no check-then-remove. */
    if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0) removed = 1;
    else if (errno != ENOTEMPTY && errno != EEXIST) return fail_closing(dirfd, "unlinkat", failed);
  }
  close(dirfd);
  return removed;
}
