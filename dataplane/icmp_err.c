/* icmp_err.c - the ICMP errors dpsecd sends. Path MTU for the packets it
 * protects (RFC 4301 §8.2): a packet that would exceed the MTU of the port
 * it leaves by once its SA's encapsulation is added is cut to the largest
 * that fits if it is IPv4 without DF in tunnel mode (frag.c); otherwise it
 * is dropped (too_big), and its source is told that size: "fragmentation
 * needed" for IPv4 with DF (RFC 792, RFC 1191), "packet too big" (RFC 4443
 * §3.2). The same for a packet forwarded in clear or decrypted that exceeds
 * its port's MTU (RFC 1812 §4.2.2.7 and §5.2.6). And "time exceeded" (RFC
 * 792, RFC 4443 §3.3) for a packet whose TTL or hop limit runs out here,
 * "destination unreachable" (net unreachable, no route to destination:
 * RFC 1812 §5.2.7.1, RFC 4443 §3.1) for one with no route.
 * From the gateway's address on the port the packet came in by; about a
 * decrypted packet, from its address on the protected side. Every error
 * is the gateway's own packet and the worker puts it through the outbound
 * policy (RFC 4301 §5: the SPD sees all traffic crossing the boundary):
 * a rule may block it or secure it; one about a decrypted packet leaves
 * only through a tunnel (in clear it would tell the outside about the
 * protected traffic). Never about an ICMP error, a later fragment or to a
 * source that is not one host; at most dataplane.icmp_errors_per_second
 * a second, icmp_error_burst at once, by all workers together (RFC 1812
 * §4.3.2.8, RFC 4443 §2.4 (f)). */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>

#include "dp.h"
#include "dp_pkt.h"
#include "esp.h"
#include "icmp_err.h"

#define ICMP4_UNREACH 3
#define ICMP4_NET_UNREACH 0
#define ICMP4_HOST_UNREACH 1
#define ICMP4_FRAG_NEEDED 4
#define ICMP4_TIME_EXCEEDED 11
#define ICMP6_UNREACH 1
#define ICMP6_NO_ROUTE 0
#define ICMP6_ADDR_UNREACH 3
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_FIRST_INFO 128            /* ICMPv6 types below are errors */
#define ICMP_HDR_LEN 8
#define ICMP4_QUOTE_MAX (576 - 20 - 8)  /* RFC 1812 §4.3.2.3: all within 576 bytes */
#define ICMP6_QUOTE_MAX (1280 - 40 - 8) /* RFC 4443 §2.4 (c): within the minimum MTU */
#define ICMP_TTL 64
#define ICMP4_TOS 0xc0                  /* internetwork control precedence */

void dp_icmp_err_setup(struct dp_ctx *dp)
{
	uint16_t mtu = UINT16_MAX;

	for (uint16_t i = 0; i < dp->n_ports; i++)
		if (dp->ports[i].role != DP_ROLE_HOST)
			mtu = RTE_MIN(mtu, dp->ports[i].mtu);
	dp->out_fits_len = mtu > DP_IPSEC_MAX_OVERHEAD ? mtu - DP_IPSEC_MAX_OVERHEAD : 0;
	dp_rate_set(&dp->icmp_rate, dp->cfg->opts.icmp_errors_per_s, dp->cfg->opts.icmp_error_burst,
		    rte_get_tsc_hz());
}

/* The packet's length once sa carries it: in tunnel mode all of it is
 * protected, in transport mode what follows its IP header (l3_len). */
static uint32_t encapsulated_len(const struct dp_sa *sa, uint32_t len, uint32_t l3_len)
{
	uint32_t kept = (sa->flags & DP_SA_TUNNEL) ? 0 : l3_len;
	uint32_t payload = len - kept, block = sa->block_len;

	if (sa->flags & DP_SA_AH)
		return len + sa->outer_len + dp_ah_len(sa);
	payload = (payload + ESP_TRAILER_LEN + block - 1) & ~(block - 1);
	return kept + sa->outer_len + ESP_HDR_LEN + sa->iv_len + payload + sa->icv_len;
}

