/* spawn_fds: posix_spawn with a given set of fds (glibc's CLONE_VFORK: no
 * copy of the caller's memory is made and none of its code runs in the child),
 * shared by the addon and nbox-monitor. */
#ifndef NBOX_SPAWNFDS_H
#define NBOX_SPAWNFDS_H

#include <spawn.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* spawn_attr_default_signals: a posix_spawn child starts with no signal
 * blocked and every handler at its default, whatever its parent set up (plus flags). */
void spawn_attr_default_signals(posix_spawnattr_t *attr, short flags);

/* Starts path in a session of its own with fds[i] on fd i for i < n (-1:
 * /dev/null, for 0-2 alone), no other fd, no signal blocked and every handler
 * at its default. Returns 0, or an errno with *failed naming the call. */
int spawn_fds(pid_t *pid, const char *path, char *const argv[], char *const envp[], const int *fds, int n, const char **failed);

#ifdef __cplusplus
}
#endif

#endif
