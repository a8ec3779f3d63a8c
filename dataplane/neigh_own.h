/* neigh_own.h - the gateway's own addresses on its links, for neigh.c
 * (neigh_own.c): which they are, their announcements at start, and
 * another MAC claiming one of them. */
#ifndef DP_NEIGH_OWN_H
#define DP_NEIGH_OWN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "dp.h"

/* What the manager did about its own addresses: rounds of announcements
 * sent, the last one's TSC, and each port's last defence of an address. */
struct dp_neigh_own {
	uint32_t announced;
	uint64_t announce_tsc;
	uint64_t defend_tsc[DP_MAX_PORTS];
};

/* The port's own address a, or NULL: a is not one of them. */
const struct dpsec_prefix *dp_neigh_own_address(const struct dp_ctx *dp, uint16_t port,
						uint8_t family, const uint8_t *a);

/* The flags a router's advertisements carry (RFC 4861 §7.2.4): dpsecd
 * routes between its network ports when it has more than one. */
uint8_t dp_neigh_router_flag(const struct dp_ctx *dp);

/* Sends own's next round of announcements when due (dp_neigh_announce). */
void dp_neigh_own_announce(struct dp_ctx *dp, struct dp_neigh_own *own, uint64_t now);

/* Whether a packet from mac claiming addr (an ARP sender, an ND source or
 * target) on port is a conflict: addr is ours and mac is not. Counted;
 * at most every 10 s a port, logged and the address announced again. */
bool dp_neigh_conflicts(struct dp_ctx *dp, struct dp_neigh_own *own, uint16_t port,
			uint8_t family, const uint8_t *addr, const struct rte_ether_addr *mac,
			uint64_t now);

#endif
