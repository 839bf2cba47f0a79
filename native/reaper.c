/* nbox-reaper OWNER_PID OWNER_START COMMAND [ARG...]: the keeper of one
 * process's session containers (RunOptions.session, src/runtime/session.ts).
 *
 * The owner spawns it before its first session container exists. It holds a
 * pidfd of the owner, opened before the owner's start time (/proc/<pid>/stat
 * field 22) is checked, so a pid reused meanwhile is never taken for the
 * owner. When the pidfd polls readable the owner has died, however it died
 * (SIGKILL included), and the reaper execs COMMAND, which ends and removes
 * what the owner's session left: containers, cgroups, leases, records. An
 * owner already gone when the reaper starts gets the same at once.
 *
 * It runs in a session of its own, so neither a terminal's ^C nor a signal to
 * the owner's process group reaches it, and it keeps no fd and no directory
 * of the owner's busy. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proc-stat.h"

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  char *end;
  long owner = strtol(argv[1], &end, 10);
  if (*end != '\0' || owner <= 0) return 2;
  unsigned long long owner_start = strtoull(argv[2], &end, 10);
  if (*end != '\0') return 2;
  syscall(SYS_close_range, 3, ~0U, 0);
  setsid();
  prctl(PR_SET_NAME, "nbox-reaper", 0, 0, 0);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  if (chdir("/") < 0) return 1;

  int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)owner, 0);
  if (pidfd >= 0 && proc_start_time((pid_t)owner, 1) == owner_start) {
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
  }
  if (pidfd >= 0) close(pidfd);
  /* The cleanup runs with default signal handling, as any command would. */
  signal(SIGHUP, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  execv(argv[3], argv + 3);
  return 127;
}
