/* dp_pkt.h - per-packet metadata kept in the mbuf's private area, and the
 * header-only IPv4/IPv6 parser every packet goes through (on receive, and
 * again on the inner packet after decapsulation). The parser validates what
 * the dataplane relies on and fills the SPD search key. */
#ifndef DP_PKT_H
#define DP_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_stats.h"
#include "dpsec_model.h"
#include "spd.h"

enum dp_meta_flags {
	DP_M_FRAG = 1 << 0,     /* a fragment (any) */
	DP_M_NOT_FIRST = 1 << 1, /* a fragment other than the first: no L4 header */
	DP_M_TTL_DONE = 1 << 2,  /* TTL already decremented (a re-injected packet) */
	DP_M_NATT = 1 << 3,      /* ESP in UDP: l3_len covers the UDP header too */
	DP_M_IKE = 1 << 4,       /* IKE on a NAT-T port (non-ESP marker, RFC 3948 §2.2) */
	DP_M_FROM_SA = 1 << 5,   /* came in on an SA, ESP or AH: errors about it go back on one */
	DP_M_SECURE_ONLY = 1 << 6, /* such an error: sent only if the outbound policy secures it */
	DP_M_PMTU = 1 << 7,      /* a router's path MTU report about our ESP/AH (tunnel_pmtu.c) */
	DP_M_WHOLE_HERE = 1 << 8, /* a datagram made whole here for a transport mode SA */
	DP_M_CUT_AFTER_ESP = 1 << 9 /* such an IPv6 datagram too big once encapsulated: its
				     * ESP packet cut to cut_to bytes by us, its source */
};

#define DP_IPV6_MIN_MTU 1280u /* every IPv6 link carries this (RFC 8200 §5) */

struct dp_sa;

struct dp_meta {
	uint8_t family;   /* DPSEC_AF_INET or DPSEC_AF_INET6 */
	uint8_t l4proto;
	uint16_t flags;   /* enum dp_meta_flags */
	uint16_t l3_len;  /* IP header plus IPv6 extension headers */
	uint8_t in_port;  /* index in dp_ctx.ports */
	uint8_t outer_ecn; /* inbound, tunnel mode: the outer header's ECN field */
	uint32_t inner_len; /* bytes ESP protects, for the counters */
	uint32_t sa;      /* SA table index on the ESP paths */
	uint32_t rule;    /* SPD result */
	uint16_t cut_to;  /* DP_M_CUT_AFTER_ESP: the longest fragment */
	struct dp_sa *sap; /* the SA itself, valid until the worker's next quiescent state */
	uint32_t rule_id; /* ACQUIRE: the negotiate rule without an SA ... */
	struct dpsec_addr peer; /* ... and the peer to negotiate with */
	uint64_t seq64;
	union {
		struct dp_spd_key4 k4;
		struct dp_spd_key6 k6;
	} key;
	uint8_t aad[12];
	uint8_t nonce[12];
	uint8_t tag[DPSEC_MAX_ICV];
	uint8_t icv[DPSEC_MAX_ICV]; /* the received ICV, saved before crypto */
};

#define DP_META_SIZE RTE_ALIGN_CEIL(sizeof(struct dp_meta), RTE_CACHE_LINE_SIZE)

static inline struct dp_meta *dp_meta(struct rte_mbuf *m)
{
	return (struct dp_meta *)rte_mbuf_to_priv(m);
}

static inline void dp_key_ports(uint8_t *key_ports, const uint8_t *l4, uint32_t l4_avail,
				uint8_t proto, bool have_l4)
{
	bool has_ports = proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;

	if (have_l4 && has_ports && l4_avail >= 4)
		memcpy(key_ports, l4, 4);
	else
		memset(key_ports, 0, 4);
}

/* A 32-bit word of a header at any alignment, read straight from it. */
static inline uint32_t dp_load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* One's complement sum of a 20-byte IPv4 header, folded to 16 bits (what
 * rte_raw_cksum gives), summed as five 32-bit words instead of ten. Each
 * word is loaded from the header: a copy into an array first made the
 * compiler store the header on the stack and read it back in parts,
 * which stalls on store forwarding. */
static inline uint16_t dp_ipv4_hdr_sum20(const void *hdr)
{
	const uint8_t *h = hdr;
	uint64_t s;

	s = (uint64_t)dp_load32(h) + dp_load32(h + 4) + dp_load32(h + 8) + dp_load32(h + 12) +
	    dp_load32(h + 16);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)((s & 0xffffu) + (s >> 16));
}

