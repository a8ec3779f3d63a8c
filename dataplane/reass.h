/* reass.h - reassembly of the ESP and AH fragments addressed to the
 * gateway, and of datagrams bound for transport-mode SAs (reass.c):
 * one table per worker, no locks. */
#ifndef DP_REASS_H
#define DP_REASS_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

struct dp_worker;

/* Packets a worker collects at once, each of at most
 * RTE_LIBRTE_IP_FRAG_MAX_FRAG (8) fragments; a fragment of one more is
 * dropped (reass_failed) unless one of them has timed out. */
#define DP_REASS_MAX_PACKETS 4096

/* UDP datagrams to the gateway in fragments whose owner a worker
 * remembers at once (dp_reass_udp_here). */
#define DP_REASS_UDP_KEYS 1024

/* Buffers of up to a whole IP packet (64 KB less the headroom), shared by
 * the workers, for packets made whole that are longer than a packet
 * buffer: dp_ctx.big_pool. Too few of them free is drop_no_buffer. */
#define DP_REASS_BIG_BUFFERS 128
#define DP_REASS_BIG_ROOM UINT16_MAX /* the most an mbuf holds, headroom included */

/* Creates that pool (name, in socket's memory); NULL on failure. */
struct rte_mempool *dp_reass_big_pool_create(const char *name, int socket);

/* The worker's table, fragments held for at most timeout_tsc. */
int dp_reass_init(struct dp_worker *w, uint64_t timeout_tsc, int socket);
void dp_reass_fini(struct dp_worker *w);

/* m: a fragment of ESP or AH to one of the gateway's addresses, or of a
 * datagram for a transport-mode SA (worker_policy.c), parsed,
 * arriving at TSC now. Returns the whole packet once its last fragment is
 * in, in one buffer (one of dp_ctx.big_pool when longer than the first
 * fragment's has room for), parsed again (its meta the first fragment's,
 * in_port kept); NULL when m is held for the rest, or dropped and
 * counted. */
struct rte_mbuf *dp_reass_take(struct dp_worker *w, struct rte_mbuf *m, uint64_t now);

/* m: a fragment of UDP to one of the gateway's addresses, parsed;
 * esp_in_udp: m is a first fragment of ESP in UDP (RFC 3948) to a NAT-T
 * port. Whether dpsecd makes its datagram whole (dp_reass_take, then
 * sorts it again), rather than the host stack: yes for ESP in UDP, whose
 * later fragments carry no UDP header to tell them from IKE's, and for
 * fragments that come ahead of their first, held until the first shows
 * whose the datagram is (IKE's then made whole here too, and handed to
 * the host whole); no for the host's datagrams whose first came first
 * (IKE, other UDP): those go to it as they came, however many. What is
 * decided is remembered for the timeout, by packet (DP_REASS_UDP_KEYS
 * entries in sets of DP_FRAG_FIRST_WAYS; frag_track.h). */
bool dp_reass_udp_here(struct dp_worker *w, struct rte_mbuf *m, bool esp_in_udp,
		       uint64_t now);

enum dp_udp_frag {
	DP_UDP_FRAG_HOST,  /* the host's, as it came: *m untouched */
	DP_UDP_FRAG_TAKEN, /* made whole here: *m the datagram once whole, else NULL
			    * (held for the rest, or dropped and counted) */
};

/* *m: a fragment of UDP to one of the gateway's addresses, parsed, at TSC
 * now. A first fragment on a NAT-T port is classified (dp_natt_classify:
 * a malformed one dropped), then dp_reass_udp_here decides; a datagram
 * made whole is to be sorted again as any packet to the gateway. */
enum dp_udp_frag dp_reass_udp_fragment(struct dp_worker *w, struct rte_mbuf **m, uint64_t now);

/* Frees the fragments of packets whose time ran out (reass_failed);
 * between poll rounds, while any are held. */
void dp_reass_expire(struct dp_worker *w, uint64_t now);

#endif
