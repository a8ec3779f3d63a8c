/* fuzz_cut_and_errors.c - libFuzzer target for what dpsecd makes out of a
 * packet it forwards: its fragments when it does not fit the port it is
 * routed to (frag.c: IPv4 without DF cut to the port's MTU, the host's
 * IPv6 datagrams cut at their source), and the ICMP errors about it
 * (icmp_err.c: too big, time exceeded, no route, host unreachable).
 * Input byte 0 picks the port the packet came in by and which of these it
 * meets, byte 1 the MTU it must fit; the rest is the packet, parsed as a
 * worker parses it. Besides crashes and leaks (mbufs counted back into
 * their pool), the outputs are checked as a receiver would: each fragment
 * parses, fits the MTU, has the original's addresses, protocol and
 * identification, and their data put back together by offset is the
 * original's; each error parses, is no longer than RFC 1812 §4.3.2.3 /
 * RFC 4443 §2.4 allow, has a valid ICMP checksum, goes from the gateway
 * to the packet's source, and quotes the packet's start as it came. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "fuzz_eal.h"
#include "dp_pkt.h"
#include "dp_route.h"
#include "frag.h"
#include "icmp_err.h"
#include "ofl_engine.h"

#define POOL 128u
#define PKT_MAX 3000u
#define PORTS 3 /* protected, unprotected, the exception port */

static struct dp_ctx ctx;
static struct cfg_dataplane cfg;
static struct dp_worker worker;

static struct dpsec_prefix prefix(uint8_t family, const uint8_t *a, uint8_t len)
{
	struct dpsec_prefix p = { { family }, len };

	memcpy(p.addr.a, a, family == DPSEC_AF_INET6 ? 16 : 4);
	return p;
}

/* Port 0 10.1.0.1/24 and 2001:db8:1::1/64, port 1 192.0.2.1/24 and
 * 2001:db8:2::1/64, each subnet routed on-link; port 2 the host's. */
static void ports_and_routes(void)
{
	static const uint8_t a4[2][4] = { { 10, 1, 0, 1 }, { 192, 0, 2, 1 } };
	static const uint8_t a6[2][16] = { { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 },
					   { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 1 } };

	for (uint16_t p = 0; p < 2; p++) {
		struct dpsec_prefix v4 = prefix(DPSEC_AF_INET, a4[p], 24), v6 = prefix(DPSEC_AF_INET6, a6[p], 64);

		cfg.ports[p].n_addrs = 2;
		cfg.ports[p].addrs[0] = v4;
		cfg.ports[p].addrs[1] = v6;
		ctx.ports[p].role = p == 0 ? DP_ROLE_PROTECTED : DP_ROLE_UNPROTECTED;
		ctx.ports[p].mtu = 1500;
		memcpy(&ctx.local4[ctx.n_local4++], a4[p], 4);
		memcpy(ctx.local6[ctx.n_local6++], a6[p], 16);
		if (dp_route_add(&ctx.routes, &v4, p, NULL) < 0 || dp_route_add(&ctx.routes, &v6, p, NULL) < 0)
			abort();
	}
	ctx.ports[2].role = DP_ROLE_HOST;
	ctx.ports[2].mtu = 1500;
	ctx.n_ports = PORTS;
}

static void setup(void)
{
	cfg.n_ports = PORTS;
	cfg.opts.icmp_errors_per_s = 1000000;
	cfg.opts.icmp_error_burst = 100000;
	ctx.cfg = &cfg;
	ctx.n_workers = 1;
	dp_g = &ctx;
	ctx.pool = rte_pktmbuf_pool_create("fz", POOL, 0, DP_META_SIZE, 4096, SOCKET_ID_ANY);
	worker.ctr = rte_zmalloc(NULL, sizeof(*worker.ctr), 64);
	if (ctx.pool == NULL || worker.ctr == NULL || dp_routes_init(&ctx.routes, "fz", SOCKET_ID_ANY) < 0)
		abort();
	ports_and_routes();
	dp_icmp_err_setup(&ctx);
}

static uint32_t ip_hdr_len(const struct dp_meta *md)
{
	return md->family == DPSEC_AF_INET6 ? sizeof(struct rte_ipv6_hdr) : md->l3_len;
}

/* The ICMP error r about the packet orig (as it came, len bytes, its
 * parse md) must be what its source can take. */
static void check_error(struct rte_mbuf *r, const uint8_t *orig, uint32_t len, const struct dp_meta *md)
{
	const uint8_t *p = rte_pktmbuf_mtod(r, const uint8_t *);
	bool v6 = md->family == DPSEC_AF_INET6;
	uint32_t hdr = v6 ? 40 : 20, quote = r->pkt_len - hdr - 8;
	struct dp_meta rm;

	if (r->nb_segs != 1 || dp_parse_ip(r, &rm) != 0 || rm.family != md->family)
		abort();
	if (r->pkt_len > (v6 ? 1280u : 576u) || quote > len || quote < RTE_MIN(len, 8u + ip_hdr_len(md)))
		abort(); /* too long, or too short to name the flow */
	if (memcmp(dp_meta_dst(&rm), dp_meta_src(md), v6 ? 16 : 4) != 0 ||
	    (!dp_local_addr(&ctx, md->family, dp_meta_src(&rm)) && dp_g->ports[md->in_port].role != DP_ROLE_HOST))
		abort(); /* to the source, from the gateway (to the host: from where it sent) */
	if (v6 ? rte_ipv6_udptcp_cksum_verify((const struct rte_ipv6_hdr *)p, p + hdr) != 0
	       : rte_raw_cksum(p + hdr, r->pkt_len - hdr) != 0xffff || rte_ipv4_cksum((const void *)p) != 0)
		abort();
	for (uint32_t i = 0; i < quote; i++) /* as it came: but TTL or hop limit and the checksum */
		if (p[hdr + 8 + i] != orig[i] && (v6 ? i != 7 : i != 8 && i != 10 && i != 11))
			abort();
}