/* Moves an IP header of len bytes (dst and src may overlap): the usual 20
 * and 40 as fixed-size moves the compiler inlines, not a memmove call. */
static inline void dp_ip_hdr_move(uint8_t *dst, const uint8_t *src, uint32_t len)
{
	if (len == 20)
		memmove(dst, src, 20);
	else if (len == 40)
		memmove(dst, src, 40);
	else
		memmove(dst, src, len);
}

/* RFC 1624 (eqn. 3): a header checksum after one of the 16-bit words it
 * covers changed from old to new (all three in network order). */
static inline uint16_t dp_cksum_adjust16(uint16_t cksum, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint32_t)(uint16_t)~cksum + (uint16_t)~old + new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ECN codepoints (RFC 3168 §5): the low two bits of the IPv4 TOS byte and
 * of the IPv6 traffic class. */
enum dp_ecn { DP_ECN_NOT_ECT = 0, DP_ECN_ECT1 = 1, DP_ECN_ECT0 = 2, DP_ECN_CE = 3 };

static inline uint8_t dp_ip_ecn(const uint8_t *hdr, uint8_t family)
{
	return (family == DPSEC_AF_INET6 ? hdr[1] >> 4 : hdr[1]) & 3;
}

/* Sets a (valid) IP header's ECN field; the IPv4 checksum follows. */
static inline void dp_ip_set_ecn(uint8_t *hdr, uint8_t family, uint8_t ecn)
{
	uint16_t old_word, new_word;

	if (family == DPSEC_AF_INET6) {
		hdr[1] = (uint8_t)((hdr[1] & ~0x30) | ecn << 4);
		return;
	}
	memcpy(&old_word, hdr, 2);
	hdr[1] = (uint8_t)((hdr[1] & ~3) | ecn);
	memcpy(&new_word, hdr, 2);
	((struct rte_ipv4_hdr *)hdr)->hdr_checksum =
		dp_cksum_adjust16(((struct rte_ipv4_hdr *)hdr)->hdr_checksum, old_word, new_word);
}

/* RFC 6040 §4.2 (its Figure 4): the ECN field a packet leaves a tunnel
 * with, from its inner header's and the outer one's: congestion marked
 * on the way (CE), or ECT(1), carried into an ECN-capable inner header;
 * -1 when the outer says CE and the inner transport does not take ECN
 * (the packet must be dropped). *unused: a combination the RFC calls
 * currently unused, which an egress should log. */
static inline int dp_ecn_egress(uint8_t inner, uint8_t outer, bool *unused)
{
	*unused = (inner == DP_ECN_NOT_ECT && outer != DP_ECN_NOT_ECT) ||
		  (inner == DP_ECN_CE && outer == DP_ECN_ECT1);
	if (inner == DP_ECN_NOT_ECT)
		return outer == DP_ECN_CE ? -1 : DP_ECN_NOT_ECT;
	if (inner == DP_ECN_CE || outer == DP_ECN_NOT_ECT || outer == DP_ECN_ECT0)
		return inner;
	return outer;
}

/* A (valid) IPv4 header now carries proto and is total bytes long; its
 * checksum updated for the two words that changed rather than summed
 * again. */
static inline void dp_ipv4_set_proto_len(struct rte_ipv4_hdr *ip, uint8_t proto, uint16_t total)
{
	const uint8_t ttl_proto_new[2] = { ip->time_to_live, proto };
	uint16_t old_word, new_word, len = rte_cpu_to_be_16(total);
	uint16_t cksum = dp_cksum_adjust16(ip->hdr_checksum, ip->total_length, len);

	memcpy(&old_word, &ip->time_to_live, 2);
	memcpy(&new_word, ttl_proto_new, 2); /* the same word as the header holds it */
	ip->total_length = len;
	ip->next_proto_id = proto;
	ip->hdr_checksum = dp_cksum_adjust16(cksum, old_word, new_word);
}

/* Transport mode, ESP added or taken away: the packet's own IP header (of
 * family; IPv6 without extension headers) names what follows it and the
 * packet's new length, total bytes with the header. (AH sets these fields
 * itself: it rebuilds the IPv4 checksum after restoring the mutable fields
 * its ICV zeroed.) */
static inline void dp_ip_set_proto_len(uint8_t *hdr, uint8_t family, uint8_t proto, uint32_t total)
{
	if (family == DPSEC_AF_INET6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)hdr;

		ip->proto = proto;
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(total - sizeof(*ip)));
		return;
	}
	dp_ipv4_set_proto_len((struct rte_ipv4_hdr *)hdr, proto, (uint16_t)total);
}

