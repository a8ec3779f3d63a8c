/* frag.c - IPv4 fragmentation before encapsulation. An IPv4 packet without
 * DF that would not fit the path of its tunnel once encapsulated is cut
 * into fragments that do (RFC 791 §3.2; fragmenting the inner packet rather
 * than the ESP packet, RFC 4459: the far gateway then forwards fragments
 * and never reassembles), and each is protected on its own. Tunnel mode
 * only: transport mode carries whole datagrams (RFC 4301 §7). The
 * fragments take the outbound policy as packets of their own, like
 * fragments that arrive so: later ones have no ports, which tunnel SAs
 * whose rules match any port carry (RFC 4301 §7.1). The parser drops IPv4
 * options, so every header here is 20 bytes: no option to leave out of the
 * later fragments. */
#include <string.h>

#include <rte_ip.h>

#include "dp.h"
#include "dp_pkt.h"
#include "frag.h"

#define IPV4_HDR_LEN ((uint32_t)sizeof(struct rte_ipv4_hdr))

/* Data bytes each fragment but the last carries: a multiple of 8. */
static uint32_t data_per_fragment(uint32_t fit_len)
{
	return fit_len > IPV4_HDR_LEN ? (fit_len - IPV4_HDR_LEN) & ~7u : 0;
}

/* A fragment's own header: the offset (in 8 bytes) and MF it carries, its
 * length, and the checksum over them. DF is clear, as in the packet cut. */
static void set_fragment_header(struct rte_ipv4_hdr *ip, uint16_t offset8, bool more,
				uint32_t total)
{
	ip->fragment_offset = rte_cpu_to_be_16(offset8 | (more ? RTE_IPV4_HDR_MF_FLAG : 0));
	ip->total_length = rte_cpu_to_be_16((uint16_t)total);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* Where the packet cut sits in its datagram: itself possibly a fragment
 * already (its offset and MF carry over to the pieces). */
struct frag_origin {
	uint16_t offset8;
	bool more;
	uint8_t flags; /* meta flags the pieces inherit */
	uint8_t in_port;
};

/* The meta of a piece: parsed as the packet it now is (a header of the
 * packet cut, which parsed, with its length, offset and checksum set: it
 * parses), with what the packet cut already had done to it. */
static void piece_meta(struct rte_mbuf *f, const struct frag_origin *o)
{
	struct dp_meta *md = dp_meta(f);

	dp_parse_ipv4(f, md);
	md->in_port = o->in_port;
	md->flags |= o->flags;
}

/* The piece of m holding len data bytes from data offset off, in a buffer
 * of its own; NULL without one. */
static struct rte_mbuf *later_piece(struct rte_mbuf *m, const struct frag_origin *o, uint32_t off,
				    uint32_t len, bool last)
{
	struct rte_mbuf *f = rte_pktmbuf_alloc(dp_g->pool);
	uint8_t *p;

	if (f == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(f, (uint16_t)(IPV4_HDR_LEN + len));
	if (p == NULL) {
		rte_pktmbuf_free(f);
		return NULL;
	}
	memcpy(p, rte_pktmbuf_mtod(m, const uint8_t *), IPV4_HDR_LEN);
	memcpy(p + IPV4_HDR_LEN, rte_pktmbuf_mtod_offset(m, const uint8_t *, IPV4_HDR_LEN + off), len);
	set_fragment_header((struct rte_ipv4_hdr *)p, (uint16_t)(o->offset8 + off / 8),
			    !last || o->more, IPV4_HDR_LEN + len);
	piece_meta(f, o);
	return f;
}

/* m cut down to its first piece, data_len bytes of data. */
static void first_piece(struct rte_mbuf *m, const struct frag_origin *o, uint32_t data_len)
{
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - IPV4_HDR_LEN - data_len));
	set_fragment_header(rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *), o->offset8, true,
			    IPV4_HDR_LEN + data_len);
	piece_meta(m, o);
}

static struct frag_origin origin_of(struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
	const struct dp_meta *md = dp_meta(m);

	return (struct frag_origin){ .offset8 = fo & RTE_IPV4_HDR_OFFSET_MASK,
				     .more = (fo & RTE_IPV4_HDR_MF_FLAG) != 0,
				     .flags = md->flags & DP_M_TTL_DONE,
				     .in_port = md->in_port };
}

static uint16_t drop_all(struct dp_worker *w, struct rte_mbuf *m, struct rte_mbuf **out,
			 uint16_t n, int reason)
{
	for (uint16_t i = 1; i < n; i++)
		rte_pktmbuf_free(out[i]);
	dp_drop(w, m, reason);
	return 0;
}

uint16_t dp_frag4_split(struct dp_worker *w, struct rte_mbuf *m, uint32_t fit_len,
			struct rte_mbuf **out)
{
	struct frag_origin o = origin_of(m);
	uint32_t data = m->pkt_len - IPV4_HDR_LEN, each = data_per_fragment(fit_len);
	uint32_t n = each == 0 ? 0 : (data + each - 1) / each;

	if (n < 2 || n > DP_FRAG_MAX || o.offset8 + (data - 1) / 8 > RTE_IPV4_HDR_OFFSET_MASK)
		return drop_all(w, m, out, 0, DP_DROP_too_big);
	out[0] = m;
	for (uint32_t i = 1; i < n; i++) {
		uint32_t off = i * each;

		out[i] = later_piece(m, &o, off, RTE_MIN(each, data - off), i == n - 1);
		if (out[i] == NULL)
			return drop_all(w, m, out, (uint16_t)i, DP_DROP_no_buffer);
	}
	first_piece(m, &o, each);
	w->ctr->c[DP_C_prefrag_packets]++;
	w->ctr->c[DP_C_prefrag_fragments] += n;
	return (uint16_t)n;
}
