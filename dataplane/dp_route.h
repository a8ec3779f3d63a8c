/* dp_route.h - routes and neighbours: LPM tables for IPv4 and IPv6 giving a
 * next hop (port, gateway or on-link), and the neighbour table (IP -> MAC)
 * that only the manager lcore writes and workers read without locks. */
#ifndef DP_ROUTE_H
#define DP_ROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_seqlock.h>

#include "cfg.h"

#define DP_MAX_NEXTHOPS 1024
#define DP_MAX_NEIGHBOURS 4096

struct dp_nexthop {
	uint16_t port;  /* index in dp_ctx.ports */
	bool onlink;    /* the destination itself is the neighbour */
	uint8_t family;
	uint8_t gw[16];
	/* on-link IPv4 prefixes of /30 or shorter: the host bits of their
	 * prefix (network order), all ones in the subnet's broadcast address;
	 * 0 otherwise */
	uint32_t host_bits;
};

/* 32 bytes, so that rte_hash compares keys with its vector routine, not memcmp. */
struct dp_neigh_key {
	uint16_t port;
	uint8_t family;
	uint8_t pad;
	uint8_t addr[16];
	uint8_t pad2[12];
};

/* Next hops that did not answer the manager's requests (neigh.c), so
 * that workers tell the sources of packets for them (host unreachable):
 * direct-mapped by hash, each slot behind a seqlock only the manager
 * writes. */
#define DP_NEIGH_FAILED_SLOTS 256

struct dp_neigh_failed {
	rte_seqlock_t lock;
	bool failed;
	struct dp_neigh_key key;
};

struct dp_routes {
	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6;
	uint32_t n_nh;
	struct dp_nexthop nh[DP_MAX_NEXTHOPS];
	struct rte_hash *neigh;
	/* by position in neigh: a packet was sent to that neighbour since the
	 * manager last cleared the mark (dp_neigh_use, dp_neigh_used) */
	uint8_t *neigh_used;
	struct dp_neigh_failed *failed; /* DP_NEIGH_FAILED_SLOTS */
};

int dp_routes_init(struct dp_routes *r, const char *prefix, int socket_id);
void dp_routes_fini(struct dp_routes *r);

/* Adds dst -> (port, via); via NULL or family NONE: on-link. */
int dp_route_add(struct dp_routes *r, const struct dpsec_prefix *dst, uint16_t port,
		 const struct dpsec_addr *via);

/* Looks the next hop up; returns NULL when there is no route. */
const struct dp_nexthop *dp_route_lookup(const struct dp_routes *r, uint8_t family,
					 const uint8_t *dst);

/* Whether dst, whose route gave nh, is the broadcast address of a
 * connected subnet: such a next hop is on-link with host_bits set, and
 * so only IPv4. */
static inline bool dp_nexthop_broadcast(const struct dp_nexthop *nh, const uint8_t *dst)
{
	uint32_t a;

	if (nh->host_bits == 0)
		return false;
	memcpy(&a, dst, sizeof(a));
	return (a & nh->host_bits) == nh->host_bits;
}

/* The neighbour to send to for dst through nh. */
static inline const uint8_t *dp_nexthop_addr(const struct dp_nexthop *nh, const uint8_t *dst)
{
	return nh->onlink ? dst : nh->gw;
}

/* Neighbour MAC of addr on port; false when unresolved. Lock-free reader. */
bool dp_neigh_lookup(const struct dp_routes *r, uint16_t port, uint8_t family,
		     const uint8_t *addr, struct rte_ether_addr *mac);

/* dp_neigh_lookup for a packet about to be sent to addr: the neighbour is
 * also marked in use, so that the manager asks it again once silent (RFC
 * 4861 §7.3.3 asks only neighbours that packets go to). The mark is
 * written once, until the manager clears it: not a store per packet. */
bool dp_neigh_use(const struct dp_routes *r, uint16_t port, uint8_t family, const uint8_t *addr,
		  struct rte_ether_addr *mac);

/* Whether a packet went to the neighbour at position since the last
 * dp_neigh_clear_used. Manager lcore only. */
bool dp_neigh_used(const struct dp_routes *r, int32_t position);
void dp_neigh_clear_used(struct dp_routes *r, int32_t position);

/* Manager lcore only. permanent: configured, not to be changed by what
 * the link says. Returns the entry's position in the table
 * (0..DP_MAX_NEIGHBOURS-1), or a negative errno (-ENOSPC: full). */
int dp_neigh_set(struct dp_routes *r, uint16_t port, uint8_t family, const uint8_t *addr,
		 const struct rte_ether_addr *mac, bool permanent);

/* Walks the neighbours: start with *next 0; returns the next one's
 * position with its key, MAC and whether it is configured, or -1 at the
 * end. Manager lcore only. */
int32_t dp_neigh_next(const struct dp_routes *r, uint32_t *next, struct dp_neigh_key *k,
		      struct rte_ether_addr *mac, bool *permanent);

/* Removes k's entry; returns the position it held, to be given to
 * dp_neigh_free_position once no worker can still be reading it (a grace
 * period), or a negative errno. Manager lcore only. */
int32_t dp_neigh_forget(struct dp_routes *r, const struct dp_neigh_key *k);
void dp_neigh_free_position(struct dp_routes *r, int32_t position);

enum dp_neigh_kind { DP_NEIGH_UNKNOWN, DP_NEIGH_LEARNT, DP_NEIGH_PERMANENT };

/* What the table holds for addr on port. */
enum dp_neigh_kind dp_neigh_known(const struct dp_routes *r, uint16_t port, uint8_t family,
				  const uint8_t *addr);

/* dp_neigh_known, with the MAC and the position of what it holds. */
enum dp_neigh_kind dp_neigh_entry(const struct dp_routes *r, uint16_t port, uint8_t family,
				  const uint8_t *addr, struct rte_ether_addr *mac, int32_t *pos);

/* Whether addr on port is marked as not answering. Lock-free reader. */
bool dp_neigh_failed(const struct dp_routes *r, uint16_t port, uint8_t family,
		     const uint8_t *addr);

/* Marks addr on port as not answering (failed), or clears its mark
 * (another next hop's mark in its slot is left). Manager lcore only. */
void dp_neigh_mark_failed(struct dp_routes *r, uint16_t port, uint8_t family, const uint8_t *addr,
			  bool failed);

#endif