/* The longest packet (no shorter than its IP header) that fits mtu once
 * encapsulated: from above the estimate down to the first that fits, the
 * length growing with the packet's. A port too small for any: the header. */
static uint32_t longest_fitting(const struct dp_sa *sa, uint32_t len, uint32_t l3_len, uint32_t mtu)
{
	uint32_t excess = encapsulated_len(sa, len, l3_len) - mtu;
	uint32_t l = len - excess + sa->block_len;

	if (excess >= len)
		return l3_len;

	while (l > l3_len && encapsulated_len(sa, l, l3_len) > mtu)
		l--;
	return l;
}

/* The MTU of the encapsulated packet's way out: of the port it leaves by
 * (the route to the tunnel's far end, or to the packet's own destination
 * in transport mode), or the path MTU routers reported for sa if lower
 * (tunnel_pmtu.c). No route: no port limit here (the packet is dropped as
 * no_route later). */
static uint32_t egress_mtu(const struct dp_sa *sa, const struct dp_meta *md, uint64_t now)
{
	const struct dp_nexthop *nh;

	if (!(sa->flags & DP_SA_TUNNEL))
		nh = dp_route_lookup(&dp_g->routes, md->family, dp_meta_dst(md));
	else if (sa->flags & DP_SA_OUTER6)
		nh = dp_route_lookup(&dp_g->routes, DPSEC_AF_INET6,
				     sa->outer + offsetof(struct rte_ipv6_hdr, dst_addr));
	else
		nh = dp_route_lookup(&dp_g->routes, DPSEC_AF_INET,
				     sa->outer + offsetof(struct rte_ipv4_hdr, dst_addr));
	return RTE_MIN(nh == NULL ? UINT32_MAX : dp_g->ports[nh->port].mtu, dp_sa_path_mtu(sa, now));
}

/* RFC 1122 §3.2.2: destination unreachable, source quench, redirect,
 * time exceeded, parameter problem; ICMPv6's errors are its types below
 * 128 (RFC 4443 §2.1). */
static bool is_icmp_error(const struct rte_mbuf *m, const struct dp_meta *md)
{
	const uint8_t *type = rte_pktmbuf_mtod_offset(m, const uint8_t *, md->l3_len);

	if (m->data_len < md->l3_len + 1u)
		return false;
	if (md->family == DPSEC_AF_INET6)
		return md->l4proto == IPPROTO_ICMPV6 && *type < ICMP6_FIRST_INFO;
	return md->l4proto == IPPROTO_ICMP &&
	       (*type == 3 || *type == 4 || *type == 5 || *type == 11 || *type == 12);
}

/* A source that is one host and not us (dp_addr_bad_source). */
static bool source_is_host(const uint8_t *src, uint8_t family)
{
	return !dp_local_addr(dp_g, family, src) && !dp_addr_bad_source(family, src);
}

static bool from_host(const struct dp_meta *md)
{
	return dp_g->ports[md->in_port].role == DP_ROLE_HOST;
}

/* Whether m is to the broadcast address of a connected IPv4 subnet, which
 * the route will drop (dp_nexthop_broadcast). */
static bool to_subnet_broadcast(const struct dp_meta *md)
{
	const struct dp_nexthop *nh;

	if (md->family != DPSEC_AF_INET)
		return false;
	nh = dp_route_lookup(&dp_g->routes, md->family, dp_meta_dst(md));
	return nh != NULL && dp_nexthop_broadcast(nh, dp_meta_dst(md));
}

