/* nbox-exec: the container's last exec goes through this static helper, run
 * from a sealed memfd (runc's CVE-2019-5736 fix). Until it execs the
 * container's command, /proc/self/exe is this sealed copy, never the host's
 * node binary, so a container that runs /proc/self/exe gets only this.
 *
 *   argv: nbox-exec ERROR_FD COMMAND [ARG...]
 *   argv: nbox-exec ERROR_FD:PID_FD:SYNC_FD:FLAGS COMMAND [ARG...]   (a join)
 *
 * A failed exec is reported on ERROR_FD as the child reports its own steps.
 *
 * A join (`exec`, a health check) runs it in the joiner, which has entered
 * the container's namespaces and become its user, but whose own pid is the
 * host's. It forks the command into the container's PID namespace from this
 * small image: a process the container can see never shares or copies the
 * memory of nbox or its monitor (child.c, join_main). The joiner writes the
 * command's pid on PID_FD and exits. FLAGS: 'p', the command is nbox's child
 * (CLONE_PARENT) and dies with it (SYNC_FD hangs up when nbox is gone); 't',
 * stdin is its terminal, made the controlling one of a session it starts
 * (else it stays in the joiner's, which has none). The fork runs under the
 * container's syscall filter, which must allow clone (and setsid for 't'), as
 * every profile that lets a shell run does.
 *
 * It is built without a C library (binding.gyp: -nostdlib): its own entry
 * point, system calls and the few string functions exec-search.h uses. Linked
 * with glibc it was 670 kB, which every detached container's monitor copies
 * into its sealed memfd and keeps, and glibc's static start-up ran on every
 * container start and exec; this is a few kB and starts at main. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "exec-search.h"

#if defined(__x86_64__)
static long sys3(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
static long sys3(long nr, long a, long b, long c) {
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
#else
#error "nbox-exec: no system call entry for this architecture"
#endif

static int error_number;

int *__errno_location(void) {
  return &error_number;
}

// A system call's result as libc gives it: -1 with errno set, or the value.
static long result(long ret) {
  if (ret < 0 && ret > -4096) {
    error_number = (int)-ret;
    return -1;
  }
  return ret;
}

int execve(const char *path, char *const argv[], char *const envp[]) {
  return (int)result(sys3(SYS_execve, (long)path, (long)argv, (long)envp));
}

int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  long arg = va_arg(ap, long);
  va_end(ap);
  return (int)result(sys3(SYS_fcntl, fd, cmd, arg));
}

ssize_t write(int fd, const void *buf, size_t len) {
  return result(sys3(SYS_write, fd, (long)buf, (long)len));
}

static ssize_t read_fd(int fd, void *buf, size_t len) {
  return result(sys3(SYS_read, fd, (long)buf, (long)len));
}

/* The compiler may call these for the code below (struct copies, zeroing): they
 * must exist, and must not be turned into calls to themselves (binding.gyp:
 * -fno-tree-loop-distribute-patterns). */
void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

size_t strlen(const char *s) {
  const char *p = s;
  while (*p) p++;
  return (size_t)(p - s);
}

char *strchrnul(const char *s, int c) {
  while (*s && *s != (char)c) s++;
  return (char *)s;
}

char *strchr(const char *s, int c) {
  char *at = strchrnul(s, c);
  return *at == (char)c ? at : NULL;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n > 0; n--, a++, b++) {
    if (*a != *b || *a == '\0') return (unsigned char)*a - (unsigned char)*b;
  }
  return 0;
}

// Reports a failed step on error_fd as child.c's fail does; the status to exit with.
static int report(int error_fd, int step, int err, const char *syscall_name) {
  struct child_error msg;
  memset(&msg, 0, sizeof msg);
  msg.step = step;
  msg.err = err;
  msg.index = -1;
  for (size_t i = 0; syscall_name[i] && i + 1 < sizeof msg.syscall; i++) msg.syscall[i] = syscall_name[i];
  ssize_t ignored = write(error_fd, &msg, sizeof msg);
  (void)ignored;
  return 127;
}

