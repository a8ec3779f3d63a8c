/* ah.c - AH (RFC 4302) on dpsecd's ESP paths (esp_out.c and esp_in.c call
 * it for the SAs flagged DP_SA_AH, in the same bursts and crypto calls).
 * Outbound the AH header goes after a new outer header (tunnel) or after
 * the packet's own IP header (transport); the ICV is the HMAC of the whole
 * packet with the ICV field zero and the IP header's mutable fields zeroed
 * (IPv4: TOS, flags and fragment offset, TTL, checksum; IPv6: traffic
 * class, flow label, hop limit; §3.3.3.1), followed with ESN by the high
 * half of the sequence number (§3.3.3.2.1, appended for the hash only).
 * The mutable fields are put back once the hash is done. Inbound the same
 * zeroing before the check, then AH is taken out. IPv4 options never get
 * here (the parser drops them); IPv6 extension headers before AH are
 * refused (their mutable options would need zeroing too). */
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>

#include "dp.h"
#include "dp_pkt.h"
#include "esp.h"

/* What the ICV computation changed, kept in the packet's metadata (its
 * GCM nonce bytes, which AH does not use) until it is undone. */
struct ah_saved {
	uint16_t ah_off;   /* the AH header's offset from the packet's start */
	uint16_t frag;     /* IPv4 flags and fragment offset, network order */
	uint32_t vtc_flow; /* IPv6 version, traffic class, flow label, network order */
	uint8_t tos;       /* IPv4 */
	uint8_t ttl;       /* IPv4 TTL or IPv6 hop limit */
	uint8_t esn_tail;  /* 4 bytes appended for the hash: trimmed after */
};
_Static_assert(sizeof(struct ah_saved) <= sizeof(((struct dp_meta *)0)->nonce),
	       "struct ah_saved must fit in dp_meta.nonce");

static void saved_put(struct dp_meta *md, const struct ah_saved *s)
{
	memcpy(md->nonce, s, sizeof(*s));
}

static struct ah_saved saved_get(const struct dp_meta *md)
{
	struct ah_saved s;

	memcpy(&s, md->nonce, sizeof(s));
	return s;
}

static void mutable_zero(uint8_t *ip, bool v6, struct ah_saved *s)
{
	if (v6) {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)ip;

		s->vtc_flow = h->vtc_flow;
		s->ttl = h->hop_limits;
		h->vtc_flow = rte_cpu_to_be_32(6u << 28);
		h->hop_limits = 0;
		return;
	}
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;

	s->tos = h->type_of_service;
	s->frag = h->fragment_offset;
	s->ttl = h->time_to_live;
	h->type_of_service = 0;
	h->fragment_offset = 0;
	h->time_to_live = 0;
	h->hdr_checksum = 0;
}

/* The fields back, and a new IPv4 checksum. */
static void mutable_restore(uint8_t *ip, bool v6, const struct ah_saved *s)
{
	if (v6) {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)ip;

		h->vtc_flow = s->vtc_flow;
		h->hop_limits = s->ttl;
		return;
	}
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;

	h->type_of_service = s->tos;
	h->fragment_offset = s->frag;
	h->time_to_live = s->ttl;
	h->hdr_checksum = 0;
	h->hdr_checksum = rte_ipv4_cksum(h);
}

/* Transport mode: the packet's own header names what follows it and the
 * new length (the IPv4 checksum is mutable_restore's). */
static void set_proto_len(uint8_t *ip, bool v6, uint8_t proto, uint32_t total)
{
	if (v6) {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)ip;

		h->proto = proto;
		h->payload_len = rte_cpu_to_be_16((uint16_t)(total - sizeof(*h)));
		return;
	}
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;

	h->next_proto_id = proto;
	h->total_length = rte_cpu_to_be_16((uint16_t)total);
}

