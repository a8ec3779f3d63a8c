/* neigh.h - ARP (RFC 826) and IPv6 neighbour discovery (RFC 4861) on the
 * manager lcore: answers for the gateway's addresses, learns next hops, and
 * sends rate-limited requests for next hops the workers could not resolve. */
#ifndef DP_NEIGH_H
#define DP_NEIGH_H

#include "dp.h"

/* m: ARP (data at the Ethernet header, meta.family NONE) or ICMPv6 ND (data
 * at the IPv6 header, parsed). Consumes m. */
void dp_neigh_input(struct dp_ctx *dp, struct rte_mbuf *m);

/* Sends an ARP request or a neighbour solicitation, at most one a second
 * for the same next hop (now: TSC); asked once more after three went
 * unanswered, marks the next hop failed (dp_neigh_failed) until it
 * answers. */
void dp_neigh_resolve(struct dp_ctx *dp, const struct dp_resolve_req *r, uint64_t now);

/* Installs the configuration's static neighbours. */
int dp_neigh_static(struct dp_ctx *dp);

#endif
