/* What /proc tells of a process: its start time (with the pid, what names
 * one process for good: a pid alone can be reused), and small text files. */
#ifndef NBOX_PROC_STAT_H
#define NBOX_PROC_STAT_H
#include <sys/types.h>

/* Field 22 of /proc/<pid>/stat, or 0 when the process is gone (or, with
 * live_only, a zombie). */
unsigned long long proc_start_time(pid_t pid, int live_only);

/* Reads a small file (a /proc one) into buf, NUL-terminated: its length, or -1. */
ssize_t proc_read_text(const char *path, char *buf, size_t size);

#endif
