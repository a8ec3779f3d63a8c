/* test_neigh_input.c - what the manager (neigh.c) believes of the ARP and
 * ND packets it receives, and what it sends of its own, in the world of
 * neigh_world.h. Answers nobody asked for teach nothing; requests to us
 * teach their sender. A gratuitous ARP moves a known neighbour (RFC 826)
 * and adds no unknown one, a second ARP answer within a second does not;
 * an advertisement moves one only with the override flag, and confirms it
 * without a link-layer option when solicited; ND failing RFC 4861 §7.1's
 * checks, malformed ARP and router ND are counted and change nothing; a
 * configured neighbour is never changed. The gateway's addresses are announced three times at start,
 * its advertisements carry the router flag when it routes, and another
 * MAC claiming one of them is a conflict, defended. */
#include <arpa/inet.h>

#include "neigh_wire.h"
#include "neigh_world.h"

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

/* Two answers to one request: the first is kept for a second after the
 * neighbour last spoke (counted), as Linux's locktime does, whether it
 * answered a request of ours or only spoke to us; after that second an
 * answer moves it. A gratuitous ARP, or a request to us, moves it at once
 * (a failover, a host that changed its card). */
START_TEST(test_second_answer)
{
	static const uint8_t a[4] = { 192, 0, 2, 83 }, b[4] = { 192, 0, 2, 84 };
	static const struct rte_ether_addr proxy = { { 0x02, 0, 0, 0, 0, 0x55 } };
	static const struct rte_ether_addr moved = { { 0x02, 0, 0, 0, 0, 0x88 } };
	uint64_t ms = hz / 1000;

	ck_assert_uint_eq(resolve(DPSEC_AF_INET, a, t0), 1);
	arp_reply_from(a);
	now_tsc = t0 + 1 * ms;
	arp_from(RTE_ARP_OP_REPLY, a, &proxy, us4);
	ck_assert(mac_of(a, &their_mac));
	ck_assert_uint_eq(counter(DP_C_neigh_second_answers), 1);
	now_tsc = t0 + 999 * ms;
	arp_from(RTE_ARP_OP_REPLY, a, &proxy, us4);
	arp_from(RTE_ARP_OP_REQUEST, a, &proxy, b); /* asking for someone else */
	ck_assert(mac_of(a, &their_mac));
	ck_assert_uint_eq(counter(DP_C_neigh_second_answers), 3);
	now_tsc = t0 + 1000 * ms;
	arp_from(RTE_ARP_OP_REPLY, a, &proxy, us4);
	ck_assert(mac_of(a, &proxy));
	/* heard from just now: a gratuitous ARP, then a request to us, move it */
	arp_from(RTE_ARP_OP_REQUEST, a, &moved, a);
	ck_assert(mac_of(a, &moved));
	now_tsc += ms;
	told_by(DPSEC_AF_INET, a);
	ck_assert(mac_of(a, &their_mac));
	ck_assert_uint_eq(counter(DP_C_neigh_second_answers), 3);
	/* the same MAC again is no second answer */
	arp_reply_from(a);
	ck_assert_uint_eq(counter(DP_C_neigh_second_answers), 3);
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

/* The next frame the manager sent, an ND message from our MAC to eth_dst
 * from src to dst, hop limit 255, checksum right, about target: its
 * ICMPv6 part (*m to be freed). */
static const uint8_t *nd_sent(struct rte_mbuf **m, const struct rte_ether_addr *eth_dst,
			      const uint8_t *src, const uint8_t *dst, const uint8_t *target)
{
	const struct rte_ether_hdr *eth;
	const struct rte_ipv6_hdr *ip;
	const uint8_t *icmp;

	ck_assert_int_eq(rte_ring_dequeue(ctx.inject, (void **)m), 0);
	eth = rte_pktmbuf_mtod(*m, const struct rte_ether_hdr *);
	ip = (const struct rte_ipv6_hdr *)(eth + 1);
	icmp = (const uint8_t *)(ip + 1);
	ck_assert(rte_is_same_ether_addr(&eth->dst_addr, eth_dst));
	ck_assert(rte_is_same_ether_addr(&eth->src_addr, &our_mac));
	ck_assert_mem_eq(ip->src_addr, src, 16);
	ck_assert_mem_eq(ip->dst_addr, dst, 16);
	ck_assert_uint_eq(ip->hop_limits, 255);
	ck_assert_mem_eq(icmp + 8, target, 16);
	ck_assert_uint_eq(rte_ipv6_udptcp_cksum_verify(ip, icmp), 0);
	ck_assert(dp_nd_valid(ip, icmp, icmp + rte_be_to_cpu_16(ip->payload_len)));
	return icmp;
}

/* The next frame the manager sent: an unsolicited advertisement of
 * target to all nodes with the override flag and our MAC, router flag as
 * router says. */
static void advertised(const uint8_t *target, bool router)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const struct rte_ether_addr all_nodes_mac = { { 0x33, 0x33, 0, 0, 0, 1 } };
	struct rte_mbuf *m;
	const uint8_t *icmp = nd_sent(&m, &all_nodes_mac, target, all_nodes, target);

	ck_assert_uint_eq(icmp[0], ND_NA);
	ck_assert_uint_eq(icmp[4], ND_OVERRIDE | (router ? ND_ROUTER : 0));
	ck_assert_uint_eq(icmp[24], 2); /* target link-layer address: ours */
	ck_assert_mem_eq(icmp + 26, our_mac.addr_bytes, 6);
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

/* The next frame the manager sent: duplicate address detection's
 * solicitation for target (RFC 4862 §5.4.2): from the unspecified address
 * to target's solicited-node group, no option. */
static void tested(const uint8_t *target)
{
	static const uint8_t unspecified[16];
	const uint8_t group[16] = { 0xff, 0x02, [11] = 1, 0xff, target[13], target[14], target[15] };
	const struct rte_ether_addr group_mac = { { 0x33, 0x33, 0xff, target[13], target[14],
						    target[15] } };
	struct rte_mbuf *m;
	const uint8_t *icmp = nd_sent(&m, &group_mac, unspecified, group, target);

	ck_assert_uint_eq(icmp[0], ND_NS);
	ck_assert_uint_eq(rte_pktmbuf_data_len(m), 14 + 40 + 24); /* no option */
	rte_pktmbuf_free(m);
}

/* At start the IPv6 address is tested for duplicates (one solicitation)
 * while the IPv4 one is announced; a second later, tested, the IPv6 one
 * is announced too: each three times a second apart, never again; with
 * one network port the advertisements carry no router flag. */
START_TEST(test_announced)
{
	restart();
	for (uint64_t ms = 0; ms <= 5000; ms += 250) {
		dp_neigh_announce(&ctx, t0 + ms * hz / 1000);
		if (ms <= 2000 && ms % 1000 == 0)
			announced4(us4);
		if (ms == 0)
			tested(us6);
		if (ms >= 1000 && ms <= 3000 && ms % 1000 == 0)
			advertised(us6, false);
		ck_assert_msg(rte_ring_count(ctx.inject) == 0, "more sent at %u ms", (unsigned)ms);
	}
	ck_assert_uint_eq(counter(DP_C_neigh_announced), 6);
	ck_assert_uint_eq(counter(DP_C_neigh_dad_failed), 0);
}
END_TEST

/* While its address is tested (a second from the first round), the
 * gateway neither answers for it nor learns from solicitations for it,
 * nor asks for IPv6 next hops from it (RFC 4862 §5.4: a tentative address
 * is not used), and the wait costs a next hop none of its three tries;
 * then all as usual. */
START_TEST(test_tentative)
{
	static const uint8_t host[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x42 };
	static const uint8_t far[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x43 };
	struct nd_msg ns = ns_msg(host);

	restart();
	dp_neigh_announce(&ctx, t0);
	drain();
	now_tsc = t0 + hz / 2;
	nd_send(&ns);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0);
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET6, host), DP_NEIGH_UNKNOWN);
	ck_assert_uint_eq(resolve(DPSEC_AF_INET6, far, t0 + hz / 2), 0);
	ck_assert_uint_eq(resolve(DPSEC_AF_INET6, far, t0 + hz - 1), 0);
	/* tested */
	ck_assert_uint_eq(resolve(DPSEC_AF_INET6, far, t0 + hz), 1);
	ck_assert_uint_eq(resolve(DPSEC_AF_INET6, far, t0 + 2 * hz), 1);
	ck_assert_uint_eq(resolve(DPSEC_AF_INET6, far, t0 + 3 * hz), 1);
	ck_assert(!failed(DPSEC_AF_INET6, far));
	ck_assert_uint_eq(resolve(DPSEC_AF_INET6, far, t0 + 4 * hz), 1);
	ck_assert(failed(DPSEC_AF_INET6, far));
	now_tsc = t0 + hz;
	nd_send(&ns);
	ck_assert_int_eq(rte_ring_count(ctx.inject), 1); /* the answer */
	ck_assert_int_eq(dp_neigh_known(&ctx.routes, 0, DPSEC_AF_INET6, host), DP_NEIGH_LEARNT);
}
END_TEST

