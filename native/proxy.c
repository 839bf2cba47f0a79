/* nbox-proxy: relays a container's published ports from the host's IPv6
 * sockets to the container's IPv4 address, as Docker's docker-proxy does for a
 * container without IPv6 (nftables cannot translate between the two).
 *
 *   nbox-proxy tcp:ADDRESS:PORT|udp:ADDRESS:PORT...
 *
 * The k-th argument's host socket, bound (and, for TCP, listening) by nbox, is
 * fd 3+k. fd 0 is the read end of a pipe whose write end the holder of the
 * container's ports keeps (its monitor, or a foreground nbox): when the holder
 * is gone, for whatever reason, the pipe reads EOF and the proxy ends.
 *
 * Every byte it handles is a stranger's: the proxy drops to nobody with no
 * capability before it reads one, and bounds what each connection may hold. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define LIFELINE_FD 0
#define FIRST_PORT_FD 3
#define MAX_PORTS 253
#define TCP_BUFFER 16384
#define UDP_BUFFER 65507         /* Docker's UDPBufSize: the largest IPv4 UDP payload */
#define UDP_FLOW_IDLE_S 90       /* Docker's UDPConnTrackTimeout */
#define MAX_UDP_FLOWS 1024       /* per port: the oldest goes to make room */
#define MAX_TCP_CONNECTIONS 4096 /* in all: beyond, a new client is closed at once */
#define SPARE_FDS 64             /* besides the ports': accept's, epoll's, stdio */
#define PER_WAKEUP 64            /* clients taken, or datagrams moved, per wakeup of a level-triggered socket */
#define ACCEPT_PAUSE_MS 100      /* a listener accept fails on for want of memory or files rests this long */
#define NOBODY 65534

enum kind { LIFELINE, TCP_LISTENER, TCP_SIDE, UDP_LISTENER, UDP_FLOW, DEAD };

/* What an epoll event points at: every object starts with its kind. */
struct port {
  enum kind kind;
  int fd;
  struct sockaddr_in target;
  struct flow *flows; /* UDP: a list, newest first */
  size_t nflows;
  long long resting_until; /* TCP: 0, or when a listener accept failed on wakes again */
};

/* One direction of a TCP connection: bytes read from one side, not yet written to the other. */
struct half {
  char buf[TCP_BUFFER];
  size_t len, off;
  int eof;  /* the reading side said EOF */
  int shut; /* ... and the other side's write end is shut since */
};

struct connection;

struct side {
  enum kind kind; /* TCP_SIDE, DEAD once closed */
  struct connection *c;
  int index; /* 0: the client, 1: the container */
};

struct connection {
  int fd[2];
  struct side side[2];
  struct half from[2]; /* from[i]: read from fd[i], written to fd[1 - i] */
  int connected;       /* the container side's connect completed */
  struct connection *next_closed;
};

struct flow {
  enum kind kind; /* UDP_FLOW, DEAD once closed */
  int fd;         /* connected to the container's port */
  struct port *port;
  struct sockaddr_in6 client;
  long long last; /* now_ms() of its last datagram */
  struct flow *next, *next_closed;
};

static int ep;
static size_t tcp_connections;
/* The fds connections and flows may hold: within RLIMIT_NOFILE, so that accept
 * never fails for want of one (a listener it cannot empty would wake epoll
 * without end). */
static size_t fd_budget, fds_used;
static char datagram[UDP_BUFFER];

/* drop_privileges: nobody, no capability, no way back. */
static int drop_privileges(void) {
  gid_t none[1] = {NOBODY};
  if (setgroups(1, none) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0) return -1;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) return -1;
  return 0;
}

/* parse_port reads "tcp:ADDRESS:PORT" (or udp) into port. */
static int parse_port(const char *text, struct port *port) {
  char address[INET_ADDRSTRLEN];
  unsigned value;
  char proto[4];
  int used = 0;
  if (sscanf(text, "%3[a-z]:%15[0-9.]:%5u%n", proto, address, &value, &used) != 3 || text[used] != '\0' || value == 0 || value > 65535) return -1;
  if (strcmp(proto, "tcp") == 0) port->kind = TCP_LISTENER;
  else if (strcmp(proto, "udp") == 0) port->kind = UDP_LISTENER;
  else return -1;
  memset(&port->target, 0, sizeof port->target);
  port->target.sin_family = AF_INET;
  port->target.sin_port = htons((uint16_t)value);
  return inet_pton(AF_INET, address, &port->target.sin_addr) == 1 ? 0 : -1;
}