/* Parses an IPv4 packet starting at the mbuf's data. Returns 0 or the drop
 * counter to charge. Trims link-layer padding beyond the total length. */
static inline int dp_parse_ipv4(struct rte_mbuf *m, struct dp_meta *md)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t hlen, tot;
	uint16_t frag;

	if (m->data_len < sizeof(*ip) || (ip->version_ihl >> 4) != 4)
		return DP_DROP_ipv4_malformed;
	hlen = (ip->version_ihl & 0xf) * 4u;
	tot = rte_be_to_cpu_16(ip->total_length);
	if (hlen < sizeof(*ip) || tot < hlen || tot > m->pkt_len)
		return DP_DROP_ipv4_malformed;
	if (hlen != sizeof(*ip))
		return DP_DROP_ipv4_options;
	if (dp_ipv4_hdr_sum20(ip) != 0xffff) /* one's complement sum of a valid header */
		return DP_DROP_ipv4_malformed;
	if (m->pkt_len > tot)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - tot));
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	md->family = DPSEC_AF_INET;
	md->l4proto = ip->next_proto_id;
	md->l3_len = (uint16_t)hlen;
	md->flags = (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) ? DP_M_FRAG : 0;
	if (frag & RTE_IPV4_HDR_OFFSET_MASK)
		md->flags |= DP_M_NOT_FIRST;
	md->key.k4.proto = ip->next_proto_id;
	memcpy(md->key.k4.src, &ip->src_addr, 4);
	memcpy(md->key.k4.dst, &ip->dst_addr, 4);
	dp_key_ports((uint8_t *)&md->key.k4.sport, (const uint8_t *)ip + hlen, tot - hlen,
		     md->l4proto, !(md->flags & DP_M_NOT_FIRST));
	return 0;
}

static inline bool dp_ipv6_is_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_FRAGMENT;
}

/* Walks IPv6 extension headers up to the upper-layer protocol (or ESP/AH). */
static inline int dp_parse_ipv6_ext(const uint8_t *p, uint32_t len, struct dp_meta *md)
{
	uint32_t off = sizeof(struct rte_ipv6_hdr);
	uint8_t nh = ((const struct rte_ipv6_hdr *)p)->proto;

	for (int n = 0; dp_ipv6_is_ext(nh); n++) {
		uint32_t elen;

		if (n == 8 || off + 8 > len)
			return DP_DROP_ipv6_malformed;
		if (nh == IPPROTO_FRAGMENT) {
			uint16_t fo = (uint16_t)(p[off + 2] << 8 | p[off + 3]);

			md->flags |= DP_M_FRAG;
			if (fo & 0xfff8)
				md->flags |= DP_M_NOT_FIRST;
			elen = 8;
		} else {
			elen = (p[off + 1] + 1u) * 8u;
		}
		if (off + elen > len)
			return DP_DROP_ipv6_malformed;
		nh = p[off];
		off += elen;
		if (md->flags & DP_M_NOT_FIRST)
			break; /* the middle of a packet follows: no header to read */
	}
	md->l4proto = nh;
	md->l3_len = (uint16_t)off;
	return 0;
}

static inline int dp_parse_ipv6(struct rte_mbuf *m, struct dp_meta *md)
{
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *);
	uint32_t tot;
	int rc;

	if (m->data_len < sizeof(*ip) || (rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6)
		return DP_DROP_ipv6_malformed;
	tot = sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
	if (tot > m->pkt_len || ip->payload_len == 0)
		return DP_DROP_ipv6_malformed;
	if (m->pkt_len > tot)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - tot));
	md->family = DPSEC_AF_INET6;
	md->flags = 0;
	rc = dp_parse_ipv6_ext((const uint8_t *)ip, tot, md);
	if (rc)
		return rc;
	md->key.k6.proto = md->l4proto;
	memcpy(md->key.k6.src, ip->src_addr, 16);
	memcpy(md->key.k6.dst, ip->dst_addr, 16);
	dp_key_ports((uint8_t *)&md->key.k6.sport, (const uint8_t *)ip + md->l3_len,
		     tot - md->l3_len, md->l4proto, !(md->flags & DP_M_NOT_FIRST));
	return 0;
}

/* Parses the IP packet at the mbuf's data (no link layer); the version
 * field decides the family (inner packets). */
static inline int dp_parse_ip(struct rte_mbuf *m, struct dp_meta *md)
{
	uint8_t v;

	if (m->data_len < 1)
		return DP_DROP_ipv4_malformed;
	v = *rte_pktmbuf_mtod(m, uint8_t *) >> 4;
	if (v == 6)
		return dp_parse_ipv6(m, md);
	return dp_parse_ipv4(m, md);
}

