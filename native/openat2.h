/* openat2 tried again on EAGAIN. With RESOLVE_IN_ROOT or RESOLVE_BENEATH the
 * kernel fails a ".." step so whenever a rename or a mount happened anywhere
 * on the system during the lookup (its rename_lock and mount_lock seqcounts),
 * which other processes' work makes common: the lookup is simply made again,
 * a bounded number of times. System calls only (the container child uses it). */
#ifndef NBOX_OPENAT2_H
#define NBOX_OPENAT2_H

#include <errno.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#define OPENAT2_TRIES 128

static inline int openat2_retrying(int dirfd, const char *path, struct open_how *how) {
  for (int tries = 1;; tries++) {
    int fd = (int)syscall(SYS_openat2, dirfd, path, how, sizeof *how);
    if (fd >= 0 || errno != EAGAIN || tries == OPENAT2_TRIES) return fd;
  }
}

#endif