/* Another node holds the address being tested: its advertisement for it
 * (the answer to our solicitation, RFC 4862 §5.4.4), or its own test of
 * it (a solicitation from the unspecified address, §5.4.3; not our own,
 * looped back), fails the test: counted, logged, and the address is never
 * answered for, announced, defended nor asked from (§5.4.5); the IPv4
 * address goes on as usual. */
START_TEST(test_duplicate)
{
	static const uint8_t unspecified[16];
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t host[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x42 };
	const uint8_t group[16] = { 0xff, 0x02, [11] = 1, 0xff, us6[13], us6[14], us6[15] };
	struct nd_msg test = { .type = ND_NS, .hop_limit = 255, .src = unspecified, .dst = group,
			       .target = us6 };
	struct nd_msg na = na_msg(us6), ns = ns_msg(host);

	for (int by_test = 0; by_test < 2; by_test++) {
		restart();
		dp_neigh_announce(&ctx, t0);
		drain();
		now_tsc = t0 + hz / 2;
		test.eth_src = &our_mac; /* our own test, seen again */
		nd_send(&test);
		ck_assert_uint_eq(counter(DP_C_neigh_dad_failed), 0);
		test.eth_src = &their_mac;
		na.dst = all_nodes;
		na.flags = ND_OVERRIDE;
		nd_send(by_test ? &test : &na);
		ck_assert_uint_eq(counter(DP_C_neigh_dad_failed), 1);
		ck_assert_uint_eq(counter(DP_C_neigh_address_conflicts), 0);
		for (uint64_t s = 1; s <= 4; s++) {
			dp_neigh_announce(&ctx, t0 + s * hz);
			if (s <= 2)
				announced4(us4);
			ck_assert_uint_eq(rte_ring_count(ctx.inject), 0); /* no advertisement */
		}
		now_tsc = t0 + 5 * hz;
		nd_send(&ns);
		nd_send(&na); /* claimed again: counted, not defended */
		ck_assert_uint_eq(counter(DP_C_neigh_address_conflicts), 1);
		ck_assert_uint_eq(counter(DP_C_neigh_dad_failed), 1);
		ck_assert_uint_eq(resolve(DPSEC_AF_INET6, host, t0 + 5 * hz), 0);
		ck_assert_uint_eq(rte_ring_count(ctx.inject), 0);
		arp_from(RTE_ARP_OP_REQUEST, host, &their_mac, us4);
		ck_assert_uint_eq(rte_ring_count(ctx.inject), 1); /* IPv4 answered */
		drain();
	}
}
END_TEST

