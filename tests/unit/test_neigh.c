/* test_neigh.c - the manager's neighbour resolution (neigh.c) with the
 * real neighbour table and a clock the test sets: an ARP request or a
 * neighbour solicitation for a next hop at most once a second; three left
 * unanswered a second apart and the next hop is marked failed for the
 * workers (dp_neigh_failed), no other next hop with it; an answer (ARP
 * reply, neighbour advertisement) teaches its MAC and clears the mark; an
 * address on no port's prefix is not asked for. Answers nobody asked for
 * teach nothing; requests to us teach their sender. A gratuitous ARP
 * moves a known neighbour (RFC 826) and adds no unknown one; an
 * advertisement moves one only with the override flag, and confirms it
 * without a link-layer option when solicited; ND failing RFC 4861 §7.1's
 * checks, malformed ARP and router ND are counted and change nothing; a
 * configured neighbour is never changed. A learnt neighbour silent for
 * neighbour_reachable_seconds that a packet went to since it was last
 * heard from (dp_neigh_use, as the workers send) is asked again by
 * unicast a second apart, kept while it answers, forgotten after three
 * unanswered (its table position reused after the grace period); one no
 * packet went to is stale, not asked, and forgotten after twice that
 * silence; a configured one is never asked. */
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

static void setup(void)
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
	ck_assert_int_eq(dp_neigh_init(&ctx), 0);
	memset(&ctx.mgr_ctr, 0, sizeof(ctx.mgr_ctr));
	hz = rte_get_tsc_hz();
	t0 = 1000 * hz;
	now_tsc = t0;
}

static void teardown(void)
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
static bool asks_for(struct rte_mbuf *m, uint8_t family, const uint8_t *addr)
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
static unsigned int requests_sent(uint8_t family, const uint8_t *addr)
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
static unsigned int resolve(uint8_t family, const uint8_t *addr, uint64_t now)
{
	struct dp_resolve_req r = { .port = 0, .family = family };

	memcpy(r.addr, addr, family == DPSEC_AF_INET6 ? 16 : 4);
	dp_neigh_resolve(&ctx, &r, now);
	return requests_sent(family, addr);
}

static bool failed(uint8_t family, const uint8_t *addr)
{
	return dp_neigh_failed(&ctx.routes, 0, family, addr);
}

/* Three requests a second apart, none answered: failed at the fourth,
 * not a cycle before; other next hops are not. */
static void fails_after_three(uint8_t family, const uint8_t *addr, const uint8_t *other)
{
	ck_assert_uint_eq(resolve(family, addr, t0), 1);
	ck_assert_uint_eq(resolve(family, addr, t0 + hz / 2), 0); /* asked already */
	ck_assert_uint_eq(resolve(family, addr, t0 + hz), 1);
	ck_assert_uint_eq(resolve(family, addr, t0 + 2 * hz), 1);
	ck_assert_uint_eq(resolve(family, addr, t0 + 3 * hz - 1), 0);
	ck_assert(!failed(family, addr));
	ck_assert_uint_eq(resolve(family, addr, t0 + 3 * hz), 1); /* still asked */
	ck_assert(failed(family, addr));
	ck_assert(!failed(family, other));
}

/* An mbuf holding len bytes of b for the manager, from port 0. */
static struct rte_mbuf *frame(const void *b, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), b, len);
	dp_meta(m)->in_port = 0;
	return m;
}

/* An ARP packet of op from addr with mac, asking for or answering tip. */
static void arp_from(uint16_t op, const uint8_t *addr, const struct rte_ether_addr *mac,
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

static void arp_reply_from(const uint8_t *addr)
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
};

/* Sends n to the manager, parsed as a worker would. */
static void nd_send(const struct nd_msg *n)
{
	uint8_t b[40 + 24 + 8 + 8];
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)b;
	uint8_t *icmp = b + sizeof(*ip);
	uint16_t len = 24, sum;
	struct rte_mbuf *m;

	memset(b, 0, sizeof(b));
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
	m = frame(b, sizeof(*ip) + len);
	ck_assert_int_eq(dp_parse_ip_as(m, dp_meta(m), DPSEC_AF_INET6), 0);
	dp_neigh_input(&ctx, m, now_tsc);
}

/* A solicited advertisement from addr with its MAC (and the override
 * flag), as an answer to our solicitation. */
static struct nd_msg na_msg(const uint8_t *addr)
{
	return (struct nd_msg){ .type = ND_NA, .flags = ND_SOLICITED | ND_OVERRIDE,
				.hop_limit = 255, .src = addr, .dst = us6, .target = addr,
				.opt = 2 /* target link-layer address */, .mac = &their_mac };
}

static void na_from(const uint8_t *addr)
{
	struct nd_msg n = na_msg(addr);

	nd_send(&n);
}

/* A solicitation from addr with its MAC for our address. */
static struct nd_msg ns_msg(const uint8_t *addr)
{
	return (struct nd_msg){ .type = ND_NS, .hop_limit = 255, .src = addr, .dst = us6,
				.target = us6, .opt = 1 /* source link-layer address */,
				.mac = &their_mac };
}

static void drain(void);

/* addr (of family) asks for our address: the manager learns it from
 * that; its answer is thrown away. */
static void told_by(uint8_t family, const uint8_t *addr)
{
	struct nd_msg n = ns_msg(addr);

	if (family == DPSEC_AF_INET)
		arp_from(RTE_ARP_OP_REQUEST, addr, &their_mac, us4);
	else
		nd_send(&n);
	drain();
}

/* addr's MAC is known, and it is no longer marked. */
static void learnt(uint8_t family, const uint8_t *addr)
{
	struct rte_ether_addr mac;

	ck_assert(dp_neigh_lookup(&ctx.routes, 0, family, addr, &mac));
	ck_assert(rte_is_same_ether_addr(&mac, &their_mac));
	ck_assert(!failed(family, addr));
}

/* A worker sends a packet to addr: it finds its MAC, and marks it in use. */
static void sent_to(uint8_t family, const uint8_t *addr)
{
	struct rte_ether_addr mac;

	ck_assert(dp_neigh_use(&ctx.routes, 0, family, addr, &mac));
	ck_assert(rte_is_same_ether_addr(&mac, &their_mac));
}