static int watch(int fd, uint32_t events, void *object) {
  struct epoll_event ev = {.events = events, .data.ptr = object};
  return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* ---- TCP ---- */

/* Objects closed while a batch of events is handled are freed after it: a
 * later event of the same batch may still point at them. */
static struct connection *closed_connections;
static struct flow *closed_flows;

static void connection_close(struct connection *c) {
  for (int i = 0; i < 2; i++) {
    close(c->fd[i]); /* closing drops the epoll registration */
    c->side[i].kind = DEAD;
  }
  fds_used -= 2;
  c->next_closed = closed_connections;
  closed_connections = c;
  tcp_connections--;
}

/* progress moves what it can both ways until nothing moves: sockets are
 * edge-triggered, so whatever is left readable or writable is tried here.
 * Each way ends on its own, as docker-proxy's: a reset on one side still lets
 * what the other side sent before it through (a server's answer to an upload
 * it refused). 1: both ways ended and written through; 0: waiting. */
static int progress(struct connection *c) {
  for (int moved = 1; moved;) {
    moved = 0;
    for (int i = 0; i < 2; i++) {
      struct half *h = &c->from[i];
      /* The container side reads nothing, and is written nothing, before its connect completed. */
      if (h->len == 0 && !h->eof && (i == 0 || c->connected)) {
        ssize_t n = recv(c->fd[i], h->buf, sizeof h->buf, 0);
        if (n < 0 && errno != EAGAIN && errno != EINTR) n = 0; /* a reset ends this way as EOF does */
        if (n == 0) h->eof = 1;
        if (n >= 0) {
          h->len = (size_t)n;
          h->off = 0;
          moved = 1;
        }
      }
      if (i == 0 && !c->connected) continue;
      while (h->off < h->len) {
        ssize_t n = send(c->fd[1 - i], h->buf + h->off, h->len - h->off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        if (n < 0) {
          /* Nothing more can reach the other side: this way is done, and reads from this side stop. */
          h->len = h->off = 0;
          h->eof = h->shut = 1;
          shutdown(c->fd[i], SHUT_RD);
          moved = 1;
          break;
        }
        h->off += (size_t)n;
        moved = 1;
      }
      if (h->off == h->len) h->len = h->off = 0;
      if (h->len == 0 && h->eof && !h->shut) {
        shutdown(c->fd[1 - i], SHUT_WR);
        h->shut = 1;
        moved = 1;
      }
    }
  }
  return c->from[0].shut && c->from[1].shut ? 1 : 0;
}

static void connection_event(struct side *s, uint32_t events) {
  struct connection *c = s->c;
  if (s->index == 1 && !c->connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
      connection_close(c);
      return;
    }
    c->connected = 1;
  }
  if (progress(c) == 1) connection_close(c);
}

/* now_ms is CLOCK_MONOTONIC's time in ms: a step of the wall clock neither expires nor keeps a flow. */
static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A listener's wakeups stop while it rests: level-triggered, one accept cannot empty would wake epoll without end. */
static void rest(struct port *port) {
  struct epoll_event ev = {.events = 0, .data.ptr = port};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, port->fd, &ev) == 0) port->resting_until = now_ms() + ACCEPT_PAUSE_MS;
}

static void tcp_accept(struct port *port) {
  for (int taken = 0; taken < PER_WAKEUP; taken++) {
    int client = accept4(port->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) {
      /* EAGAIN, or a client that left before it was taken; else the host is short of something. */
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) rest(port);
      return;
    }
    struct connection *c = tcp_connections < MAX_TCP_CONNECTIONS && fds_used + 2 <= fd_budget ? calloc(1, sizeof *c) : NULL;
    int container = c ? socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) : -1;
    if (container < 0) {
      free(c);
      close(client);
      continue;
    }
    tcp_connections++;
    fds_used += 2;
    c->fd[0] = client;
    c->fd[1] = container;
    for (int i = 0; i < 2; i++) c->side[i] = (struct side){.kind = TCP_SIDE, .c = c, .index = i};
    int rc = connect(container, (struct sockaddr *)&port->target, sizeof port->target);
    if (rc == 0) c->connected = 1;
    uint32_t events = EPOLLIN | EPOLLOUT | EPOLLET;
    if ((rc < 0 && errno != EINPROGRESS) || watch(client, events, &c->side[0]) < 0 || watch(container, events, &c->side[1]) < 0)
      connection_close(c);
    else if (progress(c) == 1)
      connection_close(c);
  }
}

/* ---- UDP ---- */

static void flow_close(struct flow *f) {
  struct flow **link = &f->port->flows;
  while (*link != f) link = &(*link)->next;
  *link = f->next;
  f->port->nflows--;
  fds_used--;
  close(f->fd);
  f->kind = DEAD;
  f->next_closed = closed_flows;
  closed_flows = f;
}

static void free_closed(void) {
  while (closed_connections) {
    struct connection *c = closed_connections;
    closed_connections = c->next_closed;
    free(c);
  }
  while (closed_flows) {
    struct flow *f = closed_flows;
    closed_flows = f->next_closed;
    free(f);
  }
}

/* flow_of is the client's flow, made if need be; the list is kept most recently used first, so that the
 * one a full list gives up is the one least recently used. */
