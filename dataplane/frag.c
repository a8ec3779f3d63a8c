/* frag.c - fragmentation. An IPv4 packet without DF that would not
 * fit the path of its tunnel once encapsulated is cut into fragments that
 * do (RFC 791; fragmenting the inner packet rather than the ESP packet,
 * RFC 4459: the far gateway then forwards fragments and never
 * reassembles), and each is protected on its own. Tunnel mode only:
 * transport mode carries whole datagrams (RFC 4301 §7). A packet forwarded
 * in clear or decrypted that would not fit its port is cut the same way,
 * as any router does (RFC 1812 §4.2.2.7). DPDK's
 * rte_ipv4_fragment_copy_nonseg_packet does the cutting (offsets and MF of
 * a packet that was a fragment already carried over); here are the limits
 * around it, the fragments' checksums and their meta. The fragments then
 * take the outbound policy as packets of their own, like fragments that
 * arrive so: later ones have no ports, which tunnel SAs whose rules match
 * any port carry (RFC 4301 §7.1). The parser drops IPv4 options, so every
 * header here is 20 bytes. IPv6 is cut only by its source (RFC 8200 §4.5):
 * here, the ESP packet of a datagram the host's stack had cut, made whole
 * for transport mode (worker.c), which leaves as the host's own; and a
 * packet for the host longer than the exception port takes, which the
 * host, its destination, makes whole again. */
#include <errno.h>

#include <rte_ip.h>
#include <rte_ip_frag.h>

#include "dp.h"
#include "dp_pkt.h"
#include "frag.h"

#define IPV4_HDR_LEN ((uint32_t)sizeof(struct rte_ipv4_hdr))
#define IPV6_HDR_LEN ((uint32_t)sizeof(struct rte_ipv6_hdr))
#define IPV6_FRAG_HDR_LEN ((uint32_t)sizeof(struct rte_ipv6_fragment_ext))

/* Data bytes each fragment but the last carries: a multiple of 8. */
static uint32_t data_per_fragment(uint32_t fit_len)
{
	return fit_len > IPV4_HDR_LEN ? (fit_len - IPV4_HDR_LEN) & ~7u : 0;
}

/* A fragment DPDK made: its header checksum (left to the caller) and its
 * meta, parsed as the packet it now is, with what the packet cut already
 * had done to it (the TTL taken, decrypted) and the port it came in by. */
static void finish_piece(struct rte_mbuf *f, const struct dp_meta *orig)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(f, struct rte_ipv4_hdr *);
	struct dp_meta *md = dp_meta(f);

	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	dp_parse_ipv4(f, md); /* the cut packet's header, its length and offset set: it parses */
	md->in_port = orig->in_port;
	md->flags |= orig->flags & (DP_M_TTL_DONE | DP_M_FROM_SA);
}

/* The pieces' offsets must stay within the 13-bit field: a fragment
 * reaching past 65,535 bytes (itself malformed) is not cut, which DPDK
 * would do with offsets wrapped. */
static bool offsets_fit(const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint32_t offset8 = rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK;

	return offset8 + (m->pkt_len - IPV4_HDR_LEN - 1) / 8 <= RTE_IPV4_HDR_OFFSET_MASK;
}

static void count_cut(struct dp_worker *w, enum dp_frag_why why, int32_t n)
{
	bool to_port = why == DP_FRAG_TO_FIT_PORT;

	w->ctr->c[to_port ? DP_C_frag_packets : DP_C_prefrag_packets]++;
	w->ctr->c[to_port ? DP_C_frag_fragments : DP_C_prefrag_fragments] += (uint64_t)n;
}

uint16_t dp_frag4_split(struct dp_worker *w, struct rte_mbuf *m, uint32_t fit_len,
			enum dp_frag_why why, struct rte_mbuf **out)
{
	uint32_t each = data_per_fragment(fit_len);
	int32_t n = !offsets_fit(m) ? -EINVAL
			     : rte_ipv4_fragment_copy_nonseg_packet(m, out, DP_FRAG_MAX,
								    (uint16_t)(IPV4_HDR_LEN + each),
								    dp_g->pool);