START_TEST(test_ipv4)
{
	static const uint8_t a[4] = { 192, 0, 2, 77 }, b[4] = { 192, 0, 2, 78 };

	fails_after_three(DPSEC_AF_INET, a, b);
	ck_assert_uint_eq(resolve(DPSEC_AF_INET, b, t0 + 3 * hz), 1);
	arp_reply_from(b); /* another's answer leaves the mark */
	ck_assert(failed(DPSEC_AF_INET, a));
	arp_reply_from(a);
	learnt(DPSEC_AF_INET, a);
}
END_TEST

START_TEST(test_ipv6)
{
	static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x77 };
	static const uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x78 };

	fails_after_three(DPSEC_AF_INET6, a, b);
	na_from(a);
	learnt(DPSEC_AF_INET6, a);
}
END_TEST

/* An answer ends the count of unanswered requests: known, the next hop
 * is not asked for; forgotten and asked for again, it has three more
 * requests before it is marked. */
START_TEST(test_answered)
{
	static const uint8_t a[4] = { 192, 0, 2, 79 };
	struct dp_neigh_key k = { .port = 0, .family = DPSEC_AF_INET };

	ck_assert_uint_eq(resolve(DPSEC_AF_INET, a, t0), 1);
	ck_assert_uint_eq(resolve(DPSEC_AF_INET, a, t0 + hz), 1);
	arp_reply_from(a);
	learnt(DPSEC_AF_INET, a);
	ck_assert_uint_eq(resolve(DPSEC_AF_INET, a, t0 + 2 * hz), 0);
	memcpy(k.addr, a, 4);
	ck_assert_int_ge(dp_neigh_forget(&ctx.routes, &k), 0);
	ck_assert_uint_eq(resolve(DPSEC_AF_INET, a, t0 + 2 * hz), 1);
	ck_assert_uint_eq(resolve(DPSEC_AF_INET, a, t0 + 3 * hz), 1);
	ck_assert(!failed(DPSEC_AF_INET, a));
	ck_assert_uint_eq(resolve(DPSEC_AF_INET, a, t0 + 4 * hz), 1);
	ck_assert_uint_eq(resolve(DPSEC_AF_INET, a, t0 + 5 * hz), 1);
	ck_assert(failed(DPSEC_AF_INET, a));
}
END_TEST

static bool mac_of(const uint8_t *addr, const struct rte_ether_addr *want)
{
	struct rte_ether_addr mac;

	return dp_neigh_lookup(&ctx.routes, 0, DPSEC_AF_INET, addr, &mac) &&
	       rte_is_same_ether_addr(&mac, want);
}

/* RFC 826: a gratuitous ARP (a request for its own address, not for us)
 * moves a known neighbour to its new MAC (a failover), and teaches
 * nothing about an unknown one. */
START_TEST(test_gratuitous_arp)
{
	static const uint8_t a[4] = { 192, 0, 2, 80 }, b[4] = { 192, 0, 2, 81 };
	static const struct rte_ether_addr moved = { { 0x02, 0, 0, 0, 0, 0x88 } };

	told_by(DPSEC_AF_INET, a);
	ck_assert(mac_of(a, &their_mac));
	arp_from(RTE_ARP_OP_REQUEST, a, &moved, a);
	ck_assert(mac_of(a, &moved));
	arp_from(RTE_ARP_OP_REQUEST, b, &moved, b);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET, b), DP_NEIGH_UNKNOWN);
}
END_TEST

/* A configured neighbour keeps its MAC whatever the link says. */
START_TEST(test_permanent)
{
	static const uint8_t a[4] = { 192, 0, 2, 82 };
	static const struct rte_ether_addr configured = { { 0x02, 0, 0, 0, 0, 0x99 } };

	ck_assert_int_ge(dp_neigh_set(&ctx.routes, 0, DPSEC_AF_INET, a, &configured, true), 0);
	arp_reply_from(a);
	arp_from(RTE_ARP_OP_REQUEST, a, &their_mac, a);
	arp_from(RTE_ARP_OP_REQUEST, a, &their_mac, us4);
	ck_assert(mac_of(a, &configured));
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET, a), DP_NEIGH_PERMANENT);
}
END_TEST

/* The frames the manager sent since the last call: how many, each a
 * request for addr sent to its MAC (and, for IPv6, to its address). */