/* Whether the source of m may be sent an error about it: never about an
 * ICMP error, a later fragment or a packet to a group or a subnet's
 * broadcast address (RFC 1812 §4.3.2.7, RFC 4443 §2.4 (e)), only to a
 * host. The host's own packets
 * are the kernel's business, but for one too big for the path MTU a
 * router reported for its SA (tunnel_pmtu.c): only the dataplane knows
 * that path, and without a word the host's path MTU discovery would
 * never learn it (its TCP would stall until the report aged out). */
static bool may_tell_source(const struct rte_mbuf *m, const struct dp_meta *md, bool too_big)
{
	if (from_host(md))
		return too_big && !(md->flags & DP_M_NOT_FIRST) && !is_icmp_error(m, md);
	if ((md->flags & DP_M_NOT_FIRST) || dp_meta_to_group(md) || is_icmp_error(m, md) ||
	    to_subnet_broadcast(md))
		return false;
	return source_is_host(dp_meta_src(md), md->family);
}

/* IPv6, or IPv4 with DF: a packet no router may fragment. IPv4 without
 * DF is fragmented, and its source expects no "fragmentation needed". */
static bool dont_fragment(const struct rte_mbuf *m, const struct dp_meta *md)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);

	return md->family == DPSEC_AF_INET6 ||
	       (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG));
}

/* The gateway's allowance, shared by the workers. */
static bool take_token(struct dp_worker *w)
{
	return dp_rate_take(&dp_g->icmp_rate, w->round_tsc);
}

/* The gateway's first address of family on network port (its index in
 * dp_ctx.ports is its configuration's), else its first of family at all. */
static bool gateway_addr(uint16_t port, uint8_t family, uint8_t *out)
{
	size_t len = family == DPSEC_AF_INET6 ? 16 : 4;

	for (uint32_t i = 0; port < dp_g->cfg->n_ports && i < dp_g->cfg->ports[port].n_addrs; i++) {
		const struct dpsec_addr *a = &dp_g->cfg->ports[port].addrs[i].addr;

		if (a->family == family) {
			memcpy(out, a->a, len);
			return true;
		}
	}
	if (family == DPSEC_AF_INET6 && dp_g->n_local6 > 0)
		memcpy(out, dp_g->local6[0], 16);
	else if (family == DPSEC_AF_INET && dp_g->n_local4 > 0)
		memcpy(out, &dp_g->local4[0], 4);
	else
		return false;
	return true;
}

/* The quoted header as it arrived: forwarding took one from its TTL or hop
 * limit (and, IPv4, changed its checksum) before the SA was known. */
static void quote_as_received(uint8_t *q, uint8_t family)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)q;
	uint16_t old_word, new_word;

	if (family == DPSEC_AF_INET6) {
		((struct rte_ipv6_hdr *)q)->hop_limits++;
		return;
	}
	memcpy(&old_word, &ip->time_to_live, 2);
	ip->time_to_live++;
	memcpy(&new_word, &ip->time_to_live, 2);
	ip->hdr_checksum = dp_cksum_adjust16(ip->hdr_checksum, old_word, new_word);
}

/* What an error says: its type and code, and the 32 bits after the
 * checksum (the MTU for the size errors, 0 otherwise: RFC 1191 puts the
 * 16-bit next-hop MTU in the low half). */
struct icmp_what {
	uint8_t type, code;
	uint32_t info;
	bool too_big; /* fragmentation needed, packet too big */
};

static void icmp_hdr(uint8_t *icmp, const struct icmp_what *what)
{
	memset(icmp, 0, ICMP_HDR_LEN);
	icmp[0] = what->type;
	icmp[1] = what->code;
	for (int i = 0; i < 4; i++)
		icmp[4 + i] = (uint8_t)(what->info >> (24 - 8 * i));
}