/* Parses a packet whose link layer announced family (the EtherType): the
 * version field must agree. */
static inline int dp_parse_ip_as(struct rte_mbuf *m, struct dp_meta *md, uint8_t family)
{
	return family == DPSEC_AF_INET6 ? dp_parse_ipv6(m, md) : dp_parse_ipv4(m, md);
}

/* Source address of the parsed packet (in the key). */
static inline const uint8_t *dp_meta_src(const struct dp_meta *md)
{
	return md->family == DPSEC_AF_INET6 ? md->key.k6.src : md->key.k4.src;
}

/* Destination address of the parsed packet (in the key). */
static inline const uint8_t *dp_meta_dst(const struct dp_meta *md)
{
	return md->family == DPSEC_AF_INET6 ? md->key.k6.dst : md->key.k4.dst;
}

/* A destination that is a group, not one host: multicast, and for IPv4
 * class E and the limited broadcast. dpsec routes none of them (RFC 1812
 * §5.3.5.1, §5.3.7) and answers none with an ICMP error. */
static inline bool dp_meta_to_group(const struct dp_meta *md)
{
	return md->family == DPSEC_AF_INET6 ? md->key.k6.dst[0] == 0xff : md->key.k4.dst[0] >= 224;
}

/* The first bytes of the IPv4 addresses dp_meta_bad_source or
 * dp_meta_stays_on_link may refuse: network 0, 127/8, 169 (169.254/16 is
 * link-local), multicast, class E and the limited broadcast. */
static const bool dp_v4_odd_first_byte[256] = {
	[0] = true, [127] = true, [169] = true, [224 ... 255] = true,
};

/* A cheap screen: false when neither address can be one that
 * dp_meta_bad_source or dp_meta_stays_on_link refuses, as for nearly
 * every packet; true: ask them. */
static inline bool dp_meta_odd_address(const struct dp_meta *md)
{
	const uint8_t s = dp_meta_src(md)[0], d = dp_meta_dst(md)[0];

	if (md->family != DPSEC_AF_INET6)
		return dp_v4_odd_first_byte[s] | dp_v4_odd_first_byte[d];
	return s == 0 || s == 0xff || s == 0xfe || d == 0 || d == 0xfe;
}

/* IPv6's unspecified (::) or loopback (::1) address. */
static inline bool dp_addr6_unspecified_or_loopback(const uint8_t *a)
{
	static const uint8_t zero[15];

	return memcmp(a, zero, sizeof(zero)) == 0 && a[15] <= 1;
}

/* An address no host has, as a packet's source (RFC 1812 §5.3.7, RFC 4291
 * §2.5.2, §2.5.3, §2.7): IPv4 network 0, 127/8, multicast, class E and
 * the limited broadcast; IPv6 unspecified, loopback and multicast. */
static inline bool dp_addr_bad_source(uint8_t family, const uint8_t *a)
{
	if (family != DPSEC_AF_INET6)
		return a[0] == 0 || a[0] == 127 || a[0] >= 224;
	return a[0] == 0xff || dp_addr6_unspecified_or_loopback(a);
}

/* The parsed packet's source is dp_addr_bad_source. */
static inline bool dp_meta_bad_source(const struct dp_meta *md)
{
	return dp_addr_bad_source(md->family, dp_meta_src(md));
}

/* Whether the parsed packet must stay on its link or its host, so that
 * no router forwards it: a link-local source or destination (IPv4
 * 169.254/16, RFC 3927 §7; IPv6 fe80::/10, RFC 4291 §2.5.6), or a
 * destination on IPv4 network 0 or 127/8 (RFC 1812 §5.3.7), or IPv6's
 * unspecified or loopback address (RFC 4291 §2.5.2, §2.5.3). */
static inline bool dp_meta_stays_on_link(const struct dp_meta *md)
{
	const uint8_t *s = dp_meta_src(md), *d = dp_meta_dst(md);

	if (md->family != DPSEC_AF_INET6)
		return d[0] == 0 || d[0] == 127 || (s[0] == 169 && s[1] == 254) ||
		       (d[0] == 169 && d[1] == 254);
	return (s[0] == 0xfe && (s[1] & 0xc0) == 0x80) || (d[0] == 0xfe && (d[1] & 0xc0) == 0x80) ||
	       dp_addr6_unspecified_or_loopback(d);
}

#endif