static unsigned int probes_sent(uint8_t family, const uint8_t *addr)
{
	struct rte_mbuf *m;
	unsigned int n = 0;

	while (rte_ring_dequeue(ctx.inject, (void **)&m) == 0) {
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);

		ck_assert_msg(asks_for(m, family, addr), "a frame that does not ask for the address");
		ck_assert_msg(rte_is_same_ether_addr(&eth->dst_addr, &their_mac),
			      "a request not sent to the MAC held");
		if (family == DPSEC_AF_INET6)
			ck_assert_msg(memcmp(ip->dst_addr, addr, 16) == 0,
				      "a solicitation not sent to the neighbour's address");
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

/* Frees whatever the manager sent. */
static void drain(void)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(ctx.inject, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

/* The manager's look at its neighbours at t0 + ms milliseconds: how many
 * requests it sent addr. */
static unsigned int age_at(uint64_t ms, uint8_t family, const uint8_t *addr)
{
	dp_neigh_tick(&ctx, t0 + ms * hz / 1000);
	return probes_sent(family, addr);
}

/* Learnt at t0, a packet sent to it, silent since: asked at 30 s, 31 s
 * and 32 s (not between), forgotten at 33 s; then a packet for it asks the
 * whole link. */
static void forgotten_after_three(uint8_t family, const uint8_t *addr)
{
	struct rte_ether_addr mac;

	sent_to(family, addr);
	ck_assert_uint_eq(age_at(29999, family, addr), 0);
	ck_assert_uint_eq(age_at(30000, family, addr), 1);
	ck_assert_uint_eq(age_at(30500, family, addr), 0);
	ck_assert_uint_eq(age_at(31000, family, addr), 1);
	ck_assert_uint_eq(age_at(32000, family, addr), 1);
	ck_assert(dp_neigh_lookup(&ctx.routes, 0, family, addr, &mac));
	ck_assert_uint_eq(age_at(33000, family, addr), 0);
	ck_assert(!dp_neigh_lookup(&ctx.routes, 0, family, addr, &mac));
	ck_assert_uint_eq(ctx.mgr_ctr.c[DP_C_neigh_probes], 3);
	ck_assert_uint_eq(ctx.mgr_ctr.c[DP_C_neigh_expired], 1);
	ck_assert_uint_eq(ctx.mgr_ctr.c[DP_C_neigh_stale_removed], 0);
	ck_assert_uint_eq(resolve(family, addr, t0 + 33 * hz), 1);
}

START_TEST(test_silent_ipv4_forgotten)
{
	static const uint8_t a[4] = { 192, 0, 2, 83 };

	told_by(DPSEC_AF_INET, a);
	forgotten_after_three(DPSEC_AF_INET, a);
}
END_TEST

START_TEST(test_silent_ipv6_forgotten)
{
	static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x83 };

	told_by(DPSEC_AF_INET6, a);
	forgotten_after_three(DPSEC_AF_INET6, a);
}
END_TEST

/* A neighbour that answers the second request is kept; silent for another
 * 30 s from its answer it is asked again only once a packet went to it
 * after the answer. */
START_TEST(test_answer_keeps_it)
{
	static const uint8_t a[4] = { 192, 0, 2, 84 };

	told_by(DPSEC_AF_INET, a);
	sent_to(DPSEC_AF_INET, a);
	ck_assert_uint_eq(age_at(30000, DPSEC_AF_INET, a), 1);
	ck_assert_uint_eq(age_at(31000, DPSEC_AF_INET, a), 1);
	now_tsc = t0 + 31500 * hz / 1000;
	arp_reply_from(a);
	ck_assert_uint_eq(age_at(33000, DPSEC_AF_INET, a), 0);
	ck_assert_uint_eq(age_at(61000, DPSEC_AF_INET, a), 0);
	learnt(DPSEC_AF_INET, a);
	ck_assert_uint_eq(age_at(61500, DPSEC_AF_INET, a), 0); /* stale: nothing sent since */
	sent_to(DPSEC_AF_INET, a);
	ck_assert_uint_eq(age_at(61750, DPSEC_AF_INET, a), 1);
	ck_assert_uint_eq(ctx.mgr_ctr.c[DP_C_neigh_expired], 0);
}
END_TEST

/* Learnt at t0 and no packet sent to it: never asked; stale from 30 s,
 * forgotten at 60 s (neigh_stale_removed). */
START_TEST(test_unused_forgotten_unasked)
{
	static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x87 };

	told_by(DPSEC_AF_INET6, a);
	for (uint64_t ms = 29000; ms < 60000; ms += 250)
		ck_assert_uint_eq(age_at(ms, DPSEC_AF_INET6, a), 0);
	learnt(DPSEC_AF_INET6, a);
	ck_assert_uint_eq(age_at(60000, DPSEC_AF_INET6, a), 0);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET6, a), DP_NEIGH_UNKNOWN);
	ck_assert_uint_eq(ctx.mgr_ctr.c[DP_C_neigh_stale_removed], 1);
	ck_assert_uint_eq(ctx.mgr_ctr.c[DP_C_neigh_probes], 0);
	ck_assert_uint_eq(ctx.mgr_ctr.c[DP_C_neigh_expired], 0);
}
END_TEST

/* A stale neighbour a packet goes to is asked at the next look, and
 * forgotten as unanswering (neigh_expired), not as unused. */
START_TEST(test_stale_used_asked)
{
	static const uint8_t a[4] = { 192, 0, 2, 87 };

	told_by(DPSEC_AF_INET, a);
	ck_assert_uint_eq(age_at(45000, DPSEC_AF_INET, a), 0);
	sent_to(DPSEC_AF_INET, a);
	ck_assert_uint_eq(age_at(45250, DPSEC_AF_INET, a), 1);
	ck_assert_uint_eq(age_at(46250, DPSEC_AF_INET, a), 1);
	ck_assert_uint_eq(age_at(47250, DPSEC_AF_INET, a), 1);
	ck_assert_uint_eq(age_at(48250, DPSEC_AF_INET, a), 0);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET, a), DP_NEIGH_UNKNOWN);
	ck_assert_uint_eq(ctx.mgr_ctr.c[DP_C_neigh_expired], 1);
	ck_assert_uint_eq(ctx.mgr_ctr.c[DP_C_neigh_stale_removed], 0);
}
END_TEST

/* neighbour_reachable_seconds 0: learnt neighbours are kept unasked. */
START_TEST(test_never_asked_when_off)
{
	static const uint8_t a[4] = { 192, 0, 2, 85 };

	cfg.opts.neighbour_reachable_s = 0;
	told_by(DPSEC_AF_INET, a);
	for (uint64_t s = 30; s < 40; s++)
		ck_assert_uint_eq(age_at(s * 1000, DPSEC_AF_INET, a), 0);
	learnt(DPSEC_AF_INET, a);
}
END_TEST

/* A configured neighbour is never asked nor forgotten. */
START_TEST(test_permanent_not_asked)
{
	static const uint8_t a[4] = { 192, 0, 2, 86 };

	ck_assert_int_ge(dp_neigh_set(&ctx.routes, 0, DPSEC_AF_INET, a, &their_mac, true), 0);
	for (uint64_t s = 30; s < 40; s++)
		ck_assert_uint_eq(age_at(s * 1000, DPSEC_AF_INET, a), 0);
	learnt(DPSEC_AF_INET, a);
}
END_TEST

/* The IPv6 address on the port's prefix numbered i. */
static void address6(uint32_t i, uint8_t a[16])
{
	memcpy(a, us6, 16);
	a[12] = 0x10;
	a[13] = (uint8_t)(i >> 16);
	a[14] = (uint8_t)(i >> 8);
	a[15] = (uint8_t)i;
}