/* Tunnel mode: the SA's template with this packet's length and ID, DSCP
 * and ECN from the inner header (RFC 4301 §5.1.2.1) and DF as the SA
 * says (RFC 4301 §8.1); the checksum comes with mutable_restore. */
static void outer_hdr(struct dp_worker *w, const struct dp_sa *sa, uint8_t *p, uint32_t total,
		      const struct dp_meta *md, const uint8_t *inner)
{
	uint8_t tos = dp_outer_tos(sa, md, inner);

	memcpy(p, sa->outer, sa->outer_len);
	if (sa->flags & DP_SA_OUTER6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;

		ip->vtc_flow |= rte_cpu_to_be_32((uint32_t)tos << 20); /* the SA's flow label kept */
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(total - sizeof(*ip)));
		return;
	}
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

	ip->type_of_service = tos;
	ip->total_length = rte_cpu_to_be_16((uint16_t)total);
	ip->packet_id = rte_cpu_to_be_16(w->ip_id++);
	ip->fragment_offset = dp_sa_outer_df(sa, md->family, inner);
}

static void ah_hdr(uint8_t *ah, const struct dp_sa *sa, uint32_t ah_len, uint8_t nh, uint64_t seq)
{
	uint32_t seq_be = rte_cpu_to_be_32((uint32_t)seq);

	ah[0] = nh;
	ah[1] = (uint8_t)(ah_len / 4 - 2); /* RFC 4302 §2.2: in 32-bit words, minus 2 */
	ah[2] = ah[3] = 0;
	memcpy(ah + 4, &sa->spi_be, 4);
	memcpy(ah + 8, &seq_be, 4);
	memset(ah + AH_FIXED_LEN, 0, ah_len - AH_FIXED_LEN); /* the ICV and its padding */
}

/* ESN: the high half of the sequence number after the packet, hashed but
 * not sent (trimmed again). */
static void esn_tail(struct rte_mbuf *m, uint64_t seq64, struct ah_saved *s)
{
	uint32_t hi = rte_cpu_to_be_32((uint32_t)(seq64 >> 32));

	memcpy(rte_pktmbuf_append(m, 4), &hi, 4);
	s->esn_tail = 1;
}

static void hash_op(const struct dp_sa *sa, struct rte_mbuf *m, bool encrypt, struct ofl_op *op)
{
	*op = (struct ofl_op){ .sa = &sa->crypto, .buf = rte_pktmbuf_mtod(m, uint8_t *),
			       .encrypt = encrypt, .auth_len = m->pkt_len, .tag = dp_meta(m)->tag };
}

int dp_ah_out_one(struct dp_worker *w, struct rte_mbuf *m, struct dp_sa *sa, uint64_t seq,
		  struct ofl_op *op)
{
	struct dp_meta *md = dp_meta(m);
	bool tunnel = sa->flags & DP_SA_TUNNEL, v6 = sa->flags & DP_SA_OUTER6;
	uint32_t ah_len = dp_ah_len(sa), ip_len = tunnel ? sa->outer_len : md->l3_len;
	uint32_t hdr = tunnel ? sa->outer_len + ah_len : ah_len;
	uint8_t nh = tunnel ? (md->family == DPSEC_AF_INET6 ? ESP_NH_IPV6 : ESP_NH_IPV4) : md->l4proto;
	struct ah_saved s = { .ah_off = (uint16_t)ip_len };
	uint8_t *p;

	if (!tunnel && v6 && md->l3_len != sizeof(struct rte_ipv6_hdr))
		return DP_DROP_unsupported_ext_headers;
	if (!tunnel && (md->family == DPSEC_AF_INET6) != v6)
		return DP_DROP_no_sa;
	if (rte_pktmbuf_tailroom(m) < 4 || rte_pktmbuf_headroom(m) < hdr + RTE_ETHER_HDR_LEN)
		return DP_DROP_no_room;
	md->inner_len = m->pkt_len - (tunnel ? 0 : ip_len);
	p = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)hdr);
	if (tunnel) {
		outer_hdr(w, sa, p, m->pkt_len, md, p + hdr);
		dp_sa_route_key(sa, md);
	} else {
		memmove(p, p + ah_len, ip_len);
		set_proto_len(p, v6, IPPROTO_AH, m->pkt_len);
	}
	ah_hdr(p + ip_len, sa, ah_len, nh, seq);
	mutable_zero(p, v6, &s);
	if (sa->flags & DP_SA_ESN)
		esn_tail(m, seq, &s);
	saved_put(md, &s);
	hash_op(sa, m, true, op);
	return 0;
}

