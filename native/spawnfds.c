/* spawn_fds (spawnfds.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "spawnfds.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#define SPAWN_FDS_MAX 512

void spawn_attr_default_signals(posix_spawnattr_t *attr, short flags) {
  posix_spawnattr_init(attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(attr, &none);
  posix_spawnattr_setsigdefault(attr, &all);
  posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | flags);
}

int spawn_fds(pid_t *pid, const char *path, char *const argv[], char *const envp[], const int *fds, int n, const char **failed) {
  if (n < 0 || n > SPAWN_FDS_MAX) {
    *failed = "posix_spawn";
    return EINVAL;
  }
  /* Each source is first copied to n or above, so that no dup2 onto 0..n-1
   * overwrites a source still to be placed. */
  int moved[SPAWN_FDS_MAX];
  int rc = 0;
  *failed = "fcntl";
  for (int i = 0; i < n; i++) {
    moved[i] = -1;
    if (fds[i] < 0 && i > 2) rc = rc ? rc : EBADF;
    else if (rc == 0 && fds[i] >= 0 && (moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, n)) < 0) rc = errno;
  }
  if (rc == 0) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (int i = 0; i < (n < 3 ? 3 : n); i++) {
      if (i < n && moved[i] >= 0)
        posix_spawn_file_actions_adddup2(&actions, moved[i], i);
      else
        posix_spawn_file_actions_addopen(&actions, i, "/dev/null", O_RDWR, 0);
    }
    /* Not even an fd the caller was given without close-on-exec. */
    posix_spawn_file_actions_addclosefrom_np(&actions, n < 3 ? 3 : n);
    posix_spawnattr_t attr;
    spawn_attr_default_signals(&attr, POSIX_SPAWN_SETSID);
    *failed = "posix_spawn";
    rc = posix_spawn(pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  for (int i = 0; i < n; i++)
    if (moved[i] >= 0) close(moved[i]);
  return rc;
}
