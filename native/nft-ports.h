/* The published IPv4 ports of a bridge network's nftables table, changed over
 * NETLINK_NETFILTER as elements of the table's two DNAT maps (nft.ts's
 * tableScript makes them): a container's ports come and go in a fraction of a
 * millisecond, where an `nft` process per change costs 15-35 ms here. */
#ifndef NBOX_NFT_PORTS_H
#define NBOX_NFT_PORTS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One published port: traffic to host_ip:host_port (host_ip 0: any local
 * address) goes to address:container_port. Addresses in network byte order,
 * ports in host order; protocol is IPPROTO_TCP or IPPROTO_UDP. */
struct nft_port {
  uint32_t host_ip;
  uint32_t address;
  uint16_t host_port;
  uint16_t container_port;
  uint8_t protocol;
};

/* The maps' names: keyed `meta l4proto . th dport`, and `ip daddr . meta l4proto . th dport`. */
#define NFT_PORTS_ANY_MAP "dnat_any"
#define NFT_PORTS_ADDRESS_MAP "dnat_address"

/* Adds (add != 0) or deletes the ports' elements in table `table` (family ip).
 * Each batch of elements is one transaction; a delete of an element that is
 * not there fails with ENOENT. Returns 0, or -1 with *failed naming the step
 * and errno set. */
int nft_ports_change(const char *table, int add, const struct nft_port *ports, int count, const char **failed);

#ifdef __cplusplus
}
#endif

#endif
