/* neigh_world.h - the world of the neighbour tests (test_neigh.c,
 * test_neigh_input.c): the manager's neighbour resolution (neigh.c) with
 * the real neighbour table, one port holding 192.0.2.1/24 and
 * 2001:db8:ff::1/64, no worker running (a frame the manager sends waits
 * in the inject ring, a packet it hands back in the reroute ring), and a
 * clock the test sets; the ARP and ND packets a neighbour sends, built
 * field by field, and what the manager answered. */
#ifndef NEIGH_WORLD_H
#define NEIGH_WORLD_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_ring.h>

#include "cfg.h"
#include "dp.h"
#include "dp_pkt.h"
#include "dp_rcu.h"
#include "dp_route.h"
#include "dp_test_worker.h"
#include "neigh.h"
#include "check_run.h"

#define ND_RA 134
#define ND_NS 135
#define ND_NA 136
#define ND_ROUTER 0x80
#define ND_SOLICITED 0x40
#define ND_OVERRIDE 0x20

static struct dp_ctx ctx;
static struct dp_worker worker;
static struct cfg_dataplane cfg;
static uint64_t hz, t0, now_tsc; /* now_tsc: when frames to the manager come */

static const uint8_t us4[4] = { 192, 0, 2, 1 };
static const uint8_t us6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 1 };
static const struct rte_ether_addr our_mac = { { 0x02, 0, 0, 0, 0, 1 } };
static const struct rte_ether_addr their_mac = { { 0x02, 0, 0, 0, 0, 0x77 } };

/* The gateway's IPv6 address tested for duplicates long before t0 (the
 * first round of announcements, 5 s earlier; what it sent freed): in use
 * from t0 on, the next rounds of announcements due; counters at 0. */
static inline void dad_passed(void)
{
	struct rte_mbuf *m;

	dp_neigh_announce(&ctx, t0 - 5 * hz);
	while (rte_ring_dequeue(ctx.inject, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	memset(&ctx.mgr_ctr, 0, sizeof(ctx.mgr_ctr));
}

/* The neighbour state as dpsecd starts, its port's link up: no address
 * tested, nothing announced, nothing learnt. */
static inline void restart(void)
{
	dp_neigh_fini(&ctx);
	ck_assert_int_eq(dp_neigh_init(&ctx), 0);
	dp_neigh_link(&ctx, 0, true);
	memset(&ctx.mgr_ctr, 0, sizeof(ctx.mgr_ctr));
}

static inline void setup(void)
{
	cfg.n_ports = 1;
	cfg.ports[0].n_addrs = 2;
	ck_assert_int_eq(cfg_parse_prefix("192.0.2.1/24", &cfg.ports[0].addrs[0]), 0);
	ck_assert_int_eq(cfg_parse_prefix("2001:db8:ff::1/64", &cfg.ports[0].addrs[1]), 0);
	cfg.opts.neighbour_reachable_s = 30;
	ctx.cfg = &cfg;
	ctx.ports[0].mac = our_mac;
	ck_assert_int_eq(dp_routes_init(&ctx.routes, "tneigh", SOCKET_ID_ANY), 0);
	ctx.inject = rte_ring_create("tneigh_inject", 64, SOCKET_ID_ANY, 0);
	ctx.reroute = rte_ring_create("tneigh_reroute", 64, SOCKET_ID_ANY, 0);
	ck_assert_ptr_nonnull(ctx.inject);
	ck_assert_ptr_nonnull(ctx.reroute);
	/* no worker registered: every grace period is over at once */
	ck_assert_int_eq(dp_rcu_init(&ctx, 64), 0);
	restart();
	hz = rte_get_tsc_hz();
	t0 = 1000 * hz;
	now_tsc = t0;
	dad_passed();
}

static inline void teardown(void)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(ctx.inject, (void **)&m) == 0 ||
	       rte_ring_dequeue(ctx.reroute, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(ctx.inject);
	rte_ring_free(ctx.reroute);
	dp_neigh_fini(&ctx);
	dp_rcu_fini(&ctx);
	dp_routes_fini(&ctx.routes);
}

/* Whether frame m asks for addr: an ARP request, or a neighbour
 * solicitation whose target it is. */
static inline bool asks_for(struct rte_mbuf *m, uint8_t family, const uint8_t *addr)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	if (family == DPSEC_AF_INET) {
		const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eth + 1);

		return eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) &&
		       arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) &&
		       memcmp(&arp->arp_data.arp_tip, addr, 4) == 0;
	}
	const uint8_t *icmp = (const uint8_t *)(eth + 1) + sizeof(struct rte_ipv6_hdr);

	return eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6) && icmp[0] == ND_NS &&
	       memcmp(icmp + 8, addr, 16) == 0;
}