/* The more-fragments flag of an IPv4 packet, or of an IPv6 one's fragment
 * header right after its fixed header. */
static bool more_fragments_of(const uint8_t *p, bool v6)
{
	return v6 ? p[6] == IPPROTO_FRAGMENT && (p[43] & 1) : (p[6] & 0x20) != 0;
}

static bool more_fragments(const struct rte_mbuf *m, bool v6)
{
	return more_fragments_of(rte_pktmbuf_mtod(m, const uint8_t *), v6);
}

/* The fragments of orig (len bytes, its parse md) must be packets that
 * fit mtu and give its data back, by offset. */
static void check_fragments(struct rte_mbuf **f, uint16_t n, const uint8_t *orig, uint32_t len,
			    const struct dp_meta *md, uint32_t mtu)
{
	static uint8_t data[PKT_MAX];
	uint32_t hdr = ip_hdr_len(md), covered = 0;
	bool v6 = md->family == DPSEC_AF_INET6;

	for (uint16_t i = 0; i < n; i++) {
		struct dp_meta fm;
		uint32_t off, fhdr, flen;

		if (f[i]->nb_segs != 1 || f[i]->pkt_len > mtu || dp_parse_ip(f[i], &fm) != 0 ||
		    fm.family != md->family || memcmp(dp_meta_src(&fm), dp_meta_src(md), v6 ? 16 : 4) ||
		    memcmp(dp_meta_dst(&fm), dp_meta_dst(md), v6 ? 16 : 4))
			abort();
		fhdr = v6 ? 48 : fm.l3_len;
		flen = f[i]->pkt_len - fhdr;
		off = v6 ? (uint32_t)(rte_pktmbuf_mtod(f[i], const uint8_t *)[42] << 8 |
				      rte_pktmbuf_mtod(f[i], const uint8_t *)[43]) & ~7u
			 : (uint32_t)(rte_be_to_cpu_16(rte_pktmbuf_mtod(f[i], const struct rte_ipv4_hdr *)->fragment_offset)
				      & RTE_IPV4_HDR_OFFSET_MASK) * 8 -
				   (uint32_t)(rte_be_to_cpu_16(((const struct rte_ipv4_hdr *)orig)->fragment_offset)
				      & RTE_IPV4_HDR_OFFSET_MASK) * 8;
		if (off != covered || off + flen > len - hdr || more_fragments(f[i], v6) != (i + 1 < n || more_fragments_of(orig, v6)))
			abort(); /* in order, no gap, no overlap, nothing past the end; MF but on the last */
		memcpy(data + off, rte_pktmbuf_mtod_offset(f[i], const uint8_t *, fhdr), flen);
		covered += flen;
	}
	if (n > 0 && (covered != len - hdr || memcmp(data, orig + hdr, covered) != 0))
		abort();
}

static void free_all(struct rte_mbuf **m, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

/* m (a copy of orig, len bytes) cut to fit mtu as the send stage does:
 * IPv4 without DF is cut, IPv6 is cut as the host's datagrams are. */
static void cut(struct rte_mbuf *m, const uint8_t *orig, uint32_t len, uint32_t mtu)
{
	const struct dp_meta md = *dp_meta(m);
	struct rte_mbuf *frags[DP_FRAG_MAX], *reply = NULL;
	uint16_t n;

	if (md.family == DPSEC_AF_INET6) {
		n = dp_frag6_split(&worker, m, mtu, frags);
	} else if (dp_port_fits(&worker, m, mtu, &reply) == DP_FIT_CUT) {
		n = dp_frag4_split(&worker, m, mtu, DP_FRAG_TO_FIT_PORT, frags);
	} else {
		n = 0; /* dropped, as too big with DF */
	}
	check_fragments(frags, n, orig, len, &md, mtu);
	free_all(frags, n);
	if (reply != NULL) {
		check_error(reply, orig, len, &md);
		rte_pktmbuf_free(reply);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *m, *reply = NULL;
	uint32_t len, mtu;
	uint8_t what;

	if (size < 3 || size - 2 > PKT_MAX || (m = rte_pktmbuf_alloc(ctx.pool)) == NULL)
		return 0;
	memcpy(rte_pktmbuf_append(m, (uint16_t)(size - 2)), data + 2, size - 2);
	what = (uint8_t)(data[0] / PORTS % 4);
	mtu = 68 + data[1] * 8u; /* 68 .. 2108 */
	if (dp_parse_ip(m, dp_meta(m)) != 0) {
		rte_pktmbuf_free(m);
		return 0;
	}
	len = m->pkt_len; /* the parse cut what follows the IP packet */
	dp_meta(m)->in_port = data[0] % PORTS;
	worker.round_tsc = rte_rdtsc(); /* the errors' allowance refills */
	if (what == 0) {
		cut(m, data + 2, len, mtu);
	} else {
		reply = what == 1 ? dp_icmp_time_exceeded(&worker, m)
			: what == 2 ? dp_icmp_no_route(&worker, m) : dp_icmp_host_unreachable(&worker, m);
		if (reply != NULL) {
			check_error(reply, data + 2, len, dp_meta(m));
			rte_pktmbuf_free(reply);
		}
		rte_pktmbuf_free(m);
	}
	if (rte_mempool_avail_count(ctx.pool) != POOL)
		abort(); /* an mbuf lost (ASan does not see the pool's) */
	return 0;
}
