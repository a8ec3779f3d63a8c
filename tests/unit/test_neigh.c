/* test_neigh.c - the manager's neighbour resolution (neigh.c) with the
 * real neighbour table and a clock the test sets (neigh_world.h): an ARP
 * request or a neighbour solicitation for a next hop at most once a
 * second; three left unanswered a second apart and the next hop is marked
 * failed for the workers (dp_neigh_failed), no other next hop with it; an
 * answer (ARP reply, neighbour advertisement) teaches its MAC and clears
 * the mark; an address on no port's prefix is not asked for. A learnt
 * neighbour silent for neighbour_reachable_seconds that a packet went to
 * since it was last heard from (dp_neigh_use, as the workers send) is
 * asked again by unicast a second apart, kept while it answers, forgotten
 * after three unanswered (its table position reused after the grace
 * period); one no packet went to is stale, not asked, and forgotten after
 * twice that silence; a configured one is never asked. Packets wait for
 * their next hop's answer (eight of them, 64 next hops) and go back to be
 * routed; what show neighbours reads is published; a port whose link
 * goes down forgets what it learnt. Beside them, which
 * destinations the routes make a connected subnet's broadcast address.
 * What the manager believes of the packets it receives is
 * test_neigh_input.c's. */
#include "natt.h"
#include "neigh_world.h"

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

/* A NAT-T keepalive the manager sends to a peer on the link marks the
 * peer in use, as a worker's packet does: silent, it is asked again. */