/* Learns neighbours numbered from first until the table refuses one;
 * returns how many it took. */
static uint32_t fill_table(uint32_t first)
{
	uint64_t full = ctx.mgr_ctr.c[DP_C_neigh_table_full];
	uint8_t a[16];
	uint32_t n = 0;

	while (ctx.mgr_ctr.c[DP_C_neigh_table_full] == full) {
		ck_assert_uint_lt(n, 2 * DP_MAX_NEIGHBOURS);
		address6(first + n, a);
		told_by(DPSEC_AF_INET6, a);
		n++;
	}
	return n - 1;
}

/* A table filled with neighbours that then fall silent, no packet sent to
 * them, empties unasked, and its positions serve new ones: silent senders
 * cannot keep it full. */
START_TEST(test_forgotten_make_room)
{
	uint32_t n = fill_table(0), again;

	ck_assert_uint_ge(n, DP_MAX_NEIGHBOURS / 2);
	for (uint64_t s = 30; s <= 60; s++)
		ck_assert_uint_eq(age_at(s * 1000, DPSEC_AF_INET6, us6), 0);
	ck_assert_uint_eq(ctx.mgr_ctr.c[DP_C_neigh_stale_removed], n);
	dp_rcu_reclaim(&ctx);
	again = fill_table(0); /* the same neighbours come back, as many fit */
	ck_assert_uint_eq(again, n);
}
END_TEST

/* A packet to send to addr (of family), routed and ready but for its
 * Ethernet header: an IP header and 8 bytes numbered n. */
static struct rte_mbuf *routed_packet(uint8_t family, const uint8_t *addr, uint8_t n)
{
	uint8_t b[48] = { 0 };
	uint32_t len = family == DPSEC_AF_INET6 ? 48 : 28;
	struct rte_mbuf *m;

	if (family == DPSEC_AF_INET6) {
		b[0] = 0x60;
		b[5] = 8;
		b[6] = IPPROTO_UDP;
		b[7] = 64;
		memcpy(b + 24, addr, 16);
	} else {
		b[0] = 0x45;
		b[3] = 28;
		b[8] = 64;
		b[9] = IPPROTO_UDP;
		memcpy(b + 16, addr, 4);
	}
	memset(b + len - 8, n, 8);
	m = frame(b, len);
	dp_meta(m)->family = family;
	return m;
}

/* A worker found no MAC for addr and handed m over at now: how many
 * requests went out. */
static unsigned int hand_over(uint8_t family, const uint8_t *addr, struct rte_mbuf *m,
			      uint64_t now)
{
	struct dp_resolve_req r = { .port = 0, .family = family, .m = m };

	memcpy(r.addr, addr, family == DPSEC_AF_INET6 ? 16 : 4);
	dp_neigh_resolve(&ctx, &r, now);
	return requests_sent(family, addr);
}

/* The next packet handed back to be routed again is packet n of family,
 * as it was handed over. */
static void rerouted_packet(uint8_t family, uint8_t n)
{
	uint32_t len = family == DPSEC_AF_INET6 ? 48 : 28;
	struct rte_mbuf *m;

	ck_assert_int_eq(rte_ring_dequeue(ctx.reroute, (void **)&m), 0);
	ck_assert_uint_eq(m->pkt_len, len);
	ck_assert_uint_eq(dp_meta(m)->family, family);
	for (uint32_t i = len - 8; i < len; i++)
		ck_assert_uint_eq(rte_pktmbuf_mtod(m, const uint8_t *)[i], n);
	rte_pktmbuf_free(m);
}

static uint64_t counter(int c)
{
	return ctx.mgr_ctr.c[c];
}

/* Packets that found no MAC wait for the answer and then go back to be
 * routed, in order; one request for both. One handed over after the
 * answer goes back at once, nothing asked. */
START_TEST(test_held_until_answered)
{
	static const uint8_t a4[4] = { 192, 0, 2, 90 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x90 };

	ck_assert_uint_eq(hand_over(DPSEC_AF_INET, a4, routed_packet(DPSEC_AF_INET, a4, 1), t0), 1);
	ck_assert_uint_eq(hand_over(DPSEC_AF_INET, a4, routed_packet(DPSEC_AF_INET, a4, 2), t0), 0);
	ck_assert_uint_eq(hand_over(DPSEC_AF_INET6, a6, routed_packet(DPSEC_AF_INET6, a6, 3), t0), 1);
	ck_assert_uint_eq(rte_ring_count(ctx.reroute), 0);
	arp_reply_from(a4);
	rerouted_packet(DPSEC_AF_INET, 1);
	rerouted_packet(DPSEC_AF_INET, 2);
	ck_assert_uint_eq(rte_ring_count(ctx.reroute), 0);
	na_from(a6);
	rerouted_packet(DPSEC_AF_INET6, 3);
	/* learnt between the worker's look and the manager's: back at once */
	dp_neigh_resolve(&ctx, &(struct dp_resolve_req){ .port = 0, .family = DPSEC_AF_INET,
						      .addr = { 192, 0, 2, 90 },
						      .m = routed_packet(DPSEC_AF_INET, a4, 4) },
			 t0);
	rerouted_packet(DPSEC_AF_INET, 4);
	ck_assert_uint_eq(rte_ring_count(ctx.reroute), 0);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0);
	ck_assert_uint_eq(counter(DP_C_neigh_held), 4);
	ck_assert_uint_eq(counter(DP_C_neigh_held_sent), 4);
	ck_assert_uint_eq(counter(DP_C_neigh_held_dropped), 0);
}
END_TEST

/* Eight wait for one next hop; more are freed. */
START_TEST(test_held_eight)
{
	static const uint8_t a[4] = { 192, 0, 2, 91 };

	for (uint8_t n = 0; n < 10; n++)
		hand_over(DPSEC_AF_INET, a, routed_packet(DPSEC_AF_INET, a, n), t0);
	ck_assert_uint_eq(counter(DP_C_neigh_held), 8);
	ck_assert_uint_eq(counter(DP_C_neigh_held_dropped), 2);
	arp_reply_from(a);
	for (uint8_t n = 0; n < 8; n++)
		rerouted_packet(DPSEC_AF_INET, n);
	ck_assert_uint_eq(rte_ring_count(ctx.reroute), 0);
}
END_TEST

