/* neigh.h - ARP (RFC 826) and IPv6 neighbour discovery (RFC 4861) on the
 * manager lcore: answers for the gateway's addresses, learns next hops,
 * sends rate-limited requests for next hops the workers could not resolve
 * (holding the packets that wait for them), and checks that learnt ones
 * are still there. */
#ifndef DP_NEIGH_H
#define DP_NEIGH_H

#include "dp.h"
#include "dpsec_shm.h"

/* The manager's resolution state (dp->neigh): made empty, and freed with
 * the packets it holds. */
int dp_neigh_init(struct dp_ctx *dp);
void dp_neigh_fini(struct dp_ctx *dp);

/* m: ARP (data at the Ethernet header, meta.family NONE) or ICMPv6 ND (data
 * at the IPv6 header, parsed), come at TSC now. Consumes m. */
void dp_neigh_input(struct dp_ctx *dp, struct rte_mbuf *m, uint64_t now);

/* Sends an ARP request or a neighbour solicitation, at most one a second
 * for the same next hop (now: TSC), and holds r->m (up to eight packets a
 * next hop) until it answers; asked once more after three went
 * unanswered, marks the next hop failed (dp_neigh_failed) until it
 * answers. Either way the packets held go back to worker 0 through
 * dp->reroute to be routed again. */
void dp_neigh_resolve(struct dp_ctx *dp, const struct dp_resolve_req *r, uint64_t now);

/* Called a few times a second: next hops that packets wait for are asked
 * again a second apart (and fail after three requests unanswered, their
 * packets handed back to be routed again), and those no packet wanted for
 * 60 s forgotten, failure and all; learnt neighbours silent for
 * dataplane.neighbour_reachable_seconds are asked again by unicast, a
 * second apart, if packets went to them since they were last heard from,
 * and forgotten after three unanswered; those none went to are forgotten
 * unasked after twice that silence (0 seconds: neither). Walks the whole
 * neighbour table. */
void dp_neigh_tick(struct dp_ctx *dp, uint64_t now);

/* Called every manager round: sends the answers for Subnet-Router anycast
 * addresses whose random wait (up to a second, RFC 4861 §7.2.7) is over
 * at now. */
void dp_neigh_answer_due(struct dp_ctx *dp, uint64_t now);

/* Port's link, read just now (up: or unknown to its driver), before each
 * dp_neigh_announce: a change counted and logged; a link that goes down
 * has the neighbours its port learnt forgotten, one that comes up its
 * port's addresses tested and announced again, as at start. */
void dp_neigh_link(struct dp_ctx *dp, uint16_t port, bool up);

/* Called a few times a second from the start: on each network port whose
 * link is up, the first call tests its IPv6 addresses for duplicates (RFC
 * 4862 §5.4) and, with the next ones a second apart, tells the link where
 * the port's addresses are (three gratuitous ARP requests, then three
 * unsolicited neighbour advertisements with the override flag for the
 * IPv6 addresses that passed), so that hosts and switches that knew
 * another MAC for them (a gateway replaced, a standby taking over) follow
 * at once; again when the port's link comes back; later calls do
 * nothing. */
void dp_neigh_announce(struct dp_ctx *dp, uint64_t now);

/* Whether an ARP/ND packet or a request came since the last
 * dp_neigh_publish. */
bool dp_neigh_changed(const struct dp_ctx *dp);

/* Writes the neighbours into dst (the caller holds its sequence lock):
 * the table's, then those being asked for or failed. */
void dp_neigh_publish(struct dp_ctx *dp, struct dpsec_shm_neighs *dst, uint64_t now);

/* Installs the configuration's static neighbours. */
int dp_neigh_static(struct dp_ctx *dp);

#endif