START_TEST(test_keepalive_marks_in_use)
{
	static const uint8_t a[4] = { 192, 0, 2, 88 };
	struct dpsec_sa_conf c = { .encap = DPSEC_ENCAP_UDP, .udp_sport = 4500, .udp_dport = 4500 };
	struct dpsec_prefix link;

	ck_assert_int_eq(cfg_parse_prefix("192.0.2.0/24", &link), 0);
	ck_assert_int_ge(dp_route_add(&ctx.routes, &link, 0, NULL), 0);
	c.local.family = c.remote.family = DPSEC_AF_INET;
	memcpy(c.local.a, us4, 4);
	memcpy(c.remote.a, a, 4);
	told_by(DPSEC_AF_INET, a);
	dp_natt_ka_send(&ctx, &c);
	ck_assert_uint_eq(counter(DP_C_natt_keepalives_out), 1);
	drain();
	ck_assert_uint_eq(age_at(30000, DPSEC_AF_INET, a), 1);
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
 * asked longest ago, whose packets are freed; the next one taken over, a
 * failed next hop, has its failure forgotten with its place. */
START_TEST(test_held_place_taken)
{
	static const uint8_t a[4] = { 192, 0, 2, 93 }, f[4] = { 192, 0, 2, 92 };
	uint8_t b[4] = { 192, 0, 2, 0 };

	hand_over(DPSEC_AF_INET, a, routed_packet(DPSEC_AF_INET, a, 1), t0);
	for (uint64_t sec = 0; sec <= 3; sec++)
		resolve(DPSEC_AF_INET, f, t0 + 1 + sec * hz);
	ck_assert(failed(DPSEC_AF_INET, f)); /* last asked at 3 s */
	for (uint8_t i = 0; i < 62; i++) {
		b[3] = (uint8_t)(100 + i);
		resolve(DPSEC_AF_INET, b, t0 + 4 * hz + i);
	}
	ck_assert_uint_eq(counter(DP_C_neigh_held_dropped), 0);
	b[3] = 200;
	resolve(DPSEC_AF_INET, b, t0 + 5 * hz);
	ck_assert_uint_eq(counter(DP_C_neigh_held_dropped), 1);
	ck_assert(failed(DPSEC_AF_INET, f));
	b[3] = 201;
	resolve(DPSEC_AF_INET, b, t0 + 5 * hz + 1);
	ck_assert(!failed(DPSEC_AF_INET, f));
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

/* A failed next hop no packet wants any more is forgotten after 60 s, its
 * failure with it: no longer listed, and the next packet for it asks the
 * link again. One that packets keep wanting stays failed. */
START_TEST(test_unwanted_failure_forgotten)
{
	static const uint8_t a[4] = { 192, 0, 2, 79 }, b[4] = { 192, 0, 2, 80 };
	static struct dpsec_shm_neighs t;

	fails_after_three(DPSEC_AF_INET, a, b); /* last wanted at 3 s */
	for (uint64_t sec = 0; sec <= 3; sec++)
		ck_assert_uint_eq(resolve(DPSEC_AF_INET, b, t0 + sec * hz), 1);
	ck_assert(failed(DPSEC_AF_INET, b));
	ck_assert_uint_eq(resolve(DPSEC_AF_INET, b, t0 + 40 * hz), 1);
	/* wanted again, not asked: a second has not passed */
	ck_assert_uint_eq(resolve(DPSEC_AF_INET, b, t0 + 40 * hz + hz / 2), 0);
	dp_neigh_tick(&ctx, t0 + 63 * hz - 1);
	ck_assert(failed(DPSEC_AF_INET, a));
	dp_neigh_tick(&ctx, t0 + 63 * hz);
	ck_assert(!failed(DPSEC_AF_INET, a));
	ck_assert(failed(DPSEC_AF_INET, b));
	dp_neigh_publish(&ctx, &t, t0 + 63 * hz);
	ck_assert_ptr_null(published(&t, DPSEC_AF_INET, a));
	ck_assert_ptr_nonnull(published(&t, DPSEC_AF_INET, b));
	ck_assert_uint_eq(hand_over(DPSEC_AF_INET, a, routed_packet(DPSEC_AF_INET, a, 1),
				    t0 + 64 * hz), 1);
	ck_assert(!failed(DPSEC_AF_INET, a)); /* held while asked anew */
	dp_neigh_tick(&ctx, t0 + 100 * hz);
	ck_assert(failed(DPSEC_AF_INET, b)); /* last wanted at 40.5 s */
	dp_neigh_tick(&ctx, t0 + 100 * hz + hz / 2);
	ck_assert(!failed(DPSEC_AF_INET, b));
}
END_TEST

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

/* Whether the routes say dst (dotted) is a connected subnet's broadcast
 * address, as the workers' route stage asks (dp_nexthop_broadcast). */
static bool subnet_broadcast(const char *dst)
{
	struct dpsec_addr a;
	const struct dp_nexthop *nh;

	ck_assert_int_eq(cfg_parse_addr(dst, &a), 0);
	nh = dp_route_lookup(&ctx.routes, a.family, a.a);
	ck_assert_ptr_nonnull(nh);
	return dp_nexthop_broadcast(nh, a.a);
}

static void route(const char *dst, const char *via)
{
	struct dpsec_prefix p;
	struct dpsec_addr gw = { .family = DPSEC_AF_NONE };

	ck_assert_int_eq(cfg_parse_prefix(dst, &p), 0);
	if (via != NULL)
		ck_assert_int_eq(cfg_parse_addr(via, &gw), 0);
	ck_assert_int_ge(dp_route_add(&ctx.routes, &p, 0, &gw), 0);
}

/* A connected subnet of four addresses or more has a broadcast address,
 * all ones in its host bits (RFC 919, RFC 922), whatever the prefix's
 * length; /31 and /32 have none (RFC 3021), nor have a subnet through a
 * gateway (its own last hop decides, RFC 2644), its network address, or
 * IPv6. Each on-link prefix answers for its own length, even where two
 * share a port. */
START_TEST(test_subnet_broadcasts)
{
	route("10.8.0.0/16", NULL);
	route("10.9.4.0/30", NULL);
	route("10.9.5.0/31", NULL);
	route("10.9.6.7/32", NULL);
	route("172.16.0.0/12", "192.0.2.1");
	route("2001:db8:9::/64", NULL);
	ck_assert(subnet_broadcast("10.8.255.255"));
	ck_assert(!subnet_broadcast("10.8.0.255"));
	ck_assert(!subnet_broadcast("10.8.255.254"));
	ck_assert(!subnet_broadcast("10.8.0.0"));
	ck_assert(subnet_broadcast("10.9.4.3"));
	ck_assert(!subnet_broadcast("10.9.4.2"));
	ck_assert(!subnet_broadcast("10.9.5.1"));
	ck_assert(!subnet_broadcast("10.9.6.7"));
	ck_assert(!subnet_broadcast("172.31.255.255"));
	ck_assert(!subnet_broadcast("2001:db8:9::ffff:ffff:ffff:ffff"));
}
END_TEST

/* A port whose link goes down forgets what it learnt there (it may come
 * back on another link); configured neighbours stay, and so do another
 * port's; the link coming back forgets nothing more. */
START_TEST(test_link_down_forgets)
{
	static const uint8_t a4[4] = { 192, 0, 2, 91 }, kept4[4] = { 192, 0, 2, 92 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x91 };
	static const uint8_t other4[4] = { 198, 51, 100, 93 };

	told_by(DPSEC_AF_INET, a4);
	told_by(DPSEC_AF_INET6, a6);
	ck_assert_int_ge(dp_neigh_set(&ctx.routes, 0, DPSEC_AF_INET, kept4, &their_mac, true), 0);
	ck_assert_int_ge(dp_neigh_set(&ctx.routes, 1, DPSEC_AF_INET, other4, &their_mac, false), 0);
	learnt(DPSEC_AF_INET, a4);
	learnt(DPSEC_AF_INET6, a6);
	dp_neigh_link(&ctx, 0, false);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET, a4), DP_NEIGH_UNKNOWN);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET6, a6), DP_NEIGH_UNKNOWN);
	ck_assert_int_ne(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET, kept4), DP_NEIGH_UNKNOWN);
	ck_assert_int_ne(dp_neigh_known(&ctx.routes, 1, DPSEC_AF_INET, other4), DP_NEIGH_UNKNOWN);
	ck_assert_uint_eq(ctx.mgr_ctr.c[DP_C_neigh_link_down_forgotten], 2);
	dp_neigh_link(&ctx, 0, true);
	ck_assert_int_ne(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET, kept4), DP_NEIGH_UNKNOWN);
	ck_assert_uint_eq(ctx.mgr_ctr.c[DP_C_neigh_link_down_forgotten], 2);
	told_by(DPSEC_AF_INET, a4); /* learnt again on the link it came back to */
	learnt(DPSEC_AF_INET, a4);
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
	TCase *tc;
	Suite *s = neigh_suite("neigh", &tc);

	tcase_add_test(tc, test_ipv4);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_answered);
	tcase_add_test(tc, test_off_link);
	tcase_add_test(tc, test_subnet_broadcasts);
	tcase_add_test(tc, test_link_down_forgets);
	tcase_add_test(tc, test_silent_ipv4_forgotten);
	tcase_add_test(tc, test_silent_ipv6_forgotten);
	tcase_add_test(tc, test_unused_forgotten_unasked);
	tcase_add_test(tc, test_stale_used_asked);
	tcase_add_test(tc, test_keepalive_marks_in_use);
	tcase_add_test(tc, test_answer_keeps_it);
	tcase_add_test(tc, test_never_asked_when_off);
	tcase_add_test(tc, test_permanent_not_asked);
	tcase_add_test(tc, test_forgotten_make_room);
	tcase_add_test(tc, test_held_until_answered);
	tcase_add_test(tc, test_held_eight);
	tcase_add_test(tc, test_held_returned_unanswered);
	tcase_add_test(tc, test_held_place_taken);
	tcase_add_test(tc, test_unwanted_failure_forgotten);
	tcase_add_test(tc, test_published);
	tcase_add_test(tc, test_fini_frees_held);
	return check_run(s);
}