static void icmp4_fill(uint8_t *p, const uint8_t *src, const uint8_t *dst,
		       const struct icmp_what *what, const uint8_t *quote, uint32_t quote_len,
		       bool ttl_back)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	uint8_t *icmp = p + sizeof(*ip);
	uint16_t total = (uint16_t)(sizeof(*ip) + ICMP_HDR_LEN + quote_len), sum;

	/* DF: at most 576 bytes, never fragmented, so an identification of 0
	 * is unique enough (RFC 6864 §4.1) */
	*ip = (struct rte_ipv4_hdr){ .version_ihl = 0x45, .type_of_service = ICMP4_TOS,
				     .total_length = rte_cpu_to_be_16(total),
				     .fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG),
				     .time_to_live = ICMP_TTL, .next_proto_id = IPPROTO_ICMP };
	memcpy(&ip->src_addr, src, 4);
	memcpy(&ip->dst_addr, dst, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	icmp_hdr(icmp, what);
	memcpy(icmp + ICMP_HDR_LEN, quote, quote_len);
	if (ttl_back)
		quote_as_received(icmp + ICMP_HDR_LEN, DPSEC_AF_INET);
	sum = (uint16_t)~rte_raw_cksum(icmp, ICMP_HDR_LEN + quote_len);
	memcpy(icmp + 2, &sum, 2);
}

static void icmp6_fill(uint8_t *p, const uint8_t *src, const uint8_t *dst,
		       const struct icmp_what *what, const uint8_t *quote, uint32_t quote_len,
		       bool ttl_back)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;
	uint8_t *icmp = p + sizeof(*ip);
	uint16_t sum;

	*ip = (struct rte_ipv6_hdr){ .vtc_flow = rte_cpu_to_be_32(6u << 28),
				     .payload_len = rte_cpu_to_be_16((uint16_t)(ICMP_HDR_LEN + quote_len)),
				     .proto = IPPROTO_ICMPV6, .hop_limits = ICMP_TTL };
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
	icmp_hdr(icmp, what);
	memcpy(icmp + ICMP_HDR_LEN, quote, quote_len);
	if (ttl_back)
		quote_as_received(icmp + ICMP_HDR_LEN, DPSEC_AF_INET6);
	sum = rte_ipv6_udptcp_cksum(ip, icmp); /* the pseudo-header's sum included */
	memcpy(icmp + 2, &sum, 2);
}

/* How much of m an error quotes: all it may (RFC 1812 §4.3.2.3, RFC 4443
 * §2.4 (c)), less room for the encapsulation of one going back through a
 * tunnel, so that an ICMPv6 error fits a tunnel over a path of IPv6's
 * minimum MTU. */
static uint32_t quote_max(const struct dp_meta *md)
{
	uint32_t most = md->family == DPSEC_AF_INET6 ? ICMP6_QUOTE_MAX : ICMP4_QUOTE_MAX;

	return (md->flags & DP_M_FROM_SA) ? most - DP_IPSEC_MAX_OVERHEAD : most;
}

/* The first protected port: where a decrypted packet with no route would
 * have gone. */
static uint16_t first_protected_port(void)
{
	uint16_t p = 0;

	while (p + 1 < dp_g->n_ports && dp_g->ports[p].role != DP_ROLE_PROTECTED)
		p++;
	return p;
}

/* Where an error about m comes from: the gateway's address on the port m
 * came in by; for a decrypted packet, on the port it is routed to (the
 * protected side, whose addresses its tunnel's selectors cover; with no
 * route, the first protected port), as the error must go back through the
 * tunnel. To the host, m's destination (the host's stack would take one
 * from its own address for a martian). */
static bool error_source(const struct dp_meta *md, uint8_t *from)
{
	const struct dp_nexthop *nh;

	if (from_host(md)) {
		memcpy(from, dp_meta_dst(md), md->family == DPSEC_AF_INET6 ? 16 : 4);
		return true;
	}
	if (!(md->flags & DP_M_FROM_SA))
		return gateway_addr(md->in_port, md->family, from);
	nh = dp_route_lookup(&dp_g->routes, md->family, dp_meta_dst(md));
	return gateway_addr(nh != NULL ? nh->port : first_protected_port(), md->family, from);
}