void dp_ah_out_done(struct rte_mbuf *m, const struct dp_sa *sa)
{
	struct dp_meta *md = dp_meta(m);
	struct ah_saved s = saved_get(md);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	if (s.esn_tail)
		rte_pktmbuf_trim(m, 4);
	ofl_icv_copy(p + s.ah_off + AH_FIXED_LEN, md->tag, sa->icv_len);
	mutable_restore(p, sa->flags & DP_SA_OUTER6, &s);
}

int dp_ah_in_prepare(struct dp_sa *sa, struct rte_mbuf *m, struct ofl_op *op)
{
	struct dp_meta *md = dp_meta(m);
	bool v6 = md->family == DPSEC_AF_INET6;
	uint32_t ah_len = dp_ah_len(sa);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), *ah = p + md->l3_len;
	struct ah_saved s = { .ah_off = md->l3_len };

	if (v6 && md->l3_len != sizeof(struct rte_ipv6_hdr))
		return DP_DROP_unsupported_ext_headers;
	if (m->pkt_len < md->l3_len + ah_len || (ah[1] + 2u) * 4 != ah_len)
		return DP_DROP_ah_bad_length;
	if ((sa->flags & DP_SA_ESN) && rte_pktmbuf_tailroom(m) < 4)
		return DP_DROP_no_room;
	md->inner_len = m->pkt_len - md->l3_len - ah_len;
	ofl_icv_copy(md->icv, ah + AH_FIXED_LEN, sa->icv_len);
	memset(ah + AH_FIXED_LEN, 0, sa->icv_len); /* padding after it stays as sent */
	mutable_zero(p, v6, &s);
	if (sa->flags & DP_SA_ESN)
		esn_tail(m, md->seq64, &s);
	saved_put(md, &s);
	hash_op(sa, m, false, op);
	return 0;
}

int dp_ah_in_decap(const struct dp_sa *sa, struct rte_mbuf *m)
{
	struct dp_meta *md = dp_meta(m);
	struct ah_saved s = saved_get(md);
	bool v6 = md->family == DPSEC_AF_INET6;
	uint32_t ah_len = dp_ah_len(sa), ip_len = md->l3_len;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), nh = p[s.ah_off];

	if (s.esn_tail)
		rte_pktmbuf_trim(m, 4);
	if (sa->flags & DP_SA_TUNNEL) {
		if (nh != ESP_NH_IPV4 && nh != ESP_NH_IPV6)
			return DP_DROP_bad_next_header;
		md->outer_ecn = (uint8_t)((v6 ? rte_be_to_cpu_32(s.vtc_flow) >> 20 : s.tos) & 3);
		p = (uint8_t *)rte_pktmbuf_adj(m, (uint16_t)(ip_len + ah_len));
		if (m->pkt_len == 0 || (p[0] >> 4) != (nh == ESP_NH_IPV4 ? 4 : 6))
			return DP_DROP_inner_malformed;
	} else {
		memmove(p + ah_len, p, ip_len);
		p = (uint8_t *)rte_pktmbuf_adj(m, (uint16_t)ah_len);
		set_proto_len(p, v6, nh, m->pkt_len);
		mutable_restore(p, v6, &s);
	}
	if (dp_parse_ip(m, md) != 0)
		return DP_DROP_inner_malformed;
	md->flags |= DP_M_FROM_SA;
	return 0;
}
