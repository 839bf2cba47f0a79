/* remove_tree (tree.h): a depth-first walk that holds one directory fd, with
 * the names still to visit kept on the heap, so a hostile layer nested a
 * hundred thousand levels deep needs neither a deep stack nor many fds. */
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One directory on the way down: its name in its parent, and its
 * subdirectories not yet removed. */
struct level {
  char *name;
  char **dirs;
  size_t ndirs, cap;
};

struct walk {
  struct level *levels;
  size_t depth, cap;
  const char **failed;
  char *where;
  size_t where_len;
};

static int fail(struct walk *w, const char *syscall_name, const char *name) {
  int err = errno;
  *w->failed = syscall_name;
  if (w->where && w->where_len > 0) snprintf(w->where, w->where_len, "%s", name ? name : "");
  errno = err;
  return -1;
}

/* Closes fd without losing errno: -1. */
static int close_failed(int fd) {
  int err = errno;
  close(fd);
  errno = err;
  return -1;
}

/* fail, then close_failed. */
static int fail_closing(struct walk *w, int fd, const char *syscall_name, const char *name) {
  fail(w, syscall_name, name);
  return close_failed(fd);
}

static int mount_id(int fd, unsigned long long *id) {
  struct statx stx;
  if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0) return -1;
  *id = stx.stx_mnt_id;
  return 0;
}

static int push_dir(struct level *lv, const char *name) {
  if (lv->ndirs == lv->cap) {
    size_t cap = lv->cap ? lv->cap * 2 : 8;
    char **dirs = realloc(lv->dirs, cap * sizeof *dirs);
    if (!dirs) return -1;
    lv->dirs = dirs;
    lv->cap = cap;
  }
  if (!(lv->dirs[lv->ndirs] = strdup(name))) return -1;
  lv->ndirs++;
  return 0;
}

/* Unlinks every non-directory in fd and keeps the subdirectories' names. */
static int empty_files(struct walk *w, int fd, struct level *lv) {
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return fail(w, "fcntl", lv->name);
  DIR *dir = fdopendir(dup_fd);
  if (!dir) {
    close(dup_fd);
    return fail(w, "fdopendir", lv->name);
  }
  int rc = 0;
  for (;;) {
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (!entry) {
      if (errno) rc = fail(w, "readdir", lv->name);
      break;
    }
    const char *name = entry->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    int is_dir = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) continue;
        rc = fail(w, "fstatat", name);
        break;
      }
      is_dir = S_ISDIR(st.st_mode);
    }
    if (is_dir ? push_dir(lv, name) < 0 : unlinkat(fd, name, 0) < 0 && errno != ENOENT) {
      rc = fail(w, is_dir ? "malloc" : "unlinkat", name);
      break;
    }
  }
  closedir(dir);
  return rc;
}

static struct level *push_level(struct walk *w, char *name) {
  if (w->depth == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 16;
    struct level *levels = realloc(w->levels, cap * sizeof *levels);
    if (!levels) return NULL;
    w->levels = levels;
    w->cap = cap;
  }
  struct level *lv = &w->levels[w->depth++];
  memset(lv, 0, sizeof *lv);
  lv->name = name;
  return lv;
}

static void free_levels(struct walk *w) {
  for (size_t i = 0; i < w->depth; i++) {
    struct level *lv = &w->levels[i];
    while (lv->ndirs > 0) free(lv->dirs[--lv->ndirs]);
    free(lv->dirs);
    free(lv->name);
  }
  free(w->levels);
}

/* The walk below the open directory fd (closed here): empty when it returns 0. */
static int empty_tree(struct walk *w, int fd, unsigned long long mnt) {
  struct level *top = push_level(w, NULL);
  if (!top) return fail_closing(w, fd, "malloc", NULL);
  if (empty_files(w, fd, top) < 0) return close_failed(fd);
  while (w->depth > 0) {
    top = &w->levels[w->depth - 1];
    if (top->ndirs > 0) {
      char *name = top->dirs[--top->ndirs];
      int child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0 && errno == ENOENT) {
        free(name);
        continue;
      }
      if (child < 0) {
        fail_closing(w, fd, "openat", name);
        free(name);
        return -1;
      }
      unsigned long long child_mnt = mnt;
      if (mount_id(child, &child_mnt) < 0 || child_mnt != mnt) {
        /* Another mount's content is never the store's to remove: EXDEV. */
        if (child_mnt != mnt) errno = EXDEV;
        fail_closing(w, child, "statx", name);
        free(name);
        return close_failed(fd);
      }
      close(fd);
      fd = child;
      struct level *lv = push_level(w, name);
      if (!lv) {
        free(name);
        return fail_closing(w, fd, "malloc", NULL);
      }
      if (empty_files(w, fd, lv) < 0) return close_failed(fd);
    } else if (w->depth == 1) {
      break;
    } else {
      /* Up through "..": the tree is the store's own and nothing else moves it meanwhile. */
      int parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (parent < 0) return fail_closing(w, fd, "openat", top->name);
      close(fd);
      fd = parent;
      if (unlinkat(fd, top->name, AT_REMOVEDIR) < 0 && errno != ENOENT) return fail_closing(w, fd, "unlinkat", top->name);
      free(top->name);
      free(top->dirs);
      w->depth--;
    }
  }
  close(fd);
  return 0;
}

int remove_tree(const char *path, const char **failed, char *where, size_t where_len) {
  struct walk w = {.failed = failed, .where = where, .where_len = where_len};
  if (where && where_len > 0) where[0] = '\0';
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;
    if (errno != ENOTDIR && errno != ELOOP) return fail(&w, "open", NULL);
    if (unlink(path) < 0 && errno != ENOENT) return fail(&w, "unlink", NULL);
    return 0;
  }
  unsigned long long mnt;
  if (mount_id(fd, &mnt) < 0) return fail_closing(&w, fd, "statx", NULL);
  int rc = empty_tree(&w, fd, mnt);
  free_levels(&w);
  if (rc < 0) return -1;
  if (rmdir(path) < 0 && errno != ENOENT) return fail(&w, "rmdir", NULL);
  return 0;
}
