/* Resolution inside a root with openat2: see inroot.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int openat2_fd(int dirfd, const char *path, unsigned long long flags, unsigned long long resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = flags;
  how.resolve = resolve;
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Closes fd keeping errno, and returns -1 with *failed set. */
static int fail_closing(int fd, const char *syscall_name, const char **failed) {
  int err = errno;
  if (fd >= 0) close(fd);
  *failed = syscall_name;
  errno = err;
  return -1;
}

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

int inroot_open(const char *root, const char *path, int make_dirs, mode_t mode, const char **failed) {
  int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return fail_closing(-1, "open", failed);
  unsigned long long flags = O_PATH | O_CLOEXEC | (make_dirs ? O_DIRECTORY : 0);
  int fd = openat2_fd(rootfd, path[0] ? path : ".", flags, IN_ROOT);
  if (fd >= 0 || errno != ENOENT || !make_dirs) {
    if (fd < 0) return fail_closing(rootfd, "openat2", failed);
    close(rootfd);
    return fd;
  }
  /* Walk the prefixes: each missing name is made in its parent as resolved in
   * root, then the prefix is resolved again, so a symlink raced in its place
   * still resolves inside root. */
  char prefix[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof prefix) {
    errno = ENAMETOOLONG;
    return fail_closing(rootfd, "openat2", failed);
  }
  int parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
  if (parent < 0) return fail_closing(rootfd, "fcntl", failed);
  size_t at = 0;
  while (at < len) {
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
      if (mkdirat(parent, name, mode) < 0 && errno != EEXIST) {
        int err = errno;
        close(rootfd);
        errno = err;
        return fail_closing(parent, "mkdirat", failed);
      }
      fd = openat2_fd(rootfd, prefix, O_PATH | O_DIRECTORY | O_CLOEXEC, IN_ROOT);
    }
    if (fd < 0) {
      int err = errno;
      close(rootfd);
      errno = err;
      return fail_closing(parent, "openat2", failed);
    }
    close(parent);
    parent = fd;
  }
  close(rootfd);
  return parent;
}

int inroot_remove_empty(const char *root, const char *path, const char **failed) {
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

  int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return fail_closing(-1, "open", failed);
  int dirfd = openat2_fd(rootfd, parent_len ? parent_path : ".", O_PATH | O_DIRECTORY | O_CLOEXEC,
                         RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
  int err = errno;
  close(rootfd);
  if (dirfd < 0) {
    /* Missing, or a symlink (ELOOP) or non-directory in the way: no stub of ours is there. */
    if (err == ENOENT || err == ENOTDIR || err == ELOOP) return 0;
    errno = err;
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