/* A port whose link is down at start sends nothing and uses no IPv6
 * address; when the link comes up its addresses are tested and announced
 * as at start. A link that goes down and comes back starts them over:
 * the rounds due while it was down are not sent, and an address another
 * node held at the last test is tested anew (RFC 4862 §5.4: the link may
 * have changed), then used. Each change of the link counted once. */
START_TEST(test_link)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t host[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x42 };
	struct nd_msg ns = ns_msg(host), na = na_msg(us6);

	dp_neigh_fini(&ctx);
	ck_assert_int_eq(dp_neigh_init(&ctx), 0);
	dp_neigh_link(&ctx, 0, false);
	for (uint64_t s = 0; s < 3; s++)
		dp_neigh_announce(&ctx, t0 + s * hz);
	now_tsc = t0 + 2 * hz;
	nd_send(&ns);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0); /* not tested: not answered for */
	dp_neigh_link(&ctx, 0, false);
	ck_assert_uint_eq(counter(DP_C_port_link_down), 1);
	ck_assert_uint_eq(counter(DP_C_port_link_up), 0);

	dp_neigh_link(&ctx, 0, true);
	ck_assert_uint_eq(counter(DP_C_port_link_up), 1);
	dp_neigh_announce(&ctx, t0 + 3 * hz);
	announced4(us4);
	tested(us6);
	now_tsc = t0 + 3 * hz + hz / 2;
	na.dst = all_nodes;
	na.flags = ND_OVERRIDE;
	nd_send(&na); /* another node holds it */
	ck_assert_uint_eq(counter(DP_C_neigh_dad_failed), 1);
	dp_neigh_announce(&ctx, t0 + 4 * hz);
	announced4(us4);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0);

	dp_neigh_link(&ctx, 0, false);
	dp_neigh_announce(&ctx, t0 + 5 * hz);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0); /* the third round: not on a dead link */
	dp_neigh_link(&ctx, 0, true);
	ck_assert_uint_eq(counter(DP_C_port_link_down), 2);
	ck_assert_uint_eq(counter(DP_C_port_link_up), 2);
	dp_neigh_announce(&ctx, t0 + 6 * hz);
	announced4(us4);
	tested(us6);
	for (uint64_t s = 7; s <= 10; s++) {
		dp_neigh_announce(&ctx, t0 + s * hz);
		if (s <= 8)
			announced4(us4);
		if (s <= 9)
			advertised(us6, false);
		ck_assert_msg(rte_ring_count(ctx.inject) == 0, "more sent at %u s", (unsigned)s);
	}
	ck_assert_uint_eq(counter(DP_C_neigh_announced), 8);
	now_tsc = t0 + 10 * hz;
	nd_send(&ns);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 1); /* in use again: answered */
	ck_assert_uint_eq(counter(DP_C_neigh_dad_failed), 1);
	drain();
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