/* With packets waiting, the next hop is asked again a second apart with
 * no more packets coming; after three unanswered it is failed and they go
 * back to be routed (to host unreachable), and it is no longer asked. */
START_TEST(test_held_returned_unanswered)
{
	static const uint8_t a[4] = { 192, 0, 2, 92 };

	ck_assert_uint_eq(hand_over(DPSEC_AF_INET, a, routed_packet(DPSEC_AF_INET, a, 1), t0), 1);
	dp_neigh_tick(&ctx, t0 + hz / 2);
	ck_assert_uint_eq(requests_sent(DPSEC_AF_INET, a), 0);
	dp_neigh_tick(&ctx, t0 + hz);
	ck_assert_uint_eq(requests_sent(DPSEC_AF_INET, a), 1);
	dp_neigh_tick(&ctx, t0 + 2 * hz);
	ck_assert_uint_eq(requests_sent(DPSEC_AF_INET, a), 1);
	ck_assert(!failed(DPSEC_AF_INET, a));
	ck_assert_uint_eq(rte_ring_count(ctx.reroute), 0);
	dp_neigh_tick(&ctx, t0 + 3 * hz);
	ck_assert_uint_eq(requests_sent(DPSEC_AF_INET, a), 1);
	ck_assert(failed(DPSEC_AF_INET, a)); /* marked before it goes back */
	rerouted_packet(DPSEC_AF_INET, 1);
	ck_assert_uint_eq(counter(DP_C_neigh_held_unanswered), 1);
	ck_assert_uint_eq(counter(DP_C_neigh_held_dropped), 0);
	dp_neigh_tick(&ctx, t0 + 4 * hz);
	dp_neigh_tick(&ctx, t0 + 5 * hz);
	ck_assert_uint_eq(requests_sent(DPSEC_AF_INET, a), 0);
}
END_TEST

/* The 64 next hops being asked for: a 65th takes the place of the one
 * asked longest ago, whose packets are freed. */
START_TEST(test_held_place_taken)
{
	static const uint8_t a[4] = { 192, 0, 2, 93 };
	uint8_t b[4] = { 192, 0, 2, 0 };

	hand_over(DPSEC_AF_INET, a, routed_packet(DPSEC_AF_INET, a, 1), t0);
	for (uint8_t i = 0; i < 63; i++) {
		b[3] = (uint8_t)(100 + i);
		resolve(DPSEC_AF_INET, b, t0 + 1 + i);
	}
	ck_assert_uint_eq(counter(DP_C_neigh_held_dropped), 0);
	b[3] = 200;
	resolve(DPSEC_AF_INET, b, t0 + 100);
	ck_assert_uint_eq(counter(DP_C_neigh_held_dropped), 1);
	arp_reply_from(a); /* too late: not believed */
	ck_assert_uint_eq(rte_ring_count(ctx.reroute), 0);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET, a), DP_NEIGH_UNKNOWN);
	ck_assert_uint_eq(counter(DP_C_neigh_unsolicited), 1);
}
END_TEST

/* Packets still held when dpsecd stops are freed with the state. */
START_TEST(test_fini_frees_held)
{
	static const uint8_t a[4] = { 192, 0, 2, 98 };
	unsigned int in_use = rte_mempool_in_use_count(ctx.pool);

	hand_over(DPSEC_AF_INET, a, routed_packet(DPSEC_AF_INET, a, 1), t0);
	hand_over(DPSEC_AF_INET, a, routed_packet(DPSEC_AF_INET, a, 2), t0);
	ck_assert_uint_eq(rte_mempool_in_use_count(ctx.pool), in_use + 2);
	dp_neigh_fini(&ctx);
	ck_assert_uint_eq(rte_mempool_in_use_count(ctx.pool), in_use);
	ck_assert_int_eq(dp_neigh_init(&ctx), 0); /* for the teardown */
}
END_TEST

/* The published entry for addr, or NULL. */
static const struct dpsec_shm_neigh *published(const struct dpsec_shm_neighs *t, uint8_t family,
					       const uint8_t *addr)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->e[i].addr.family == family &&
		    memcmp(t->e[i].addr.a, addr, family == DPSEC_AF_INET6 ? 16 : 4) == 0)
			return &t->e[i];
	return NULL;
}

/* What show neighbours reads: a configured neighbour, learnt ones
 * (reachable, then probed, or stale if unused), one being asked for with
 * a packet waiting, one failed; one forgotten and learnt again is there
 * once. */