/* How many requests for addr the manager sent since the last call (none
 * other may). */
static inline unsigned int requests_sent(uint8_t family, const uint8_t *addr)
{
	struct rte_mbuf *m;
	unsigned int n = 0;

	while (rte_ring_dequeue(ctx.inject, (void **)&m) == 0) {
		ck_assert_msg(asks_for(m, family, addr), "a frame that does not ask for the address");
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

/* The manager asked to resolve addr at TSC now: how many requests for it
 * went out. */
static inline unsigned int resolve(uint8_t family, const uint8_t *addr, uint64_t now)
{
	struct dp_resolve_req r = { .port = 0, .family = family };

	memcpy(r.addr, addr, family == DPSEC_AF_INET6 ? 16 : 4);
	dp_neigh_resolve(&ctx, &r, now);
	return requests_sent(family, addr);
}

static inline bool failed(uint8_t family, const uint8_t *addr)
{
	return dp_neigh_failed(&ctx.routes, 0, family, addr);
}

/* An mbuf holding len bytes of b for the manager, from port 0. */
static inline struct rte_mbuf *frame(const void *b, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), b, len);
	dp_meta(m)->in_port = 0;
	return m;
}

/* An ARP packet of op from addr with mac, asking for or answering tip. */
static inline void arp_from(uint16_t op, const uint8_t *addr, const struct rte_ether_addr *mac,
			    const uint8_t *tip)
{
	struct rte_ether_hdr eth = { .dst_addr = our_mac, .src_addr = *mac,
				     .ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) };
	struct rte_arp_hdr arp = { .arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER),
				   .arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4),
				   .arp_hlen = RTE_ETHER_ADDR_LEN, .arp_plen = 4,
				   .arp_opcode = rte_cpu_to_be_16(op) };
	uint8_t b[sizeof(eth) + sizeof(arp)];
	struct rte_mbuf *m;

	arp.arp_data.arp_sha = *mac;
	memcpy(&arp.arp_data.arp_sip, addr, 4);
	arp.arp_data.arp_tha = our_mac;
	memcpy(&arp.arp_data.arp_tip, tip, 4);
	memcpy(b, &eth, sizeof(eth));
	memcpy(b + sizeof(eth), &arp, sizeof(arp));
	m = frame(b, sizeof(b));
	dp_meta(m)->family = DPSEC_AF_NONE;
	dp_neigh_input(&ctx, m, now_tsc);
}

static inline void arp_reply_from(const uint8_t *addr)
{
	arp_from(RTE_ARP_OP_REPLY, addr, &their_mac, us4);
}

/* An ND message as a neighbour sends it; what the test varies. */
struct nd_msg {
	uint8_t type, code, flags, hop_limit;
	const uint8_t *src, *dst, *target;
	uint8_t opt;                       /* link-layer option type, 0: none */
	const struct rte_ether_addr *mac;  /* its address */
	bool empty_opt;                    /* an option of length 0 after it */
	bool bad_sum;
	const struct rte_ether_addr *eth_src; /* the frame's source; NULL: mac, or their_mac */
};

/* Sends n to the manager, in a frame whose Ethernet header it steps over
 * and parses the rest, as a worker would. */
