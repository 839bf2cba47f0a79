/* See wire.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t put = send(fd, data, len, MSG_NOSIGNAL);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) return -1;
    data += put;
    len -= (size_t)put;
  }
  return 0;
}

static ssize_t read_full(int fd, char *data, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, data + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += (size_t)n;
  }
  return (ssize_t)got;
}

int wire_send(int fd, uint32_t type, const void *payload, uint32_t len) {
  /* One buffer, so that a small frame goes out in one send and arrives whole. */
  char small[512];
  struct mon_hdr hdr = {type, len};
  if (sizeof hdr + len <= sizeof small) {
    memcpy(small, &hdr, sizeof hdr);
    memcpy(small + sizeof hdr, payload, len);
    return write_all(fd, small, sizeof hdr + len);
  }
  if (write_all(fd, (const char *)&hdr, sizeof hdr) < 0) return -1;
  return write_all(fd, (const char *)payload, len);
}

/* The frame after its header's first bytes (got of them read). */
static int recv_rest(int fd, struct mon_hdr *hdr, ssize_t got, void *buf, size_t cap) {
  if (got > 0 && (size_t)got < sizeof *hdr) {
    ssize_t more = read_full(fd, (char *)hdr + got, sizeof *hdr - (size_t)got);
    if (more < 0) return -1;
    got += more;
  }
  if (got < 0) return -1;
  if (got == 0) return 0;
  if ((size_t)got != sizeof *hdr || hdr->len > cap) return errno = EPROTO, -1;
  got = read_full(fd, (char *)buf, hdr->len);
  if (got < 0) return -1;
  if ((size_t)got != hdr->len) return errno = EPROTO, -1;
  return 1;
}

int wire_recv(int fd, struct mon_hdr *hdr, void *buf, size_t cap) {
  return recv_rest(fd, hdr, read_full(fd, (char *)hdr, sizeof *hdr), buf, cap);
}

/* A control buffer for MON_PORTS_MAX fds, aligned for cmsghdr. */
union fd_control {
  char buf[CMSG_SPACE(sizeof(int) * MON_PORTS_MAX)];
  struct cmsghdr align;
};

int wire_send_fds(int fd, uint32_t type, const void *payload, uint32_t len, const int *fds, size_t nfds) {
  if (nfds == 0) return wire_send(fd, type, payload, len);
  if (nfds > MON_PORTS_MAX) return errno = E2BIG, -1;
  struct mon_hdr hdr = {type, len};
  union fd_control control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {.iov_base = &hdr, .iov_len = sizeof hdr};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = CMSG_SPACE(sizeof(int) * nfds)};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  ssize_t put;
  do put = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (put < 0 && errno == EINTR);
  if (put < 0) return -1;
  if (write_all(fd, (const char *)&hdr + put, sizeof hdr - (size_t)put) < 0) return -1;
  return write_all(fd, (const char *)payload, len);
}

int wire_recv_fds(int fd, struct mon_hdr *hdr, void *buf, size_t cap, int *fds, size_t max, size_t *nfds) {
  *nfds = 0;
  union fd_control control;
  struct iovec iov = {.iov_base = hdr, .iov_len = sizeof *hdr};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  ssize_t got;
  do got = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  while (got < 0 && errno == EINTR);
  if (got < 0) return -1;
  int bad = (msg.msg_flags & MSG_CTRUNC) != 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int received;
      memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof received);
      if (*nfds < max) fds[(*nfds)++] = received;
      else {
        close(received);
        bad = 1;
      }
    }
  }
  int rc = bad ? (errno = EPROTO, -1) : recv_rest(fd, hdr, got, buf, cap);
  if (rc <= 0) {
    int err = errno;
    while (*nfds > 0) close(fds[--*nfds]);
    errno = err;
  }
  return rc;
}

static void put(struct wire_buf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    char *grown = (char *)realloc(b->data, cap);
    if (!grown) {
      b->failed = 1;
      return;
    }
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
}

void wire_section(struct wire_buf *b, const char *name, const char *const *strings, size_t count) {
  char digits[24];
  put(b, name, strlen(name) + 1);
  put(b, digits, (size_t)snprintf(digits, sizeof digits, "%zu", count) + 1);
  for (size_t i = 0; i < count; i++) put(b, strings[i], strlen(strings[i]) + 1);
}

void wire_buf_free(struct wire_buf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

/* The next NUL-terminated string at *at, or NULL past the end. */
static const char *next_string(const char **at, const char *end) {
  const char *s = *at;
  if (s >= end) return NULL;
  const char *nul = (const char *)memchr(s, '\0', (size_t)(end - s));
  if (!nul) return NULL;
  *at = nul + 1;
  return s;
}

int wire_decode(const char *data, size_t len, struct wire_section *out, size_t max) {
  const char *at = data, *end = data + len;
  int n = 0;
  while (at < end) {
    const char *name = next_string(&at, end);
    const char *count_text = next_string(&at, end);
    if (!name || !count_text || (size_t)n >= max) goto bad;
    char *digits_end;
    errno = 0;
    unsigned long long count = strtoull(count_text, &digits_end, 10);
    if (errno || *digits_end || digits_end == count_text || count > len) goto bad;
    const char **strings = (const char **)calloc((size_t)count + 1, sizeof *strings);
    if (!strings) return -1;
    out[n] = (struct wire_section){name, (size_t)count, strings};
    n++;
    for (size_t i = 0; i < count; i++)
      if (!(strings[i] = next_string(&at, end))) goto bad;
  }
  return n;
bad:
  for (int i = 0; i < n; i++) free(out[i].strings);
  return errno = EPROTO, -1;
}
