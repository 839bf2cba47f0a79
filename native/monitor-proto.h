/* The monitor's start protocol, on the socketpair that is its fd 3 (see
 * monitor.c): HELLO from the monitor, SPEC from nbox, then STARTED or FAILED.
 * Each frame is a mon_hdr and len bytes of payload; both ends run on the
 * same host, so the integers are native. */
#ifndef NBOX_MONITOR_PROTO_H
#define NBOX_MONITOR_PROTO_H

#include <stdint.h>

#define MON_SOCKET_FD 3
#define MON_EXEC_FD 4

enum mon_type { MON_HELLO = 1, MON_SPEC = 2, MON_STARTED = 3, MON_FAILED = 4 };

/* The control socket, containers/<id>/monitor.sock (SOCK_STREAM, the same
 * frames; root peers only). A client sends ATTACH{uint32 flags} first, then
 * STDIN (bytes) and RESIZE (mon_resize) frames; the monitor sends the
 * container's output as STDOUT and STDERR frames (a terminal's is all STDOUT),
 * and once the container has ended and its end is on record (or the
 * container removed) EXIT{int32 code}, and closes the connection.
 *
 * A SPEC whose `attach` flags are not 0 makes the start socket such a client
 * from STARTED on (`start -a`): attached before the init runs, it misses no
 * output, and the monitor waits for it rather than drop output it cannot take.
 * It is for one life of the init: when a restart policy runs the init again,
 * it gets EXIT and is closed, as Docker's CLI waits for the next exit only. */
enum mon_control_type { MON_ATTACH = 16, MON_STDIN = 17, MON_RESIZE = 18, MON_STDOUT = 19, MON_STDERR = 20, MON_EXIT = 21 };
enum mon_attach_flags { MON_ATTACH_STDIN = 1, MON_ATTACH_STDOUT = 2, MON_ATTACH_STDERR = 4 };
#define MON_CONTROL_MAX 4096 /* the biggest frame a client may send */

struct mon_resize {
  uint16_t rows;
  uint16_t cols;
};

/* No SPEC is bigger: argv, env and mounts of any sane container fit. */
#define MON_SPEC_MAX (1u << 20)

/* A SPEC carries the sockets that hold the container's published host ports
 * (SCM_RIGHTS, as many as its `ports` section says): the monitor keeps them
 * until the container ends. At most the kernel's SCM_MAX_FD in one message. */
#define MON_PORTS_MAX 253

struct mon_hdr {
  uint32_t type;
  uint32_t len;
};

/* HELLO names the monitor, STARTED the container's init: a pid and its
 * start time (/proc/<pid>/stat field 22). */
struct mon_process {
  int32_t pid;
  uint32_t pad;
  uint64_t start;
};

/* FAILED is a child_error: step is child_step's number and name, or -1 and a
 * monitor step ("monitor-spec", "monitor-log", ...). */
struct mon_failed {
  int32_t step;
  int32_t err;
  int32_t index;
  char step_name[24];
  char syscall[20];
};

#endif