static struct flow *flow_of(struct port *port, const struct sockaddr_in6 *client) {
  struct flow *oldest = NULL;
  for (struct flow **link = &port->flows; *link; link = &(*link)->next) {
    struct flow *f = *link;
    if (f->client.sin6_port == client->sin6_port && memcmp(&f->client.sin6_addr, &client->sin6_addr, sizeof client->sin6_addr) == 0) {
      *link = f->next;
      f->next = port->flows;
      port->flows = f;
      return f;
    }
    oldest = f;
  }
  if ((port->nflows >= MAX_UDP_FLOWS || fds_used + 1 > fd_budget) && oldest) flow_close(oldest);
  if (fds_used + 1 > fd_budget) return NULL;
  struct flow *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->kind = UDP_FLOW;
  f->port = port;
  f->client = *client;
  f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (f->fd < 0 || connect(f->fd, (struct sockaddr *)&port->target, sizeof port->target) < 0 || watch(f->fd, EPOLLIN, f) < 0) {
    if (f->fd >= 0) close(f->fd);
    free(f);
    return NULL;
  }
  f->next = port->flows;
  port->flows = f;
  port->nflows++;
  fds_used++;
  return f;
}

static void udp_receive(struct port *port) {
  for (int moved = 0; moved < PER_WAKEUP; moved++) {
    struct sockaddr_in6 client;
    socklen_t len = sizeof client;
    ssize_t n = recvfrom(port->fd, datagram, sizeof datagram, 0, (struct sockaddr *)&client, &len);
    if (n < 0) return;
    if (client.sin6_family != AF_INET6) continue;
    struct flow *f = flow_of(port, &client);
    if (!f) continue;
    f->last = now_ms();
    send(f->fd, datagram, (size_t)n, MSG_NOSIGNAL); /* a lost datagram is UDP's lot */
  }
}

static void flow_answer(struct flow *f) {
  for (int moved = 0; moved < PER_WAKEUP; moved++) {
    ssize_t n = recv(f->fd, datagram, sizeof datagram, 0);
    if (n < 0) {
      /* ECONNREFUSED: nothing listens in the container (yet); the flow stays for the next datagram. */
      if (errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED) flow_close(f);
      return;
    }
    f->last = now_ms();
    sendto(f->port->fd, datagram, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&f->client, sizeof f->client);
  }
}

static void expire_flows(struct port *ports, int nports) {
  long long now = now_ms();
  for (int i = 0; i < nports; i++) {
    struct flow *f = ports[i].flows;
    while (f) {
      struct flow *next = f->next;
      if (now - f->last >= UDP_FLOW_IDLE_S * 1000LL) flow_close(f);
      f = next;
    }
  }
}

static void wake_listeners(struct port *ports, int nports) {
  long long now = now_ms();
  for (int i = 0; i < nports; i++) {
    if (ports[i].resting_until == 0 || now < ports[i].resting_until) continue;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &ports[i]};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, ports[i].fd, &ev) == 0) ports[i].resting_until = 0;
  }
}

int main(int argc, char **argv) {
  int nports = argc - 1;
  if (nports < 1 || nports > MAX_PORTS) {
    fprintf(stderr, "usage: nbox-proxy tcp:ADDRESS:PORT|udp:ADDRESS:PORT...\n");
    return 2;
  }
  prctl(PR_SET_NAME, "nbox-proxy", 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);
  static struct port ports[MAX_PORTS];
  static enum kind lifeline = LIFELINE;
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0 || watch(LIFELINE_FD, EPOLLIN, &lifeline) < 0) return 1;
  for (int i = 0; i < nports; i++) {
    if (parse_port(argv[i + 1], &ports[i]) < 0) {
      fprintf(stderr, "nbox-proxy: not a port to relay: %s\n", argv[i + 1]);
      return 2;
    }
    ports[i].fd = FIRST_PORT_FD + i;
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(ports[i].fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != (ports[i].kind == TCP_LISTENER ? SOCK_STREAM : SOCK_DGRAM)) return 2;
    int flags = 1;
    if (ioctl(ports[i].fd, FIONBIO, &flags) < 0 || watch(ports[i].fd, EPOLLIN, &ports[i]) < 0) return 1;
  }
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) < 0) return 1;
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  if (getrlimit(RLIMIT_NOFILE, &files) < 0 || files.rlim_cur < (rlim_t)(FIRST_PORT_FD + nports + SPARE_FDS + 2)) return 1;
  fd_budget = (size_t)files.rlim_cur - FIRST_PORT_FD - (size_t)nports - SPARE_FDS;
  if (drop_privileges() < 0) return 1;

  struct epoll_event events[64];
  for (;;) {
    int resting = 0;
    for (int i = 0; i < nports; i++) resting |= ports[i].resting_until != 0;
    int n = epoll_wait(ep, events, 64, resting ? ACCEPT_PAUSE_MS : 1000);
    if (n < 0 && errno != EINTR) return 1;
    for (int e = 0; e < n; e++) {
      enum kind *kind = events[e].data.ptr;
      switch (*kind) {
        case LIFELINE:
          return 0; /* readable: EOF, the holder is gone */
        case TCP_LISTENER:
          tcp_accept((struct port *)kind);
          break;
        case TCP_SIDE:
          connection_event((struct side *)kind, events[e].events);
          break;
        case UDP_LISTENER:
          udp_receive((struct port *)kind);
          break;
        case UDP_FLOW:
          flow_answer((struct flow *)kind);
          break;
        case DEAD:
          break;
      }
    }
    expire_flows(ports, nports);
    wake_listeners(ports, nports);
    free_closed();
  }
}
