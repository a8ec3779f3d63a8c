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
 * takes no such state. */
#include <stddef.h>
#include <string.h>

#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include "dp.h"
#include "dp_pkt.h"
#include "frag_track.h"

/* What identifies the packet a fragment belongs to (RFC 791, RFC 8200
 * §4.5), the ports its first fragment showed, and when. */
struct dp_frag_first {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t family, proto;
	uint16_t pad;
	uint16_t sport, dport; /* network order, as in the lookup key */
	uint64_t tsc;          /* 0: free */
};

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

/* The key of fragment m; false when it has none a table can use (IPv6
 * with other headers before its fragment header). */
static bool key_of(const struct rte_mbuf *m, const struct dp_meta *md, struct dp_frag_first *k)
{
	memset(k, 0, sizeof(*k));
	k->family = md->family;
	k->proto = md->l4proto;
	if (md->family == DPSEC_AF_INET) {
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);

		k->id = ip->packet_id;
		memcpy(k->src, &ip->src_addr, 4);
		memcpy(k->dst, &ip->dst_addr, 4);
		return true;
	}
	const struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	const struct rte_ipv6_fragment_ext *fh = (const struct rte_ipv6_fragment_ext *)(ip6 + 1);

	if (ip6->proto != IPPROTO_FRAGMENT || m->data_len < sizeof(*ip6) + sizeof(*fh))
		return false;
	k->id = fh->id;
	memcpy(k->src, ip6->src_addr, 16);
	memcpy(k->dst, ip6->dst_addr, 16);
	return true;
}

static struct dp_frag_first *slot_of(struct dp_worker *w, const struct dp_frag_first *k)
{
	return &w->frag_first[rte_hash_crc(k, FIRST_KEY_LEN, 0) % DP_FRAG_TRACK_SLOTS];
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
	struct dp_frag_first k, *s;

	if (!key_of(m, md, &k))
		return !(md->flags & DP_M_NOT_FIRST);
	s = slot_of(w, &k);
	if (!(md->flags & DP_M_NOT_FIRST)) {
		k.sport = *key_sport(md);
		k.dport = *key_dport(md);
		k.tsc = w->round_tsc + 1; /* never 0 */
		*s = k;
		return true;
	}
	if (s->tsc == 0 || w->round_tsc + 1 - s->tsc > w->reass_timeout_tsc ||
	    memcmp(s, &k, FIRST_KEY_LEN) != 0)
		return false;
	*key_sport(md) = s->sport;
	*key_dport(md) = s->dport;
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