START_TEST(test_published)
{
	static const uint8_t conf[4] = { 192, 0, 2, 94 }, learnt4[4] = { 192, 0, 2, 95 };
	static const uint8_t asked[4] = { 192, 0, 2, 96 }, gone[4] = { 192, 0, 2, 97 };
	static const uint8_t learnt6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x95 };
	static const uint8_t unused6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x96 };
	static struct dpsec_shm_neighs t;
	const struct dpsec_shm_neigh *e;

	snprintf(cfg.ports[0].name, sizeof(cfg.ports[0].name), "lan");
	ck_assert_int_ge(dp_neigh_set(&ctx.routes, 0, DPSEC_AF_INET, conf, &their_mac, true), 0);
	told_by(DPSEC_AF_INET, learnt4);
	told_by(DPSEC_AF_INET6, learnt6);
	told_by(DPSEC_AF_INET6, unused6);
	sent_to(DPSEC_AF_INET, learnt4);
	sent_to(DPSEC_AF_INET6, learnt6);
	hand_over(DPSEC_AF_INET, asked, routed_packet(DPSEC_AF_INET, asked, 1), t0);
	fails_after_three(DPSEC_AF_INET, gone, asked);
	dp_neigh_tick(&ctx, t0 + 31 * hz); /* learnt4 and learnt6 asked once */
	drain();
	ck_assert(dp_neigh_changed(&ctx));
	dp_neigh_publish(&ctx, &t, t0 + 31 * hz);
	ck_assert(!dp_neigh_changed(&ctx));
	ck_assert_uint_eq(t.n, 6);
	ck_assert_uint_eq(t.n_ports, 1);
	ck_assert_str_eq(t.ports[0], "lan");
	ck_assert_ptr_nonnull(e = published(&t, DPSEC_AF_INET, conf));
	ck_assert_uint_eq(e->state, DPSEC_NEIGH_PERMANENT);
	ck_assert_mem_eq(e->mac, their_mac.addr_bytes, 6);
	ck_assert_ptr_nonnull(e = published(&t, DPSEC_AF_INET, learnt4));
	ck_assert_uint_eq(e->state, DPSEC_NEIGH_PROBE);
	ck_assert_uint_eq(e->asked, 1);
	ck_assert_uint_eq(e->silent_s, 31);
	ck_assert_mem_eq(e->mac, their_mac.addr_bytes, 6);
	ck_assert_ptr_nonnull(e = published(&t, DPSEC_AF_INET6, learnt6));
	ck_assert_uint_eq(e->state, DPSEC_NEIGH_PROBE);
	ck_assert_ptr_nonnull(e = published(&t, DPSEC_AF_INET6, unused6));
	ck_assert_uint_eq(e->state, DPSEC_NEIGH_STALE);
	ck_assert_uint_eq(e->asked, 0);
	ck_assert_uint_eq(e->silent_s, 31);
	ck_assert_ptr_nonnull(e = published(&t, DPSEC_AF_INET, asked));
	ck_assert_uint_eq(e->state, DPSEC_NEIGH_INCOMPLETE); /* asked at t0 and at the tick */
	ck_assert_uint_eq(e->asked, 2);
	ck_assert_uint_eq(e->held, 1);
	ck_assert_ptr_nonnull(e = published(&t, DPSEC_AF_INET, gone));
	ck_assert_uint_eq(e->state, DPSEC_NEIGH_FAILED);
	ck_assert_uint_eq(e->asked, 4);
	for (uint64_t s = 32; s <= 34; s++)
		dp_neigh_tick(&ctx, t0 + s * hz);
	drain();
	now_tsc = t0 + 35 * hz;
	told_by(DPSEC_AF_INET, learnt4); /* forgotten at 34 s, learnt again */
	ck_assert(dp_neigh_changed(&ctx));
	dp_neigh_publish(&ctx, &t, t0 + 35 * hz);
	ck_assert_uint_eq(t.n, 5); /* learnt6 forgotten */
	ck_assert_ptr_nonnull(e = published(&t, DPSEC_AF_INET, learnt4));
	ck_assert_uint_eq(e->state, DPSEC_NEIGH_REACHABLE);
	ck_assert_uint_eq(e->silent_s, 0);
	ck_assert_ptr_null(published(&t, DPSEC_AF_INET6, learnt6));
}
END_TEST

/* Answers nobody asked for teach nothing (counted); requests to us teach
 * their sender; a solicitation's sender off the port's prefix is not
 * learnt, though answered. */
START_TEST(test_unsolicited_not_believed)
{
	static const uint8_t a4[4] = { 192, 0, 2, 101 }, b4[4] = { 192, 0, 2, 102 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x65 };
	static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x66 };
	static const uint8_t off6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xee, [15] = 0x66 };
	struct nd_msg n = ns_msg(off6);

	arp_reply_from(a4);
	na_from(a6);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET, a4), DP_NEIGH_UNKNOWN);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET6, a6), DP_NEIGH_UNKNOWN);
	ck_assert_uint_eq(counter(DP_C_neigh_unsolicited), 2);
	told_by(DPSEC_AF_INET, b4);
	told_by(DPSEC_AF_INET6, b6);
	learnt(DPSEC_AF_INET, b4);
	learnt(DPSEC_AF_INET6, b6);
	nd_send(&n);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 1);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET6, off6), DP_NEIGH_UNKNOWN);
	ck_assert_uint_eq(counter(DP_C_neigh_unsolicited), 2);
}
END_TEST

/* Each message is refused and counted, and changes nothing: answers for
 * a next hop being asked for teach nothing, solicitations for our address
 * are not answered. */
START_TEST(test_nd_invalid)
{
	static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x67 };
	static const uint8_t unspecified[16];
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t group_of_us[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 1 };
	static const uint8_t group_of_other[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 2 };
	struct nd_msg bad[11], dad;
	const unsigned int n_bad = 11;

	ck_assert_uint_eq(resolve(DPSEC_AF_INET6, a, t0), 1);
	for (unsigned int i = 0; i < n_bad; i++)
		bad[i] = i < 6 ? na_msg(a) : ns_msg(a);
	bad[0].hop_limit = 254;
	bad[1].code = 1;
	bad[2].bad_sum = true;
	bad[3].empty_opt = true;
	bad[4].target = all_nodes;
	bad[5].dst = all_nodes; /* solicited, to a group */
	bad[6].hop_limit = 64;
	bad[7].code = 3;
	bad[8].empty_opt = true;
	bad[9].src = unspecified; /* with a source link-layer option */
	bad[9].dst = group_of_us;
	bad[10].src = unspecified;
	bad[10].dst = group_of_other;
	bad[10].opt = 0;
	for (unsigned int i = 0; i < n_bad; i++) {
		nd_send(&bad[i]);
		ck_assert_msg(counter(DP_C_neigh_invalid) == i + 1, "message %u not refused", i);
		ck_assert_msg(rte_ring_count(ctx.inject) == 0, "message %u answered", i);
		ck_assert_msg(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET6, a) == DP_NEIGH_UNKNOWN,
			      "message %u believed", i);
	}
	/* the same, well formed: believed and answered */
	dad = bad[9];
	dad.opt = 0;
	nd_send(&dad);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 1); /* duplicate address detection answered */
	drain();
	na_from(a);
	learnt(DPSEC_AF_INET6, a);
	ck_assert_uint_eq(counter(DP_C_neigh_invalid), n_bad);
}
END_TEST