/* The error what about m, from error_source to m's source, quoting m as
 * it arrived (ttl_back: forwarding already took one from its TTL); NULL
 * when there is no such address or no buffer. The gateway's own packet:
 * no TTL to take on its way out; one about a decrypted packet is marked
 * to leave only secured (DP_M_SECURE_ONLY). */
static struct rte_mbuf *icmp_error(const struct rte_mbuf *m, const struct dp_meta *md,
				   const struct icmp_what *what, bool ttl_back)
{
	bool v6 = md->family == DPSEC_AF_INET6;
	uint32_t hdr = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	uint32_t quote = RTE_MIN(m->data_len, quote_max(md));
	const uint8_t *src = dp_meta_src(md);
	uint8_t from[16];
	struct rte_mbuf *r;
	uint8_t *p;

	if (!error_source(md, from) || (r = rte_pktmbuf_alloc(dp_g->pool)) == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(r, (uint16_t)(hdr + ICMP_HDR_LEN + quote));
	if (p == NULL) {
		rte_pktmbuf_free(r);
		return NULL;
	}
	if (v6)
		icmp6_fill(p, from, src, what, rte_pktmbuf_mtod(m, const uint8_t *), quote, ttl_back);
	else
		icmp4_fill(p, from, src, what, rte_pktmbuf_mtod(m, const uint8_t *), quote, ttl_back);
	if (dp_parse_ip(r, dp_meta(r)) != 0) { /* fills the meta routing reads */
		rte_pktmbuf_free(r);
		return NULL;
	}
	dp_meta(r)->in_port = md->in_port;
	dp_meta(r)->flags |= DP_M_TTL_DONE;
	if (md->flags & DP_M_FROM_SA)
		dp_meta(r)->flags |= DP_M_SECURE_ONLY;
	return r;
}

/* The error what about m if its source may be told and the gateway's
 * allowance lets it, counted either way; NULL if none. */
static struct rte_mbuf *tell_source(struct dp_worker *w, struct rte_mbuf *m,
				    const struct icmp_what *what, bool ttl_back)
{
	const struct dp_meta *md = dp_meta(m);
	struct rte_mbuf *r;

	if (!may_tell_source(m, md, what->too_big))
		return NULL;
	if (!take_token(w)) {
		w->ctr->c[DP_C_icmp_errors_limited]++;
		return NULL;
	}
	r = icmp_error(m, md, what, ttl_back);
	if (r != NULL)
		w->ctr->c[DP_C_icmp_errors_sent]++;
	return r;
}

/* IPv4 without DF in tunnel mode may be cut before encapsulation (frag.c);
 * transport mode carries whole datagrams (cut after encapsulation), and
 * IPv6 is cut by its source. */
static bool may_cut(const struct rte_mbuf *m, const struct dp_meta *md, const struct dp_sa *sa)
{
	return (sa->flags & DP_SA_TUNNEL) && !dont_fragment(m, md);
}

/* m (mtu_left: the longest packet its way out takes) is dropped as too
 * big; IPv4 with DF and IPv6 have their source told that length (ttl_back:
 * the TTL was taken). Returns the error, or NULL. */
static struct rte_mbuf *drop_too_big(struct dp_worker *w, struct rte_mbuf *m, uint32_t mtu_left,
				     bool ttl_back)
{
	struct dp_meta *md = dp_meta(m);
	struct icmp_what what = { .info = mtu_left, .too_big = true };
	struct rte_mbuf *reply = NULL;

	if (md->family == DPSEC_AF_INET6) {
		what.type = ICMP6_PACKET_TOO_BIG;
		what.info = RTE_MAX(what.info, DP_IPV6_MIN_MTU); /* RFC 8201 §4: none below */
	} else {
		what.type = ICMP4_UNREACH;
		what.code = ICMP4_FRAG_NEEDED;
	}
	if (dont_fragment(m, md))
		reply = tell_source(w, m, &what, ttl_back);
	dp_drop(w, m, DP_DROP_too_big);
	return reply;
}

enum dp_fit dp_out_fits(struct dp_worker *w, struct rte_mbuf *m, const struct dp_sa *sa,
			struct rte_mbuf **reply, uint32_t *fit_len)
{
	struct dp_meta *md = dp_meta(m);
	uint32_t mtu, fits;

	*reply = NULL;
	/* transport mode, IPv4 without DF: encapsulated whole, its ESP packet
	 * (the datagram's header, no DF) cut to fit its port by the route step
	 * and beyond it by routers, whatever path MTU they reported */
	if (!(sa->flags & DP_SA_TUNNEL) && !dont_fragment(m, md))
		return DP_FIT_YES;
	mtu = egress_mtu(sa, md, w->round_tsc);
	if (encapsulated_len(sa, m->pkt_len, md->l3_len) <= mtu)
		return DP_FIT_YES;
	/* IPv6 the host's stack had cut to fit the exception interface, made
	 * whole for transport mode: its source cut it already, so it is not
	 * told; its ESP packet is cut instead, ours as the host's (RFC 8200
	 * §4.5), to fit the port and any path MTU reported for the SA. (IPv4
	 * made whole gets here only with DF, which its fragments carried:
	 * refused below, as any datagram with DF.) */
	if (md->family == DPSEC_AF_INET6 && !(sa->flags & DP_SA_TUNNEL) &&
	    (md->flags & DP_M_WHOLE_HERE)) {
		*fit_len = mtu;
		return DP_FIT_CUT_AFTER;
	}
	fits = longest_fitting(sa, m->pkt_len, md->l3_len, mtu);
	if (may_cut(m, md, sa)) {
		*fit_len = fits;
		return DP_FIT_CUT;
	}
	*reply = drop_too_big(w, m, fits, md->flags & DP_M_TTL_DONE);
	return DP_FIT_DROPPED;
}

enum dp_fit dp_port_fits(struct dp_worker *w, struct rte_mbuf *m, uint32_t mtu,
			 struct rte_mbuf **reply)
{
	*reply = NULL;
	if (!dont_fragment(m, dp_meta(m)))
		return DP_FIT_CUT;
	/* routed: every packet but the host's own (never told) had its TTL taken */
	*reply = drop_too_big(w, m, mtu, true);
	return DP_FIT_DROPPED;
}

struct rte_mbuf *dp_icmp_time_exceeded(struct dp_worker *w, struct rte_mbuf *m)
{
	bool v6 = dp_meta(m)->family == DPSEC_AF_INET6;
	struct icmp_what what = { .type = v6 ? ICMP6_TIME_EXCEEDED : ICMP4_TIME_EXCEEDED };

	return tell_source(w, m, &what, false); /* its TTL was not taken: it ran out */
}

struct rte_mbuf *dp_icmp_no_route(struct dp_worker *w, struct rte_mbuf *m)
{
	bool v6 = dp_meta(m)->family == DPSEC_AF_INET6;
	struct icmp_what what = { .type = v6 ? ICMP6_UNREACH : ICMP4_UNREACH,
				  .code = v6 ? ICMP6_NO_ROUTE : ICMP4_NET_UNREACH };

	return tell_source(w, m, &what, true); /* routed: its TTL was taken */
}

struct rte_mbuf *dp_icmp_host_unreachable(struct dp_worker *w, struct rte_mbuf *m)
{
	bool v6 = dp_meta(m)->family == DPSEC_AF_INET6;
	struct icmp_what what = { .type = v6 ? ICMP6_UNREACH : ICMP4_UNREACH,
				  .code = v6 ? ICMP6_ADDR_UNREACH : ICMP4_HOST_UNREACH };

	return tell_source(w, m, &what, true); /* routed: its TTL was taken */
}
