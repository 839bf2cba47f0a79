/* Paths from images, Dockerfiles and build contexts resolved inside a root
 * directory: what is opened is what the caller then uses (an fd), so a
 * symlink planted inside the root never reaches the host. */
#ifndef NBOX_INROOT_H
#define NBOX_INROOT_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opens path as if root were "/" (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS):
 * an O_PATH|O_CLOEXEC fd. With make_dirs, missing components are made one by
 * one (mkdirat on the parent resolved in root, then resolved again) and the
 * result is a directory. Returns the fd, or -1 with errno set and *failed
 * naming the system call. */
int inroot_open(const char *root, const char *path, int make_dirs, mode_t mode, const char **failed);

/* Removes the empty regular file or empty directory at path beneath root
 * without following any symlink (the parent is opened with RESOLVE_BENEATH|
 * RESOLVE_NO_SYMLINKS). Returns 1 when removed, 0 when nothing of that kind is
 * there (or a symlink is in the way), -1 with errno set and *failed. */
int inroot_remove_empty(const char *root, const char *path, const char **failed);

#ifdef __cplusplus
}
#endif

#endif
