/* See nft-ports.h. A batch is what `nft -f` sends: BATCH_BEGIN, one
 * NEWSETELEM or DELSETELEM per map, BATCH_END; the kernel acknowledges each
 * element message, with 0 or its error, once the transaction is over. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "nft-ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* Elements per transaction: a batch stays well under a netlink socket's send buffer (212992 bytes by default). */
#define BATCH_ELEMENTS 1024
/* Room for one element: its list entry, key and data attributes (under 64 bytes), and a message's headers. */
#define ELEMENT_ROOM 64
#define MESSAGE_ROOM 128

struct batch {
  char *buf;
  size_t len;
  int acked; /* messages the kernel answers */
};

static struct nlmsghdr *message(struct batch *b, uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id) {
  struct nlmsghdr *h = (struct nlmsghdr *)(b->buf + b->len);
  memset(h, 0, NLMSG_LENGTH(sizeof(struct nfgenmsg)));
  h->nlmsg_len = NLMSG_LENGTH(sizeof(struct nfgenmsg));
  h->nlmsg_type = type;
  h->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
  h->nlmsg_seq = (uint32_t)b->len;
  struct nfgenmsg *g = (struct nfgenmsg *)NLMSG_DATA(h);
  g->nfgen_family = family;
  g->version = NFNETLINK_V0;
  g->res_id = htons(res_id);
  if (flags & NLM_F_ACK) b->acked++;
  return h;
}

static struct nlattr *attr(struct nlmsghdr *h, uint16_t type, const void *data, size_t len) {
  struct nlattr *a = (struct nlattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
  a->nla_type = type;
  a->nla_len = (uint16_t)(NLA_HDRLEN + len);
  if (len) memcpy((char *)a + NLA_HDRLEN, data, len);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + NLA_ALIGN(a->nla_len);
  return a;
}

static void nest_end(struct nlmsghdr *h, struct nlattr *a) { a->nla_len = (uint16_t)((char *)h + h->nlmsg_len - (char *)a); }

static void message_end(struct batch *b, struct nlmsghdr *h) { b->len += NLMSG_ALIGN(h->nlmsg_len); }

/* value puts one NFTA_DATA_VALUE nest of `type`: a concatenation's fields each take a 4-byte register. */
static void value(struct nlmsghdr *h, uint16_t type, const uint8_t *bytes, size_t len) {
  struct nlattr *nest = attr(h, type | NLA_F_NESTED, NULL, 0);
  attr(h, NFTA_DATA_VALUE, bytes, len);
  nest_end(h, nest);
}

/* put_field writes a field of a concatenation at *at, padded to its register. */
static void put_field(uint8_t *out, size_t *at, const void *field, size_t len) {
  memset(out + *at, 0, 4);
  memcpy(out + *at, field, len);
  *at += 4;
}

/* elements adds one NEWSETELEM/DELSETELEM message for the ports of [from, to) that go in map (those with a host
 * address, or those without); none, no message. */
static void elements(struct batch *b, const char *table, const char *map, int add, const struct nft_port *ports, int from, int to) {
  int addressed = strcmp(map, NFT_PORTS_ADDRESS_MAP) == 0;
  struct nlmsghdr *h = NULL;
  struct nlattr *list = NULL;
  for (int i = from; i < to; i++) {
    const struct nft_port *p = &ports[i];
    if ((p->host_ip != 0) != addressed) continue;
    if (!h) {
      h = message(b, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | (add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM)),
                  (uint16_t)(NLM_F_ACK | (add ? NLM_F_CREATE : 0)), NFPROTO_IPV4, 0);
      attr(h, NFTA_SET_ELEM_LIST_TABLE, table, strlen(table) + 1);
      attr(h, NFTA_SET_ELEM_LIST_SET, map, strlen(map) + 1);
      list = attr(h, NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED, NULL, 0);
    }
    struct nlattr *element = attr(h, NFTA_LIST_ELEM | NLA_F_NESTED, NULL, 0);
    uint8_t key[12];
    size_t key_len = 0;
    uint16_t host_port = htons(p->host_port);
    if (addressed) put_field(key, &key_len, &p->host_ip, 4);
    put_field(key, &key_len, &p->protocol, 1);
    put_field(key, &key_len, &host_port, 2);
    value(h, NFTA_SET_ELEM_KEY, key, key_len);
    if (add) {
      uint8_t data[8];
      size_t data_len = 0;
      uint16_t container_port = htons(p->container_port);
      put_field(data, &data_len, &p->address, 4);
      put_field(data, &data_len, &container_port, 2);
      value(h, NFTA_SET_ELEM_DATA, data, data_len);
    }
    nest_end(h, element);
  }
  if (!h) return;
  nest_end(h, list);
  message_end(b, h);
}

/* transact sends the batch and reads an answer for each acknowledged message: 0, or -1 at the first error. A batch
 * the kernel refuses whole (no CAP_NET_ADMIN) gets one error, for its BATCH_BEGIN, and no answer per message: the
 * first error ends the wait (the socket, and what else is queued on it, is closed after: nft_ports_change). */
static int transact(int fd, struct batch *b, const char **failed) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, b->buf, b->len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    *failed = "sendto";
    return -1;
  }
  char answer[8192];
  for (int answered = 0; answered < b->acked;) {
    ssize_t got = recv(fd, answer, sizeof answer, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      *failed = "recv";
      return -1;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)answer; NLMSG_OK(h, (unsigned)got); h = NLMSG_NEXT(h, got)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      answered++;
      int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (err) {
        *failed = "NFT_MSG_SETELEM";
        errno = -err;
        return -1;
      }
    }
  }
  return 0;
}

/* The socket is kept between calls: closing a NETLINK_NETFILTER socket flushes nf_tables' deferred
 * destruction of what a transaction deleted, which waits out an RCU grace period (8-30 ms here, as
 * long again as the rest of an `rm -f`). One call at a time uses it; a failed call closes it, and
 * with it whatever else is queued on it. */
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static int kept_fd = -1;

static int kept_socket(const char **failed) {
  if (kept_fd >= 0) return kept_fd;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) {
    *failed = "socket";
    return -1;
  }
  /* Errors come back without a copy of the request; a kernel that never answers fails the call, not this process. */
  struct timeval patience = {.tv_sec = 5};
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  return kept_fd = fd;
}

int nft_ports_change(const char *table, int add, const struct nft_port *ports, int count, const char **failed) {
  if (count <= 0) return 0;
  int per_batch = count < BATCH_ELEMENTS ? count : BATCH_ELEMENTS;
  struct batch b = {.buf = malloc((size_t)per_batch * ELEMENT_ROOM + 4 * MESSAGE_ROOM)};
  if (!b.buf) {
    *failed = "malloc";
    return -1;
  }
  pthread_mutex_lock(&kept_lock);
  int fd = kept_socket(failed);
  int rc = fd < 0 ? -1 : 0;
  for (int from = 0; rc == 0 && from < count; from += per_batch) {
    int to = from + per_batch < count ? from + per_batch : count;
    b.len = 0;
    b.acked = 0;
    message_end(&b, message(&b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
    elements(&b, table, NFT_PORTS_ANY_MAP, add, ports, from, to);
    elements(&b, table, NFT_PORTS_ADDRESS_MAP, add, ports, from, to);
    message_end(&b, message(&b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
    rc = transact(fd, &b, failed);
  }
  int saved = errno;
  if (rc < 0 && kept_fd >= 0) {
    close(kept_fd);
    kept_fd = -1;
  }
  pthread_mutex_unlock(&kept_lock);
  free(b.buf);
  errno = saved;
  return rc;
}
