/* frag_track.h - stateful fragment checking (RFC 4301 §7.3) for policies
 * with port-specific filters: a later fragment carries no ports, so it is
 * classified with the ports of its packet's first fragment, which the
 * worker remembers (frag_track.c). */
#ifndef DP_FRAG_TRACK_H
#define DP_FRAG_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

struct dp_worker;
struct dp_meta;

/* First fragments a worker remembers at once (direct-mapped by hash: a
 * packet whose slot another takes over loses its later fragments). */
#define DP_FRAG_TRACK_SLOTS 1024

/* The worker's table; its entries hold for timeout_tsc (the reassembly
 * timeout). */
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
