/* A process's start time, as /proc/<pid>/stat gives it: with the pid, what
 * names one process for good (a pid alone can be reused). */
#ifndef NBOX_PROC_STAT_H
#define NBOX_PROC_STAT_H
#include <sys/types.h>

/* Field 22 of /proc/<pid>/stat, or 0 when the process is gone (or, with
 * live_only, a zombie). */
unsigned long long proc_start_time(pid_t pid, int live_only);

#endif