/* ARP other than an Ethernet/IPv4 request or reply is refused, counted. */
START_TEST(test_arp_invalid)
{
	static const uint8_t a[4] = { 192, 0, 2, 103 };

	ck_assert_uint_eq(resolve(DPSEC_AF_INET, a, t0), 1);
	arp_from(3 /* RARP request */, a, &their_mac, us4);
	ck_assert_uint_eq(counter(DP_C_neigh_invalid), 1);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET, a), DP_NEIGH_UNKNOWN);
	arp_reply_from(a);
	learnt(DPSEC_AF_INET, a);
}
END_TEST

/* RFC 4861 §7.2.5: without the override flag an advertisement naming
 * another MAC leaves a known neighbour where it is (counted); with it,
 * moves it. */
START_TEST(test_nd_override)
{
	static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x68 };
	static const struct rte_ether_addr moved = { { 0x02, 0, 0, 0, 0, 0x88 } };
	struct nd_msg n = na_msg(a);
	struct rte_ether_addr mac;

	told_by(DPSEC_AF_INET6, a);
	n.mac = &moved;
	n.flags = ND_SOLICITED;
	nd_send(&n);
	ck_assert(dp_neigh_lookup(&ctx.routes, 0, DPSEC_AF_INET6, a, &mac));
	ck_assert(rte_is_same_ether_addr(&mac, &their_mac));
	ck_assert_uint_eq(counter(DP_C_neigh_ignored), 1);
	n.flags = ND_OVERRIDE; /* unsolicited, as after a failover */
	nd_send(&n);
	ck_assert(dp_neigh_lookup(&ctx.routes, 0, DPSEC_AF_INET6, a, &mac));
	ck_assert(rte_is_same_ether_addr(&mac, &moved));
}
END_TEST

/* Linux answers a unicast solicitation with a solicited advertisement
 * that has no link-layer option: that keeps a probed neighbour; an
 * unsolicited one without it does not. */
START_TEST(test_probe_answered_without_lladdr)
{
	static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x69 };
	static const uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x6a };
	struct nd_msg n = na_msg(a), m = na_msg(b);

	told_by(DPSEC_AF_INET6, a);
	told_by(DPSEC_AF_INET6, b);
	sent_to(DPSEC_AF_INET6, a);
	sent_to(DPSEC_AF_INET6, b);
	dp_neigh_tick(&ctx, t0 + 30 * hz);
	drain();
	now_tsc = t0 + 30500 * hz / 1000;
	n.opt = 0;
	n.flags = ND_SOLICITED;
	nd_send(&n);
	m.opt = 0;
	m.flags = ND_OVERRIDE;
	nd_send(&m);
	for (uint64_t ms = 31000; ms <= 33000; ms += 1000)
		dp_neigh_tick(&ctx, t0 + ms * hz / 1000);
	drain();
	learnt(DPSEC_AF_INET6, a);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET6, b), DP_NEIGH_UNKNOWN);
	ck_assert_uint_eq(counter(DP_C_neigh_expired), 1);
}
END_TEST

/* A unicast solicitation without a link-layer option is answered at the
 * MAC held for its sender; from an unknown sender, not at all. Router
 * ND is ignored, counted. */
START_TEST(test_ns_without_lladdr)
{
	static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x6b };
	static const uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x6c };
	struct nd_msg n = ns_msg(a), ra = na_msg(a);
	struct rte_mbuf *m;

	told_by(DPSEC_AF_INET6, a);
	n.opt = 0;
	nd_send(&n);
	ck_assert_int_eq(rte_ring_dequeue(ctx.inject, (void **)&m), 0);
	ck_assert(rte_is_same_ether_addr(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr,
					 &their_mac));
	ck_assert_uint_eq(rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 40)[0], ND_NA);
	rte_pktmbuf_free(m);
	n.src = b;
	nd_send(&n);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0);
	ra.type = ND_RA;
	nd_send(&ra);
	ck_assert_uint_eq(counter(DP_C_neigh_ignored), 1);
	ck_assert_uint_eq(counter(DP_C_neigh_invalid), 0);
}
END_TEST

/* The next frame the manager sent: an unsolicited advertisement of
 * target to all nodes with the override flag and our MAC, router flag as
 * router says. */
static void advertised(const uint8_t *target, bool router)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const struct rte_ether_addr all_nodes_mac = { { 0x33, 0x33, 0, 0, 0, 1 } };
	struct rte_mbuf *m;
	const struct rte_ether_hdr *eth;
	const struct rte_ipv6_hdr *ip;
	const uint8_t *icmp;

	ck_assert_int_eq(rte_ring_dequeue(ctx.inject, (void **)&m), 0);
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	ip = (const struct rte_ipv6_hdr *)(eth + 1);
	icmp = (const uint8_t *)(ip + 1);
	ck_assert(rte_is_same_ether_addr(&eth->dst_addr, &all_nodes_mac));
	ck_assert(rte_is_same_ether_addr(&eth->src_addr, &our_mac));
	ck_assert_mem_eq(ip->src_addr, target, 16);
	ck_assert_mem_eq(ip->dst_addr, all_nodes, 16);
	ck_assert_uint_eq(ip->hop_limits, 255);
	ck_assert_uint_eq(icmp[0], ND_NA);
	ck_assert_uint_eq(icmp[4], ND_OVERRIDE | (router ? ND_ROUTER : 0));
	ck_assert_mem_eq(icmp + 8, target, 16);
	ck_assert_uint_eq(icmp[24], 2); /* target link-layer address: ours */
	ck_assert_mem_eq(icmp + 26, our_mac.addr_bytes, 6);
	ck_assert_uint_eq(rte_ipv6_udptcp_cksum_verify(ip, icmp), 0);
	rte_pktmbuf_free(m);
}

/* The next frame the manager sent: a gratuitous ARP request for addr
 * (RFC 5227's announcement), broadcast, from our MAC. */
