/* Frames and the SPEC encoding of monitor-proto.h, shared by the addon (which
 * encodes) and the monitor (which decodes). A SPEC payload is a run of
 * sections `name\0count\0` each followed by count NUL-terminated strings. */
#ifndef NBOX_WIRE_H
#define NBOX_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "monitor-proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sends one frame with a single send(MSG_NOSIGNAL) loop; 0, or -1 with errno. */
int wire_send(int fd, uint32_t type, const void *payload, uint32_t len);

/* Reads one frame into buf (cap bytes). 1: a frame; 0: EOF before any byte;
 * -1 with errno (EPROTO for a frame bigger than cap or cut short). */
int wire_recv(int fd, struct mon_hdr *hdr, void *buf, size_t cap);

/* wire_send with nfds fds (at most MON_PORTS_MAX) passed along (SCM_RIGHTS on
 * the header's bytes); the sender's copies stay open. */
int wire_send_fds(int fd, uint32_t type, const void *payload, uint32_t len, const int *fds, size_t nfds);

/* wire_recv that also takes the fds sent with the frame, close-on-exec, into
 * fds (up to max; *nfds says how many). More than max, or a truncated
 * control message: -1 with EPROTO and none kept. */
int wire_recv_fds(int fd, struct mon_hdr *hdr, void *buf, size_t cap, int *fds, size_t max, size_t *nfds);

/* A growing SPEC payload; failed is set once an allocation failed. */
struct wire_buf {
  char *data;
  size_t len, cap;
  int failed;
};

void wire_section(struct wire_buf *b, const char *name, const char *const *strings, size_t count);
void wire_buf_free(struct wire_buf *b);

/* One decoded section: its strings point into the payload. */
struct wire_section {
  const char *name;
  size_t count;
  const char **strings; /* count entries and a NULL, malloc'd */
};

/* Decodes a payload (which must end in a NUL) into at most max sections;
 * the number of sections, or -1 with errno EPROTO for a malformed one. */
int wire_decode(const char *data, size_t len, struct wire_section *out, size_t max);

#ifdef __cplusplus
}
#endif

#endif
