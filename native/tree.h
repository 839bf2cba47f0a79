/* Removing a directory tree of the store (a removed container's, layer's or
 * volume's) by fds: one system call per entry, no symlink followed, no mount
 * crossed, and as many open fds at any depth as at the top. */
#ifndef NBOX_TREE_H
#define NBOX_TREE_H

#ifdef __cplusplus
extern "C" {
#endif

#include <stddef.h>

/* Removes path and everything beneath it; a missing path is no error, a
 * non-directory is unlinked. A directory of another mount (a mount point) is
 * EXDEV: nothing of another mount is removed. Returns 0, or -1 with errno
 * set, *failed naming the system call and where (where_len bytes, may be
 * NULL) the name of the entry it failed on. */
int remove_tree(const char *path, const char **failed, char *where, size_t where_len);

#ifdef __cplusplus
}
#endif

#endif