static void announced4(const uint8_t *addr)
{
	static const struct rte_ether_addr zero;
	struct rte_mbuf *m;
	const struct rte_ether_hdr *eth;
	const struct rte_arp_hdr *arp;

	ck_assert_int_eq(rte_ring_dequeue(ctx.inject, (void **)&m), 0);
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	arp = (const struct rte_arp_hdr *)(eth + 1);
	ck_assert(rte_is_broadcast_ether_addr(&eth->dst_addr));
	ck_assert(rte_is_same_ether_addr(&eth->src_addr, &our_mac));
	ck_assert_uint_eq(arp->arp_opcode, rte_cpu_to_be_16(RTE_ARP_OP_REQUEST));
	ck_assert(rte_is_same_ether_addr(&arp->arp_data.arp_sha, &our_mac));
	ck_assert(rte_is_same_ether_addr(&arp->arp_data.arp_tha, &zero));
	ck_assert_mem_eq(&arp->arp_data.arp_sip, addr, 4);
	ck_assert_mem_eq(&arp->arp_data.arp_tip, addr, 4);
	rte_pktmbuf_free(m);
}

/* Our addresses are announced three times a second apart, from the
 * first call on, and never again; with one network port the
 * advertisements carry no router flag. */
START_TEST(test_announced)
{
	for (uint64_t ms = 0; ms <= 4000; ms += 250) {
		dp_neigh_announce(&ctx, t0 + ms * hz / 1000);
		if (ms == 0 || ms == 1000 || ms == 2000) {
			announced4(us4);
			advertised(us6, false);
		}
		ck_assert_msg(rte_ring_count(ctx.inject) == 0, "more sent at %u ms", (unsigned)ms);
	}
	ck_assert_uint_eq(counter(DP_C_neigh_announced), 6);
}
END_TEST

/* With two network ports the gateway routes: its advertisements, answers
 * and announcements alike, carry the router flag (RFC 4861 §7.2.4). */
START_TEST(test_router_flag)
{
	static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x6d };
	struct nd_msg n = ns_msg(a);
	struct rte_mbuf *m;

	cfg.n_ports = 2;
	nd_send(&n);
	ck_assert_int_eq(rte_ring_dequeue(ctx.inject, (void **)&m), 0);
	ck_assert_uint_eq(rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 40 + 4)[0],
			  ND_ROUTER | ND_SOLICITED | ND_OVERRIDE);
	rte_pktmbuf_free(m);
	dp_neigh_announce(&ctx, t0);
	announced4(us4);
	advertised(us6, true);
}
END_TEST

/* Another MAC claiming one of our addresses (ARP sender, solicitation
 * source, advertisement target) is a duplicate on the link: counted,
 * never learnt nor answered; the address is announced again at once, and
 * then at most every 10 s a port. */
START_TEST(test_address_conflict)
{
	static const struct rte_ether_addr dup = { { 0x02, 0, 0, 0, 0, 0x66 } };
	struct nd_msg ns = ns_msg(us6), na = na_msg(us6);

	arp_from(RTE_ARP_OP_REQUEST, us4, &dup, us4); /* a gratuitous ARP for our address */
	ck_assert_uint_eq(counter(DP_C_neigh_address_conflicts), 1);
	announced4(us4);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET, us4), DP_NEIGH_UNKNOWN);
	ns.mac = &dup;
	ns.target = us6;
	nd_send(&ns); /* from our address: no answer, nothing learnt */
	na.mac = &dup;
	na.flags = ND_OVERRIDE;
	na.dst = us6;
	nd_send(&na);
	ck_assert_uint_eq(counter(DP_C_neigh_address_conflicts), 3);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET6, us6), DP_NEIGH_UNKNOWN);
	now_tsc = t0 + 10 * hz;
	nd_send(&na);
	advertised(us6, false);
	ck_assert_uint_eq(counter(DP_C_neigh_address_conflicts), 4);
	ck_assert_uint_eq(counter(DP_C_neigh_announced), 2);
	/* our own frames, seen again, are no conflict */
	arp_from(RTE_ARP_OP_REQUEST, us4, &our_mac, us4);
	ck_assert_uint_eq(counter(DP_C_neigh_address_conflicts), 4);
}
END_TEST

START_TEST(test_off_link)
{
	static const uint8_t a[4] = { 198, 51, 100, 7 };

	ck_assert_uint_eq(resolve(DPSEC_AF_INET, a, t0), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("neigh");
	TCase *tc = tcase_create("core");

	dp_test_worker_init(&ctx, &worker, 1, 256);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ipv4);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_answered);
	tcase_add_test(tc, test_gratuitous_arp);
	tcase_add_test(tc, test_permanent);
	tcase_add_test(tc, test_off_link);
	tcase_add_test(tc, test_silent_ipv4_forgotten);
	tcase_add_test(tc, test_silent_ipv6_forgotten);
	tcase_add_test(tc, test_unused_forgotten_unasked);
	tcase_add_test(tc, test_stale_used_asked);
	tcase_add_test(tc, test_answer_keeps_it);
	tcase_add_test(tc, test_never_asked_when_off);
	tcase_add_test(tc, test_permanent_not_asked);
	tcase_add_test(tc, test_forgotten_make_room);
	tcase_add_test(tc, test_held_until_answered);
	tcase_add_test(tc, test_held_eight);
	tcase_add_test(tc, test_held_returned_unanswered);
	tcase_add_test(tc, test_held_place_taken);
	tcase_add_test(tc, test_published);
	tcase_add_test(tc, test_fini_frees_held);
	tcase_add_test(tc, test_unsolicited_not_believed);
	tcase_add_test(tc, test_nd_invalid);
	tcase_add_test(tc, test_arp_invalid);
	tcase_add_test(tc, test_nd_override);
	tcase_add_test(tc, test_probe_answered_without_lladdr);
	tcase_add_test(tc, test_ns_without_lladdr);
	tcase_add_test(tc, test_announced);
	tcase_add_test(tc, test_router_flag);
	tcase_add_test(tc, test_address_conflict);
	suite_add_tcase(s, tc);
	return check_run(s);
}
