/* See netlink.h. Namespaces are per thread: the one switch made here (into a
 * container's namespace, to open a socket there) is undone before returning,
 * and a socket stays in the namespace it was made in. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#define MSG_MAX 1024

struct nl_msg {
  struct nlmsghdr h;
  char room[MSG_MAX];
};

#define FAIL(name)          \
  do {                      \
    *failed = (name);       \
    return -1;              \
  } while (0)

static void msg_init(struct nl_msg *m, int type, int flags, const void *body, size_t len) {
  memset(m, 0, sizeof *m);
  m->h.nlmsg_len = NLMSG_LENGTH(len);
  m->h.nlmsg_type = (unsigned short)type;
  m->h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
  memcpy(NLMSG_DATA(&m->h), body, len);
}

static struct rtattr *attr_put(struct nl_msg *m, int type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)m + NLMSG_ALIGN(m->h.nlmsg_len));
  a->rta_type = (unsigned short)type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

static void attr_end(struct nl_msg *m, struct rtattr *nest) {
  nest->rta_len = (unsigned short)((char *)m + m->h.nlmsg_len - (char *)nest);
}

static int route_socket(void) { return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE); }

/* Sends m and reads the kernel's answer: 0, or -1 with errno. A reply with
 * data (RTM_GETLINK) leaves its ifindex in *index. */
static int talk(int fd, struct nl_msg *m, int *index) {
  if (send(fd, m, m->h.nlmsg_len, 0) < 0) return -1;
  char buf[8192];
  for (;;) {
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got < 0) return -1;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)got); h = NLMSG_NEXT(h, got)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        if (err == 0) return 0;
        errno = -err;
        return -1;
      }
      if (h->nlmsg_type == RTM_NEWLINK && index) *index = ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
    }
  }
}

static int link_index(int fd, const char *name) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct nl_msg m;
  msg_init(&m, RTM_GETLINK, 0, &ifi, sizeof ifi);
  attr_put(&m, IFLA_IFNAME, name, strlen(name) + 1);
  int index = 0;
  if (talk(fd, &m, &index) < 0) return -1;
  return index;
}

static int link_up(int fd, int index) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  struct nl_msg m;
  msg_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  return talk(fd, &m, NULL);
}

static int address_add(int fd, int index, uint32_t address, int prefix) {
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix, .ifa_index = (unsigned)index};
  struct nl_msg m;
  msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
  attr_put(&m, IFA_LOCAL, &address, 4);
  attr_put(&m, IFA_ADDRESS, &address, 4);
  if (talk(fd, &m, NULL) < 0 && errno != EEXIST) return -1;
  return 0;
}

static int close_keeping_errno(int fd, int rc) {
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

int net_bridge_up(const char *name, uint32_t address, int prefix, const char **failed) {
  int fd = route_socket();
  if (fd < 0) FAIL("socket");
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct nl_msg m;
  msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  attr_put(&m, IFLA_IFNAME, name, strlen(name) + 1);
  struct rtattr *info = attr_put(&m, IFLA_LINKINFO, NULL, 0);
  attr_put(&m, IFLA_INFO_KIND, "bridge", 6);
  attr_end(&m, info);
  int index;
  if (talk(fd, &m, NULL) < 0 && errno != EEXIST) {
    *failed = "RTM_NEWLINK";
  } else if ((index = link_index(fd, name)) < 0) {
    *failed = "RTM_GETLINK";
  } else if (address_add(fd, index, address, prefix) < 0) {
    *failed = "RTM_NEWADDR";
  } else if (link_up(fd, index) < 0) {
    *failed = "RTM_NEWLINK";
  } else {
    return close_keeping_errno(fd, 0);
  }
  return close_keeping_errno(fd, -1);
}

/* One request about the link called name (ENODEV, no such link, is no error). */
static int link_request(const char *name, int type, unsigned change, const char *step, const char **failed) {
  int fd = route_socket();
  if (fd < 0) FAIL("socket");
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_change = change};
  struct nl_msg m;
  msg_init(&m, type, 0, &ifi, sizeof ifi);
  attr_put(&m, IFLA_IFNAME, name, strlen(name) + 1);
  if (talk(fd, &m, NULL) < 0 && errno != ENODEV) {
    *failed = step;
    return close_keeping_errno(fd, -1);
  }
  return close_keeping_errno(fd, 0);
}

int net_link_delete(const char *name, const char **failed) { return link_request(name, RTM_DELLINK, 0, "RTM_DELLINK", failed); }

int net_link_down(const char *name, const char **failed) { return link_request(name, RTM_NEWLINK, IFF_UP, "RTM_NEWLINK", failed); }

/* Runs in the namespace on ns_fd only long enough to open a route socket there. */
static int socket_in(int ns_fd, const char **failed) {
  int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (own < 0) FAIL("open");
  if (setns(ns_fd, CLONE_NEWNET) < 0) {
    *failed = "setns";
    return close_keeping_errno(own, -1);
  }
  int fd = route_socket();
  int saved = errno;
  /* Back home; a thread left in a container's namespace would be far worse than any error. */
  if (setns(own, CLONE_NEWNET) < 0) abort();
  close(own);
  if (fd < 0) {
    errno = saved;
    FAIL("socket");
  }
  return fd;
}

