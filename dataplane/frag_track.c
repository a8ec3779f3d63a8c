/* frag_track.c - stateful fragment checking (RFC 4301 §7.3). With filters
 * that name ports, a later fragment, which carries none, would match as
 * ANY ports and could take another rule than its first fragment (a permit
 * rule, say, sending in clear what the first fragment's rule protects).
 * So while the policy has such filters, the workers classify every later
 * fragment with the ports of its packet's first fragment: the first
 * fragment's ports are remembered by (family, protocol, addresses,
 * identification) for the reassembly timeout, and a later fragment whose
 * first fragment was not seen is dropped. A policy without port-specific
 * filters classifies later fragments as their first (RFC 4301 §7.1) and
 * takes no such state. The same memory of first fragments, in a table of
 * its own, tells reass.c which later fragments belong to ESP in UDP. */
#include <stddef.h>
#include <string.h>

#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include "dp.h"
#include "dp_pkt.h"
#include "frag_track.h"

#define FIRST_KEY_LEN offsetof(struct dp_frag_first, sport)

int dp_frag_track_init(struct dp_worker *w, int socket)
{
	w->frag_first = rte_zmalloc_socket("dpsec_frag_first",
					   sizeof(*w->frag_first) * DP_FRAG_TRACK_SLOTS,
					   RTE_CACHE_LINE_SIZE, socket);
	return w->frag_first != NULL ? 0 : -1;
}

void dp_frag_track_fini(struct dp_worker *w)
{
	rte_free(w->frag_first);
	w->frag_first = NULL;
}

bool dp_frag_first_key(const struct rte_mbuf *m, struct dp_frag_first *k)
{
	const struct rte_ipv4_hdr *ip4 = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);

	memset(k, 0, sizeof(*k));
	if ((ip4->version_ihl >> 4) == 4) {
		k->family = DPSEC_AF_INET;
		k->proto = ip4->next_proto_id;
		k->id = ip4->packet_id;
		memcpy(k->src, &ip4->src_addr, 4);
		memcpy(k->dst, &ip4->dst_addr, 4);
		return true;
	}
	const struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	const struct rte_ipv6_fragment_ext *fh = (const struct rte_ipv6_fragment_ext *)(ip6 + 1);

	if (ip6->proto != IPPROTO_FRAGMENT || m->data_len < sizeof(*ip6) + sizeof(*fh))
		return false;
	k->family = DPSEC_AF_INET6;
	k->proto = fh->next_header;
	k->id = fh->id;
	memcpy(k->src, ip6->src_addr, 16);
	memcpy(k->dst, ip6->dst_addr, 16);
	return true;
}

uint32_t dp_frag_first_set_of(uint32_t slots, const struct dp_frag_first *k)
{
	return rte_hash_crc(k, FIRST_KEY_LEN, 0) % (slots / DP_FRAG_FIRST_WAYS);
}

static bool same_packet(const struct dp_frag_first *a, const struct dp_frag_first *b)
{
	return memcmp(a, b, FIRST_KEY_LEN) == 0;
}

/* The way of k's set that k takes: its own if remembered (a first
 * fragment again), else a free one or the one remembered longest ago. */
static struct dp_frag_first *way_for(struct dp_frag_first *set, const struct dp_frag_first *k)
{
	struct dp_frag_first *oldest = &set[0];

	for (uint32_t i = 0; i < DP_FRAG_FIRST_WAYS; i++) {
		if (set[i].tsc != 0 && same_packet(&set[i], k))
			return &set[i];
		if (set[i].tsc < oldest->tsc)
			oldest = &set[i];
	}
	return oldest;
}

void dp_frag_first_put(struct dp_frag_first *table, uint32_t slots, const struct dp_frag_first *k,
		       uint64_t now)
{
	struct dp_frag_first *s = way_for(&table[dp_frag_first_set_of(slots, k) * DP_FRAG_FIRST_WAYS], k);

	*s = *k;
	s->tsc = now + 1; /* never 0 */
}

const struct dp_frag_first *dp_frag_first_get(const struct dp_frag_first *table, uint32_t slots,
					      const struct dp_frag_first *k, uint64_t now,
					      uint64_t timeout_tsc)
{
	const struct dp_frag_first *set = &table[dp_frag_first_set_of(slots, k) * DP_FRAG_FIRST_WAYS];

	for (uint32_t i = 0; i < DP_FRAG_FIRST_WAYS; i++) {
		const struct dp_frag_first *s = &set[i];

		if (s->tsc != 0 && now + 1 - s->tsc <= timeout_tsc && same_packet(s, k))
			return s;
	}
	return NULL;
}

/* The lookup key's source and destination ports, of either family. */
static uint16_t *key_sport(struct dp_meta *md)
{
	return md->family == DPSEC_AF_INET6 ? &md->key.k6.sport : &md->key.k4.sport;
}

static uint16_t *key_dport(struct dp_meta *md)
{
	return md->family == DPSEC_AF_INET6 ? &md->key.k6.dport : &md->key.k4.dport;
}

/* m's first fragment's ports remembered (m first) or put in m's key;
 * false when m is a later fragment whose first was not seen. */
static bool track_one(struct dp_worker *w, const struct rte_mbuf *m, struct dp_meta *md)
{
	const struct dp_frag_first *first;
	struct dp_frag_first k;

	if (!dp_frag_first_key(m, &k))
		return !(md->flags & DP_M_NOT_FIRST);
	if (!(md->flags & DP_M_NOT_FIRST)) {
		k.sport = *key_sport(md);
		k.dport = *key_dport(md);
		dp_frag_first_put(w->frag_first, DP_FRAG_TRACK_SLOTS, &k, w->round_tsc);
		return true;
	}
	first = dp_frag_first_get(w->frag_first, DP_FRAG_TRACK_SLOTS, &k, w->round_tsc,
				  w->reass_timeout_tsc);
	if (first == NULL)
		return false;
	*key_sport(md) = first->sport;
	*key_dport(md) = first->dport;
	return true;
}

uint16_t dp_frag_track_burst(struct dp_worker *w, struct rte_mbuf **mb, uint16_t n, bool decrypted)
{
	uint16_t kept = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct dp_meta *md = dp_meta(mb[i]);

		if (!(md->flags & DP_M_FRAG) || track_one(w, mb[i], md)) {
			mb[kept++] = mb[i];
			continue;
		}
		if (decrypted)
			w->sa_ctr[md->sa].drops++;
		dp_drop(w, mb[i], DP_DROP_fragment_unseen);
	}
	return kept;
}
