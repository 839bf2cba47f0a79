/* nbox-exec: the container's last exec goes through this static helper, run
 * from a sealed memfd (runc's CVE-2019-5736 fix). Until it execs the
 * container's command, /proc/self/exe is this sealed copy, never the host's
 * node binary, so a container that runs /proc/self/exe gets only this.
 *
 *   argv: nbox-exec ERROR_FD COMMAND [ARG...]
 *
 * A failed exec is reported on ERROR_FD as the child reports its own steps.
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
#include <stdarg.h>
#include <stddef.h>
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

static int helper_main(int argc, char **argv, char **envp) {
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
