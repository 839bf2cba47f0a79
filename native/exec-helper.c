/* nbox-exec: the container's last exec goes through this static helper, run
 * from a sealed memfd (runc's CVE-2019-5736 fix). Until it execs the
 * container's command, /proc/self/exe is this sealed copy, never the host's
 * node binary, so a container that runs /proc/self/exe gets only this.
 *
 *   argv: nbox-exec ERROR_FD COMMAND [ARG...]
 *
 * A failed exec is reported on ERROR_FD as the child reports its own steps. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <unistd.h>

#include "child.h"
#include "exec-search.h"

int main(int argc, char **argv, char **envp) {
  if (argc < 3) return 127;
  int error_fd = 0;
  for (const char *p = argv[1]; *p; p++) {
    if (*p < '0' || *p > '9') return 127;
    error_fd = error_fd * 10 + (*p - '0');
  }
  /* EOF on the error pipe tells the parent the command runs. */
  if (fcntl(error_fd, F_SETFD, FD_CLOEXEC) < 0) return 127;
  struct child_error msg;
  memset(&msg, 0, sizeof msg);
  msg.step = STEP_EXEC;
  msg.err = nbox_exec_search(argv + 2, envp);
  msg.index = -1;
  memcpy(msg.syscall, "execve", sizeof "execve");
  ssize_t ignored = write(error_fd, &msg, sizeof msg);
  (void)ignored;
  return 127;
}
