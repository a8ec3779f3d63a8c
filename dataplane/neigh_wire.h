/* neigh_wire.h - ARP and IPv6 neighbour discovery frames (neigh_wire.c):
 * checks of received ones and building of the manager's requests and
 * answers. */
#ifndef DP_NEIGH_WIRE_H
#define DP_NEIGH_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#define ND_NS 135
#define ND_NA 136
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define ND_NA_ROUTER 0x80
#define ND_NA_SOLICITED 0x40
#define ND_NA_OVERRIDE 0x20
#define ND_MIN_LEN 24 /* type, code, checksum, flags or reserved, target */

extern const struct rte_ether_addr dp_eth_broadcast;
extern const uint8_t dp_ipv6_all_nodes[16];          /* ff02::1 */
extern const struct rte_ether_addr dp_ipv6_all_nodes_mac; /* 33:33:00:00:00:01 */

/* arp (in m, behind its Ethernet header) is a whole Ethernet/IPv4 ARP
 * request or reply. */
bool dp_arp_valid(const struct rte_mbuf *m, const struct rte_arp_hdr *arp);

/* Turns the ARP request m for one of our addresses into our reply from
 * our_mac, in place. */
void dp_arp_make_reply(struct rte_mbuf *m, const struct rte_ether_addr *our_mac);

/* An ARP request for tip from sip (our_mac), to eth_dst (broadcast, or
 * the MAC held for tip); NULL when pool is empty. */
struct rte_mbuf *dp_arp_request(struct rte_mempool *pool, const struct rte_ether_addr *our_mac,
				const uint8_t *sip, const uint8_t *tip,
				const struct rte_ether_addr *eth_dst);

bool dp_ipv6_unspecified(const uint8_t a[16]);

/* target's solicited-node multicast group (RFC 4291 §2.7.1) into dst. */
void dp_nd_solicited_node(uint8_t dst[16], const uint8_t target[16]);

/* The ICMPv6 solicitation or advertisement at icmp, up to end, under ip
 * (parsed), passes RFC 4861 §7.1.1 / §7.1.2's checks: hop limit 255, code
 * 0, checksum, length, a unicast target, options whole and of non-zero
 * length; from the unspecified address only to the target's
 * solicited-node group and without a source link-layer option; a
 * solicited advertisement never to a group. */
bool dp_nd_valid(const struct rte_ipv6_hdr *ip, const uint8_t *icmp, const uint8_t *end);

/* The link-layer address of the first option of type in [opt, end),
 * options dp_nd_valid passed; NULL if none. */
const struct rte_ether_addr *dp_nd_lladdr(const uint8_t *opt, const uint8_t *end, uint8_t type);

/* A solicitation (ND_NS, with our_mac as its source link-layer option
 * unless src is the unspecified address) or an advertisement (ND_NA with
 * flags, our_mac as its target link-layer option) about target, from src
 * to dst at eth_dst; NULL when pool is empty. */
struct rte_mbuf *dp_nd_build(struct rte_mempool *pool, const struct rte_ether_addr *our_mac,
			     const uint8_t *src, const uint8_t *dst,
			     const struct rte_ether_addr *eth_dst, uint8_t type, uint8_t flags,
			     const uint8_t *target);

/* A solicitation for target from src to target's solicited-node group
 * (address resolution; duplicate address detection with src ::). */
struct rte_mbuf *dp_nd_solicit_group(struct rte_mempool *pool, const struct rte_ether_addr *our_mac,
				     const uint8_t *src, const uint8_t *target);

#endif