// Reads a decimal fd number up to a ':' or the end; -1 if malformed.
static int parse_fd(const char **at) {
  int fd = 0, digits = 0;
  for (; **at >= '0' && **at <= '9' && digits < 9; (*at)++, digits++) fd = fd * 10 + (**at - '0');
  if (digits == 0 || (**at != ':' && **at != '\0')) return -1;
  if (**at == ':') (*at)++;
  return fd;
}

// What fork_command returns in the command, which goes on to exec it.
#define RUN_COMMAND (-1)

// The joiner's fork (see the top): RUN_COMMAND in the command; in the joiner, the status it exits with.
static int fork_command(int error_fd, int pid_fd, int sync_fd, const char *flags) {
  int child_of_nbox = strchr(flags, 'p') != NULL, terminal = strchr(flags, 't') != NULL;
  /* Not dumpable from its first instruction: until it execs, no process of the container's user may attach to it
   * and write on PID_FD or ERROR_FD (nbox still checks the pid it is given). */
  if (result(sys3(SYS_prctl, PR_SET_DUMPABLE, 0, 0)) < 0) return report(error_fd, STEP_CLONE, error_number, "prctl");
  long pid = result(sys3(SYS_clone, child_of_nbox ? CLONE_PARENT : SIGCHLD, 0, 0));
  if (pid < 0) return report(error_fd, STEP_CLONE, error_number, "clone");
  if (pid > 0) {
    pid_t joined = (pid_t)pid;
    return write(pid_fd, &joined, sizeof joined) == (ssize_t)sizeof joined ? 0 : 127;
  }
  if (child_of_nbox) {
    /* nbox's death kills it, and nbox must not have died before that was set: then its end of SYNC_FD is gone. */
    char byte;
    if (result(sys3(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0)) < 0) return report(error_fd, STEP_PARENT_GONE, error_number, "prctl");
    if (fcntl(sync_fd, F_SETFL, O_NONBLOCK) < 0) return report(error_fd, STEP_PARENT_GONE, error_number, "fcntl");
    if (read_fd(sync_fd, &byte, 1) == 0) return report(error_fd, STEP_PARENT_GONE, ESRCH, "read");
  }
  sys3(SYS_close, pid_fd, 0, 0);
  sys3(SYS_close, sync_fd, 0, 0);
  /* The joiner's session has no terminal; one for -t needs a session this process leads. */
  if (terminal) {
    if (result(sys3(SYS_setsid, 0, 0, 0)) < 0) return report(error_fd, STEP_SETSID, error_number, "setsid");
    if (result(sys3(SYS_ioctl, 0, TIOCSCTTY, 0)) < 0) return report(error_fd, STEP_TERMINAL, error_number, "ioctl");
  }
  return RUN_COMMAND;
}

static int helper_main(int argc, char **argv, char **envp) {
  if (argc < 3) return 127;
  const char *at = argv[1];
  int error_fd = parse_fd(&at);
  if (error_fd < 0) return 127;
  if (*at) {
    int pid_fd = parse_fd(&at), sync_fd = pid_fd < 0 ? -1 : parse_fd(&at);
    if (sync_fd < 0) return report(error_fd, STEP_EXEC, EINVAL, "argv");
    int status = fork_command(error_fd, pid_fd, sync_fd, at);
    if (status != RUN_COMMAND) return status;
  }
  /* EOF on the error pipe tells the parent the command runs. */
  if (fcntl(error_fd, F_SETFD, FD_CLOEXEC) < 0) return 127;
  return report(error_fd, STEP_EXEC, nbox_exec_search(argv + 2, envp), "execve");
}

/* The kernel's initial stack: argc, argv[], NULL, envp[], NULL. */
__attribute__((used, noreturn)) void nbox_exec_start(long *stack) {
  int argc = (int)stack[0];
  char **argv = (char **)(stack + 1);
  int code = helper_main(argc, argv, argv + argc + 1);
  for (;;) sys3(SYS_exit_group, code, 0, 0);
}

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n  xor %rbp, %rbp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call nbox_exec_start\n  hlt\n");
#else
__asm__(".text\n.global _start\n_start:\n  mov x29, #0\n  mov x0, sp\n  and sp, x0, #-16\n  bl nbox_exec_start\n");
#endif