int net_netns_new(const char **failed) {
  int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (own < 0) FAIL("open");
  if (unshare(CLONE_NEWNET) < 0) {
    *failed = "unshare";
    return close_keeping_errno(own, -1);
  }
  int made = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = made < 0 ? -1 : route_socket();
  int rc = 0;
  if (made < 0) {
    *failed = "open";
    rc = -1;
  } else if (fd < 0) {
    *failed = "socket";
    rc = -1;
  } else if (link_up(fd, 1) < 0) { /* lo is always index 1 */
    *failed = "RTM_NEWLINK";
    rc = -1;
  }
  int saved = errno;
  if (setns(own, CLONE_NEWNET) < 0) abort();
  close(own);
  if (fd >= 0) close(fd);
  if (rc < 0 && made >= 0) close(made);
  errno = saved;
  return rc < 0 ? -1 : made;
}

int net_netns_create(const char *path, const char **failed) {
  int made = net_netns_new(failed);
  if (made < 0) return -1;
  char source[32];
  snprintf(source, sizeof source, "/proc/self/fd/%d", made);
  int rc = mount(source, path, NULL, MS_BIND, NULL);
  if (rc < 0) *failed = "mount";
  return close_keeping_errno(made, rc);
}

int net_netns_release(const char *path, const char **failed) {
  if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT) FAIL("umount2");
  return 0;
}

static int veth_create(int host_fd, int ns_fd, const char *host_if, const char *ns_if, int bridge_index, const uint8_t mac[6]) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct nl_msg m;
  msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  attr_put(&m, IFLA_IFNAME, host_if, strlen(host_if) + 1);
  attr_put(&m, IFLA_MASTER, &bridge_index, sizeof bridge_index);
  struct rtattr *info = attr_put(&m, IFLA_LINKINFO, NULL, 0);
  attr_put(&m, IFLA_INFO_KIND, "veth", 4);
  struct rtattr *data = attr_put(&m, IFLA_INFO_DATA, NULL, 0);
  struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
  struct rtattr *peer = attr_put(&m, VETH_INFO_PEER, &peer_ifi, sizeof peer_ifi);
  attr_put(&m, IFLA_IFNAME, ns_if, strlen(ns_if) + 1);
  attr_put(&m, IFLA_ADDRESS, mac, 6);
  attr_put(&m, IFLA_NET_NS_FD, &ns_fd, sizeof ns_fd);
  attr_end(&m, peer);
  attr_end(&m, data);
  attr_end(&m, info);
  return talk(host_fd, &m, NULL);
}

static int default_route(int fd, int index, uint32_t gateway) {
  struct rtmsg rt = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
                     .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
  struct nl_msg m;
  msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof rt);
  attr_put(&m, RTA_GATEWAY, &gateway, 4);
  attr_put(&m, RTA_OIF, &index, sizeof index);
  return talk(fd, &m, NULL);
}

int net_veth_attach(const char *netns_path, const char *bridge, const char *host_if, const char *ns_if, const uint8_t mac[6],
                    uint32_t address, int prefix, uint32_t gateway, const char **failed) {
  int ns_fd = open(netns_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (ns_fd < 0) FAIL("open");
  int host_fd = route_socket();
  if (host_fd < 0) {
    *failed = "socket";
    return close_keeping_errno(ns_fd, -1);
  }
  int ns_sock = -1, bridge_index, host_index, eth0;
  int rc = -1;
  if ((bridge_index = link_index(host_fd, bridge)) < 0) {
    *failed = "RTM_GETLINK";
  } else if (veth_create(host_fd, ns_fd, host_if, ns_if, bridge_index, mac) < 0) {
    *failed = "RTM_NEWLINK";
  } else if ((host_index = link_index(host_fd, host_if)) < 0 || link_up(host_fd, host_index) < 0) {
    *failed = "RTM_NEWLINK";
  } else if ((ns_sock = socket_in(ns_fd, failed)) < 0) {
    /* failed is set */
  } else if ((eth0 = link_index(ns_sock, ns_if)) < 0) {
    *failed = "RTM_GETLINK";
  } else if (address_add(ns_sock, eth0, address, prefix) < 0) {
    *failed = "RTM_NEWADDR";
  } else if (link_up(ns_sock, eth0) < 0) {
    *failed = "RTM_NEWLINK";
  } else if (gateway != 0 && default_route(ns_sock, eth0, gateway) < 0) {
    /* A second network's link (network connect) adds no default route: gateway 0. */
    *failed = "RTM_NEWROUTE";
  } else {
    rc = 0;
  }
  int saved = errno;
  if (ns_sock >= 0) close(ns_sock);
  close(host_fd);
  close(ns_fd);
  errno = saved;
  return rc;
}