static inline void nd_send(const struct nd_msg *n)
{
	uint8_t b[14 + 40 + 24 + 8 + 8];
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
	uint8_t *icmp = (uint8_t *)(ip + 1);
	uint16_t len = 24, sum;
	struct rte_mbuf *m;

	memset(b, 0, sizeof(b));
	eth->src_addr = n->eth_src != NULL ? *n->eth_src : n->mac != NULL ? *n->mac : their_mac;
	eth->dst_addr = our_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	if (n->opt != 0) {
		icmp[len] = n->opt;
		icmp[len + 1] = 1;
		memcpy(icmp + len + 2, n->mac->addr_bytes, RTE_ETHER_ADDR_LEN);
		len += 8;
	}
	if (n->empty_opt)
		len += 8; /* type 0, length 0 */
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(len);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = n->hop_limit;
	memcpy(ip->src_addr, n->src, 16);
	memcpy(ip->dst_addr, n->dst, 16);
	icmp[0] = n->type;
	icmp[1] = n->code;
	icmp[4] = n->flags;
	memcpy(icmp + 8, n->target, 16);
	sum = rte_ipv6_udptcp_cksum(ip, icmp) ^ (n->bad_sum ? 0x0100 : 0);
	memcpy(icmp + 2, &sum, 2);
	m = frame(b, sizeof(*eth) + sizeof(*ip) + len);
	rte_pktmbuf_adj(m, sizeof(*eth));
	ck_assert_int_eq(dp_parse_ip_as(m, dp_meta(m), DPSEC_AF_INET6), 0);
	dp_neigh_input(&ctx, m, now_tsc);
}

/* A solicited advertisement from addr with its MAC (and the override
 * flag), as an answer to our solicitation. */
static inline struct nd_msg na_msg(const uint8_t *addr)
{
	return (struct nd_msg){ .type = ND_NA, .flags = ND_SOLICITED | ND_OVERRIDE,
				.hop_limit = 255, .src = addr, .dst = us6, .target = addr,
				.opt = 2 /* target link-layer address */, .mac = &their_mac };
}

static inline void na_from(const uint8_t *addr)
{
	struct nd_msg n = na_msg(addr);

	nd_send(&n);
}

/* A solicitation from addr with its MAC for our address. */
static inline struct nd_msg ns_msg(const uint8_t *addr)
{
	return (struct nd_msg){ .type = ND_NS, .hop_limit = 255, .src = addr, .dst = us6,
				.target = us6, .opt = 1 /* source link-layer address */,
				.mac = &their_mac };
}

/* Frees whatever the manager sent. */
static inline void drain(void)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(ctx.inject, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

/* addr (of family) asks for our address: the manager learns it from
 * that; its answer is thrown away. */
static inline void told_by(uint8_t family, const uint8_t *addr)
{
	struct nd_msg n = ns_msg(addr);

	if (family == DPSEC_AF_INET)
		arp_from(RTE_ARP_OP_REQUEST, addr, &their_mac, us4);
	else
		nd_send(&n);
	drain();
}

/* addr's MAC is known, and it is no longer marked. */
static inline void learnt(uint8_t family, const uint8_t *addr)
{
	struct rte_ether_addr mac;

	ck_assert(dp_neigh_lookup(&ctx.routes, 0, family, addr, &mac));
	ck_assert(rte_is_same_ether_addr(&mac, &their_mac));
	ck_assert(!failed(family, addr));
}

/* A worker sends a packet to addr: it finds its MAC, and marks it in use. */
static inline void sent_to(uint8_t family, const uint8_t *addr)
{
	struct rte_ether_addr mac;

	ck_assert(dp_neigh_use(&ctx.routes, 0, family, addr, &mac));
	ck_assert(rte_is_same_ether_addr(&mac, &their_mac));
}

static inline uint64_t counter(int c)
{
	return ctx.mgr_ctr.c[c];
}

/* The suite of that name, its one test case (returned in tc) run with a
 * world made anew for each test. */
static inline Suite *neigh_suite(const char *name, TCase **tc)
{
	Suite *s = suite_create(name);

	*tc = tcase_create("core");
	dp_test_worker_init(&ctx, &worker, 1, 256);
	tcase_add_checked_fixture(*tc, setup, teardown);
	suite_add_tcase(s, *tc);
	return s;
}

#endif
