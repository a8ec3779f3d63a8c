/* neigh_own.h - the gateway's own addresses on its links, for neigh.c
 * (neigh_own.c): which they are, the duplicate address detection of the
 * IPv6 ones and the announcements at start and when a link comes back,
 * and another MAC claiming one of them. */
#ifndef DP_NEIGH_OWN_H
#define DP_NEIGH_OWN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "dp.h"

/* What the manager did about one port's own addresses since its link came
 * up (or dpsecd started): the link as last read; rounds of announcements
 * sent, the last one's TSC; when the IPv6 addresses' duplicate address
 * detection began (0: not yet) and which turned out to be another node's
 * (bit i: cfg_port.addrs[i]); the last defence of one. */
struct dp_own_port {
	uint8_t link; /* DPSEC_LINK_UNKNOWN before the first reading, then up or down */
	uint32_t announced;
	uint64_t announce_tsc;
	uint64_t dad_tsc;
	uint8_t duplicate;
	uint64_t defend_tsc;
};

struct dp_neigh_own {
	struct dp_own_port port[DP_MAX_PORTS];
};

/* The port's own address a, or NULL: a is not one of them. */
const struct dpsec_prefix *dp_neigh_own_address(const struct dp_ctx *dp, uint16_t port,
						uint8_t family, const uint8_t *a);

/* The flags a router's advertisements carry (RFC 4861 §7.2.4): dpsecd
 * routes between its network ports when it has more than one. */
uint8_t dp_neigh_router_flag(const struct dp_ctx *dp);

/* Port's link as just read (a few times a second, before
 * dp_neigh_own_announce): a change is counted and logged. A link that
 * comes up (or was down when dpsecd started) starts the port's addresses
 * over, as at start: the IPv6 ones tested for duplicates again (RFC 4862
 * §5.4: the link may now hold another node with one of them), all
 * announced again (RFC 5227 §2.1, RFC 4861 §7.2.6: the link's caches and
 * switches may have lost the gateway meanwhile). Returns whether the link
 * changed (a port down at start counts as going down). */
bool dp_neigh_own_link(struct dp_ctx *dp, struct dp_neigh_own *own, uint16_t port, bool up);

/* Sends each port's next round when due (dp_neigh_announce), on ports
 * whose link is up: the first sends a duplicate address detection
 * solicitation for each IPv6 address (RFC 4862 §5.4.2) and announces the
 * IPv4 ones; IPv6 addresses are announced once their detection passed. */
void dp_neigh_own_announce(struct dp_ctx *dp, struct dp_neigh_own *own, uint64_t now);

/* What a, one of port's addresses, is to the gateway: in use (answered
 * for, announced, sent from: an IPv4 address always, an IPv6 one once its
 * duplicate address detection passed, a second with no other node
 * claiming it), tentative (IPv6, being tested), or another node's (the
 * test failed). */
enum dp_own_state { DP_OWN_IN_USE, DP_OWN_TENTATIVE, DP_OWN_DUPLICATE };

enum dp_own_state dp_neigh_own_state(const struct dp_ctx *dp, const struct dp_neigh_own *own,
				     uint16_t port, const struct dpsec_prefix *a, uint64_t now);

/* A solicitation for a, one of port's addresses, in a frame from eth_src;
 * dad: from the unspecified address (a node testing a for itself).
 * Whether to answer it: only if a is in use. Another node testing a
 * tentative a fails our detection (RFC 4862 §5.4.3). */
bool dp_neigh_own_solicited(struct dp_ctx *dp, struct dp_neigh_own *own, uint16_t port,
			    const struct dpsec_prefix *a, const struct rte_ether_addr *eth_src,
			    bool dad, uint64_t now);

/* Whether a packet from mac claiming addr (an ARP sender, an ND source or
 * target) on port is a conflict: addr is ours and mac is not. Counted;
 * at most every 10 s a port, logged and the address announced again. A
 * claim of a tentative IPv6 address fails its detection instead (RFC
 * 4862 §5.4.4), and one that failed is not defended. */
bool dp_neigh_conflicts(struct dp_ctx *dp, struct dp_neigh_own *own, uint16_t port,
			uint8_t family, const uint8_t *addr, const struct rte_ether_addr *mac,
			uint64_t now);

#endif
