/* reass.h - reassembly of the ESP and AH fragments addressed to the
 * gateway (reass.c): one table per worker, no locks. */
#ifndef DP_REASS_H
#define DP_REASS_H

#include <stdint.h>

#include <rte_mbuf.h>

struct dp_worker;

/* Packets a worker collects at once, each of at most
 * RTE_LIBRTE_IP_FRAG_MAX_FRAG (8) fragments; a fragment of one more is
 * dropped (reass_failed) unless one of them has timed out. */
#define DP_REASS_MAX_PACKETS 4096

/* The worker's table, fragments held for at most timeout_tsc. */
int dp_reass_init(struct dp_worker *w, uint64_t timeout_tsc, int socket);
void dp_reass_fini(struct dp_worker *w);

/* m: a fragment of ESP or AH to one of the gateway's addresses, parsed,
 * arriving at TSC now. Returns the whole packet once its last fragment is
 * in, in one buffer, parsed again (its meta the first fragment's, in_port
 * kept); NULL when m is held for the rest, or dropped and counted. */
struct rte_mbuf *dp_reass_take(struct dp_worker *w, struct rte_mbuf *m, uint64_t now);

/* Frees the fragments of packets whose time ran out (reass_failed);
 * between poll rounds, while any are held. */
void dp_reass_expire(struct dp_worker *w, uint64_t now);

#endif
