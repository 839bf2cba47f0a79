/* A container's bridge network over rtnetlink: the host's bridge, a network
 * namespace kept on a file, and the veth pair between them, with addresses and
 * the default route. Plain system calls on NETLINK_ROUTE sockets: no `ip`
 * process and no plugin per container (a CNI bridge ADD costs 60-210 ms).
 * Every function returns 0, or -1 with *failed naming the system call and
 * errno set. */
#ifndef NBOX_NETLINK_H
#define NBOX_NETLINK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Makes bridge `name` (if missing) with address/prefix (network byte order) and sets it up. */
int net_bridge_up(const char *name, uint32_t address, int prefix, const char **failed);

/* Deletes link `name`; a missing one is no error. */
int net_link_delete(const char *name, const char **failed);
/* Sets the link down (ENODEV is no error): a bridge port that is down forwards
 * nothing and the bridge forgets the addresses it learned on it, at once,
 * where a delete waits out an RCU barrier (20 ms here). */
int net_link_down(const char *name, const char **failed);

/* Makes a network namespace with its loopback up; returns an fd of it
 * (close-on-exec). The calling thread's own namespace is left as it was. */
int net_netns_new(const char **failed);

/* Makes a network namespace (loopback up) and keeps it on `path`, an existing
 * file, by a bind mount; the calling thread's own namespace is left as it was. */
int net_netns_create(const char *path, const char **failed);

/* Lazily unmounts the namespace kept on `path`; one not mounted is no error. */
int net_netns_release(const char *path, const char **failed);

/* Makes veth pair host_if/ns_if with ns_if in the namespace kept on netns_path
 * and host_if enslaved to `bridge`; gives ns_if mac, address/prefix and a
 * default route via gateway unless it is 0 (addresses in network byte order). */
int net_veth_attach(const char *netns_path, const char *bridge, const char *host_if, const char *ns_if, const uint8_t mac[6],
                    uint32_t address, int prefix, uint32_t gateway, const char **failed);

#ifdef __cplusplus
}
#endif

#endif