	if (n < 0) {
		dp_drop(w, m, n == -ENOMEM ? DP_DROP_no_buffer : DP_DROP_too_big);
		return 0;
	}
	for (int32_t i = 0; i < n; i++)
		finish_piece(out[i], dp_meta(m));
	rte_pktmbuf_free(m);
	count_cut(w, why, n);
	return (uint16_t)n;
}

/* A fragment of IPv6 packet m carrying data bytes from offset off of what
 * follows m's header (its unfragmentable part: m has no extension header),
 * behind that header and a fragment header; NULL without a buffer. */
static struct rte_mbuf *ipv6_piece(const struct rte_mbuf *m, uint32_t off, uint32_t data,
				   bool more, uint32_t id)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	struct rte_mbuf *f = rte_pktmbuf_alloc(dp_g->pool);
	struct rte_ipv6_fragment_ext *fh;
	struct rte_ipv6_hdr *fip;

	if (f == NULL)
		return NULL;
	fip = (struct rte_ipv6_hdr *)rte_pktmbuf_append(f, (uint16_t)(IPV6_HDR_LEN +
								       IPV6_FRAG_HDR_LEN + data));
	if (fip == NULL) {
		rte_pktmbuf_free(f);
		return NULL;
	}
	*fip = *ip;
	fip->proto = IPPROTO_FRAGMENT;
	fip->payload_len = rte_cpu_to_be_16((uint16_t)(IPV6_FRAG_HDR_LEN + data));
	fh = (struct rte_ipv6_fragment_ext *)(fip + 1);
	fh->next_header = ip->proto;
	fh->reserved = 0;
	fh->frag_data = rte_cpu_to_be_16((uint16_t)(off | (more ? 1u : 0u))); /* off: 8s */
	fh->id = rte_cpu_to_be_32(id);
	memcpy(fh + 1, rte_pktmbuf_mtod_offset(m, const uint8_t *, IPV6_HDR_LEN + off), data);
	return f;
}

static void free_pieces(struct rte_mbuf **out, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		rte_pktmbuf_free(out[i]);
}

/* Each piece's meta, parsed as the packet it is, keeping what was done to
 * the packet it came from. */
static void finish_piece6(struct rte_mbuf *f, const struct dp_meta *orig)
{
	struct dp_meta *md = dp_meta(f);

	dp_parse_ipv6(f, md); /* a header and a fragment header made here: it parses */
	md->in_port = orig->in_port;
	md->flags |= orig->flags & (DP_M_TTL_DONE | DP_M_FROM_SA);
}

/* Data bytes each IPv6 fragment but the last carries: a multiple of 8;
 * none below IPv6's minimum MTU. */
static uint32_t data_per_fragment6(uint32_t fit_len)
{
	if (fit_len < DP_IPV6_MIN_MTU)
		return 0;
	return (fit_len - IPV6_HDR_LEN - IPV6_FRAG_HDR_LEN) & ~7u;
}

uint16_t dp_frag6_split(struct dp_worker *w, struct rte_mbuf *m, uint32_t fit_len,
			struct rte_mbuf **out)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
	uint32_t data = m->pkt_len - IPV6_HDR_LEN;
	uint32_t each = data_per_fragment6(fit_len);
	uint32_t n = each > 0 ? (data + each - 1) / each : 0;
	uint32_t id = (uint32_t)rte_rand(); /* unpredictable (RFC 7739) */

	if (n == 0 || n > DP_FRAG_MAX || dp_ipv6_is_ext(ip->proto)) {
		dp_drop(w, m, DP_DROP_too_big);
		return 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = i * each;

		out[i] = ipv6_piece(m, off, RTE_MIN(each, data - off), i + 1 < n, id);
		if (out[i] == NULL) {
			free_pieces(out, i);
			dp_drop(w, m, DP_DROP_no_buffer);
			return 0;
		}
		finish_piece6(out[i], dp_meta(m));
	}
	rte_pktmbuf_free(m);
	count_cut(w, DP_FRAG_TO_FIT_PORT, (int32_t)n);
	return (uint16_t)n;
}