/* RFC 4291 §2.6.1: the Subnet-Router anycast address of a prefix is the
 * prefix with a zero interface identifier, whatever its length; RFC 6164
 * §6: none for /127, and /128 and IPv4 have none. */
START_TEST(test_subnet_router_anycast_address)
{
	static const struct {
		const char *prefix, *anycast; /* NULL: none */
	} cases[] = {
		{ "2001:db8:ff::1/64", "2001:db8:ff::" },
		{ "2001:db8:ff:12:3456::9/60", "2001:db8:ff:10::" },
		{ "2001:db8:ffff::1/35", "2001:db8:e000::" },
		{ "2001:db8::7/126", "2001:db8::4" },
		{ "2001:db8::1/127", NULL },
		{ "2001:db8::1/128", NULL },
		{ "192.0.2.1/24", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dpsec_prefix p;
		uint8_t got[16], want[16];
		bool has;

		ck_assert_int_eq(cfg_parse_prefix(cases[i].prefix, &p), 0);
		has = dp_subnet_router_anycast(&p, got);
		ck_assert_msg(has == (cases[i].anycast != NULL), "%s", cases[i].prefix);
		if (!has)
			continue;
		ck_assert_int_eq(inet_pton(AF_INET6, cases[i].anycast, want), 1);
		ck_assert_msg(memcmp(got, want, 16) == 0, "%s", cases[i].prefix);
	}
}
END_TEST

/* A solicitation for the Subnet-Router anycast address of the port's
 * prefix is answered from the port's address, solicited, without the
 * override flag (RFC 4861 §7.2.4: other routers may hold it too), and its
 * sender learnt; a test for duplicates of it (from ::) to all nodes. Not
 * while the port's address is still tested, and not on a /127 (RFC 6164
 * §6), where it is the other end's address. */
START_TEST(test_subnet_router_anycast_answered)
{
	static const uint8_t unspecified[16];
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const struct rte_ether_addr all_nodes_mac = { { 0x33, 0x33, 0, 0, 0, 1 } };
	static const uint8_t host[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x42 };
	static const uint8_t anycast[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff };
	static const uint8_t group[16] = { 0xff, 0x02, [11] = 1, 0xff };
	struct nd_msg ns = ns_msg(host), dad;
	const uint8_t *icmp;
	struct rte_mbuf *m;

	ns.target = anycast;
	ns.dst = group;
	nd_send(&ns);
	learnt(DPSEC_AF_INET6, host);
	dp_neigh_answer_due(&ctx, now_tsc + hz); /* RFC 4861 §7.2.7: within a second */
	icmp = nd_sent(&m, &their_mac, us6, host, anycast);
	ck_assert_uint_eq(icmp[0], ND_NA);
	ck_assert_uint_eq(icmp[4], ND_SOLICITED);
	rte_pktmbuf_free(m);
	dad = ns;
	dad.src = unspecified;
	dad.opt = 0;
	nd_send(&dad);
	dp_neigh_answer_due(&ctx, now_tsc + hz);
	icmp = nd_sent(&m, &all_nodes_mac, us6, all_nodes, anycast);
	ck_assert_uint_eq(icmp[4], 0);
	rte_pktmbuf_free(m);

	restart(); /* its address being tested: not answered for */
	dp_neigh_announce(&ctx, t0);
	drain();
	nd_send(&ns);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0);

	ck_assert_int_eq(cfg_parse_prefix("2001:db8:ff::1/127", &cfg.ports[0].addrs[1]), 0);
	restart();
	dad_passed();
	nd_send(&ns);
	dp_neigh_answer_due(&ctx, now_tsc + hz);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0);
	ck_assert_uint_eq(counter(DP_C_neigh_invalid), 0);
}
END_TEST

