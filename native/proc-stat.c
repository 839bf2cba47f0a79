#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "proc-stat.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t proc_read_text(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = '\0';
  return n;
}

unsigned long long proc_start_time(pid_t pid, int live_only) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (proc_read_text(path, buf, sizeof buf) <= 0) return 0;
  /* The command (field 2) may hold spaces and parentheses: fields count from its last ')'. */
  char *at = strrchr(buf, ')');
  if (!at || at[1] != ' ') return 0;
  at += 2; /* field 3, the state */
  if (live_only && (*at == 'Z' || *at == 'X')) return 0;
  for (int field = 3; field < 22 && at; field++) {
    at = strchr(at, ' ');
    if (at) at++;
  }
  return at ? strtoull(at, NULL, 10) : 0;
}
