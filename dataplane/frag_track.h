/* frag_track.h - what a worker remembers of first fragments, for the
 * later fragments of their packets, which carry no transport header
 * (frag_track.c): their ports, for stateful fragment checking (RFC 4301
 * §7.3) while the policy has port-specific filters; and (reass.c) that a
 * first fragment was ESP in UDP, so that its later ones are reassembled. */
#ifndef DP_FRAG_TRACK_H
#define DP_FRAG_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

struct dp_worker;
struct dp_meta;

/* What identifies the packet a fragment belongs to (RFC 791, RFC 8200
 * §4.5), the ports its first fragment showed, and when. */
struct dp_frag_first {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t family, proto;
	uint16_t pad;
	uint16_t sport, dport; /* network order, as in the lookup key */
	uint8_t owner;         /* reass.c's: who makes the packet whole */
	uint64_t tsc;          /* 0: free */
};

/* Tables of first fragments, in sets of DP_FRAG_FIRST_WAYS entries
 * chosen by hash: a first fragment takes the entry of its set remembered
 * longest ago, so a packet loses its later fragments only when as many
 * packets of its set come before them. */
#define DP_FRAG_FIRST_WAYS 4
#define DP_FRAG_TRACK_SLOTS 4096

/* k: the key of fragment m (IPv4, or IPv6 with its fragment header right
 * behind the IPv6 header), ports and tsc 0; false when it has none. */
bool dp_frag_first_key(const struct rte_mbuf *m, struct dp_frag_first *k);

/* The set of table (slots entries, a multiple of DP_FRAG_FIRST_WAYS)
 * that holds k. */
uint32_t dp_frag_first_set_of(uint32_t slots, const struct dp_frag_first *k);

/* k remembered at TSC now in table (slots entries). */
void dp_frag_first_put(struct dp_frag_first *table, uint32_t slots, const struct dp_frag_first *k,
		       uint64_t now);

/* What table remembers of k's packet, no older than timeout_tsc at now,
 * or NULL. */
const struct dp_frag_first *dp_frag_first_get(const struct dp_frag_first *table, uint32_t slots,
					      const struct dp_frag_first *k, uint64_t now,
					      uint64_t timeout_tsc);

/* The worker's table for the policy's check (DP_FRAG_TRACK_SLOTS; its
 * entries hold for the reassembly timeout). */
int dp_frag_track_init(struct dp_worker *w, int socket);
void dp_frag_track_fini(struct dp_worker *w);

/* The fragments among mb (parsed), before their policy lookup: a first
 * fragment's ports are remembered; a later fragment is given them in its
 * lookup key, or dropped (fragment_unseen) when this worker has not seen
 * its first fragment within the timeout (or no table can name it: IPv6
 * with headers before the fragment header), as the rule its packet takes
 * is not known. decrypted: mb came in on SAs (meta.sa), whose drops count
 * it too. Returns how many of mb are left, in order. */
uint16_t dp_frag_track_burst(struct dp_worker *w, struct rte_mbuf **mb, uint16_t n, bool decrypted);

#endif