/* RFC 4861 §7.2.7: an answer for an anycast address waits a random time
 * of up to a second (MAX_ANYCAST_DELAY_TIME), so that the answers of the
 * routers holding it spread; answers for our own addresses go at once.
 * At most 16 wait; a solicitation beyond is not answered (counted); those
 * waiting are freed with the manager's state. */
START_TEST(test_anycast_answer_delayed)
{
	static const uint8_t host[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 0x42 };
	static const uint8_t anycast[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff };
	struct nd_msg ns = ns_msg(host), mine = ns_msg(host);
	unsigned int sent = 0, steps_with_answers = 0, in_use;

	ns.target = anycast;
	for (int i = 0; i < 17; i++)
		nd_send(&ns);
	ck_assert_uint_eq(counter(DP_C_neigh_anycast_unanswered), 1);
	dp_neigh_answer_due(&ctx, now_tsc);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0);
	mine.target = us6;
	nd_send(&mine);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 1);
	drain();
	for (int step = 1; step <= 10; step++) {
		unsigned int now_sent;

		dp_neigh_answer_due(&ctx, now_tsc + step * hz / 10);
		now_sent = rte_ring_count(ctx.inject);
		steps_with_answers += now_sent > 0;
		sent += now_sent;
		drain();
	}
	ck_assert_uint_eq(sent, 16);
	ck_assert_uint_ge(steps_with_answers, 3); /* spread, not sent together */
	nd_send(&ns); /* the slots free again */
	ck_assert_uint_eq(counter(DP_C_neigh_anycast_unanswered), 1);
	in_use = rte_mempool_in_use_count(ctx.pool);
	dp_neigh_fini(&ctx); /* the answer still waiting goes with the state */
	ck_assert_uint_eq(rte_mempool_in_use_count(ctx.pool), in_use - 1);
	ck_assert_int_eq(dp_neigh_init(&ctx), 0);
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
	/* an advertisement without a target link-layer option is known by its
	 * frame's source */
	na.opt = 0;
	na.eth_src = &dup;
	nd_send(&na);
	ck_assert_uint_eq(counter(DP_C_neigh_address_conflicts), 5);
	/* our own frames, seen again, are no conflict */
	na.eth_src = &our_mac;
	nd_send(&na);
	ck_assert_uint_eq(rte_ring_count(ctx.inject), 0);
	arp_from(RTE_ARP_OP_REQUEST, us4, &our_mac, us4);
	ck_assert_uint_eq(counter(DP_C_neigh_address_conflicts), 5);
}
END_TEST

int main(void)
{
	TCase *tc;
	Suite *s = neigh_suite("neigh_input", &tc);

	tcase_add_test(tc, test_gratuitous_arp);
	tcase_add_test(tc, test_second_answer);
	tcase_add_test(tc, test_permanent);
	tcase_add_test(tc, test_unsolicited_not_believed);
	tcase_add_test(tc, test_nd_invalid);
	tcase_add_test(tc, test_arp_invalid);
	tcase_add_test(tc, test_nd_override);
	tcase_add_test(tc, test_probe_answered_without_lladdr);
	tcase_add_test(tc, test_ns_without_lladdr);
	tcase_add_test(tc, test_announced);
	tcase_add_test(tc, test_tentative);
	tcase_add_test(tc, test_duplicate);
	tcase_add_test(tc, test_link);
	tcase_add_test(tc, test_router_flag);
	tcase_add_test(tc, test_subnet_router_anycast_address);
	tcase_add_test(tc, test_subnet_router_anycast_answered);
	tcase_add_test(tc, test_anycast_answer_delayed);
	tcase_add_test(tc, test_address_conflict);
	return check_run(s);
}
