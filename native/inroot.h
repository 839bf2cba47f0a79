/* Paths from images, Dockerfiles and build contexts resolved inside a root
 * directory (given as an fd): what is opened is what the caller then uses
 * (an fd), so a symlink planted inside the root never reaches the host. */
#ifndef NBOX_INROOT_H
#define NBOX_INROOT_H

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opens path as if rootfd were "/" (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS):
 * an O_PATH|O_CLOEXEC fd. With make_dirs, missing components are made one by
 * one (mkdirat on the parent resolved in root, then resolved again) and the
 * result is a directory. Returns the fd, or -1 with errno set and *failed
 * naming the system call. */
int inroot_open(int rootfd, const char *path, int make_dirs, mode_t mode, const char **failed);

/* Opens the regular file at path, resolved as inroot_open does, for reading
 * (O_RDONLY|O_CLOEXEC) and fills *st. Nothing but a regular file is ever
 * opened (it is resolved O_PATH, checked, then reopened through
 * /proc/self/fd): anything else is EINVAL. Returns the fd, or -1 with errno
 * set and *failed naming the system call. */
int inroot_open_file(int rootfd, const char *path, struct stat *st, const char **failed);

/* Copies what fd reads, from its start, into a new file target (O_EXCL, so
 * never through a symlink): copy_file_range, or read and write where the
 * filesystems cannot; then gives it mode (fchmod: no umask) and the access and
 * modification time mtime. Returns 0, or -1 with errno set and *failed
 * naming the system call. */
int copy_to_new_file(int fd, const char *target, mode_t mode, struct timespec mtime, const char **failed);

/* Removes the empty regular file or empty directory at path beneath rootfd
 * without following any symlink (the parent is opened with RESOLVE_BENEATH|
 * RESOLVE_NO_SYMLINKS). Returns 1 when removed, 0 when nothing of that kind is
 * there (or a symlink is in the way), -1 with errno set and *failed. */
int inroot_remove_empty(int rootfd, const char *path, const char **failed);

#ifdef __cplusplus
}
#endif

#endif
