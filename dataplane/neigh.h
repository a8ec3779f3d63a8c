/* neigh.h - ARP (RFC 826) and IPv6 neighbour discovery (RFC 4861) on the
 * manager lcore: answers for the gateway's addresses, learns next hops,
 * sends rate-limited requests for next hops the workers could not resolve,
 * and checks that learnt ones are still there. */
#ifndef DP_NEIGH_H
#define DP_NEIGH_H

#include "dp.h"

/* m: ARP (data at the Ethernet header, meta.family NONE) or ICMPv6 ND (data
 * at the IPv6 header, parsed), come at TSC now. Consumes m. */
void dp_neigh_input(struct dp_ctx *dp, struct rte_mbuf *m, uint64_t now);

/* Sends an ARP request or a neighbour solicitation, at most one a second
 * for the same next hop (now: TSC); asked once more after three went
 * unanswered, marks the next hop failed (dp_neigh_failed) until it
 * answers. */
void dp_neigh_resolve(struct dp_ctx *dp, const struct dp_resolve_req *r, uint64_t now);

/* Learnt neighbours silent for dataplane.neighbour_reachable_seconds
 * are asked again by unicast, a second apart; after three unanswered they
 * are forgotten (0 seconds: never). Walks the whole table: call it a few
 * times a second. */
void dp_neigh_age(struct dp_ctx *dp, uint64_t now);

/* Installs the configuration's static neighbours. */
int dp_neigh_static(struct dp_ctx *dp);

#endif
