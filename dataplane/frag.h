/* frag.h - fragmentation (frag.c): an IPv4 packet without DF too big for
 * its tunnel's path once encapsulated is cut into fragments that fit, each
 * then protected as a packet of its own; one forwarded in clear or
 * decrypted too big for its port is cut into fragments that fit it; the
 * host's IPv6 ESP packet in transport mode is cut as its source would, and
 * what the host's port cannot take whole is cut for the host. */
#ifndef DP_FRAG_H
#define DP_FRAG_H

#include <stdint.h>

#include <rte_mbuf.h>

struct dp_worker;

/* The most fragments one packet is cut into; a path so narrow that more
 * would be needed drops the packet (too_big). With LANs of 1,500 bytes the
 * 68-byte minimum comes first (31 fragments); jumbo LANs reach it. */
#define DP_FRAG_MAX 32

/* Why a packet is cut, for its counters: prefrag_* or frag_*. */
enum dp_frag_why {
	DP_FRAG_BEFORE_ESP,  /* to fit its tunnel once encapsulated */
	DP_FRAG_TO_FIT_PORT  /* forwarded in clear or decrypted, to fit its port */
};

/* Cuts m (IPv4, DF clear, its meta filled) into fragments of at most
 * fit_len bytes each, written to out (room for DP_FRAG_MAX), and frees m.
 * Each fragment's meta is its own, parsed as if it had arrived so (in_port,
 * the TTL already taken and whether it was decrypted kept); counted as why
 * says. Returns how many; 0 when m was dropped
 * instead (too_big: more than DP_FRAG_MAX needed, fragments under 68 bytes,
 * the least every IPv4 link carries (DPDK makes none smaller), or offsets
 * past 65,535 bytes; no_buffer). */
uint16_t dp_frag4_split(struct dp_worker *w, struct rte_mbuf *m, uint32_t fit_len,
			enum dp_frag_why why, struct rte_mbuf **out);

/* Cuts m (IPv6 with no extension header, its meta filled: the ESP packet
 * of the host's datagram, or a packet for the host) into fragments of at most fit_len bytes each, a
 * fragment header behind the IPv6 header (one random identification),
 * written to out (room for DP_FRAG_MAX), and frees m. Each fragment's meta
 * as dp_frag4_split's; counted as DP_FRAG_TO_FIT_PORT. Returns how many;
 * 0 when m was dropped instead (too_big: fit_len under IPv6's minimum MTU
 * of 1,280 bytes, more than DP_FRAG_MAX needed, or an extension header;
 * no_buffer). */
uint16_t dp_frag6_split(struct dp_worker *w, struct rte_mbuf *m, uint32_t fit_len,
			struct rte_mbuf **out);

#endif
