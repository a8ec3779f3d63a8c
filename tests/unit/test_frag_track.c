/* test_frag_track.c - stateful fragment checking (frag_track.c) with the
 * worker's real table and a clock the test sets: a later fragment is given
 * its first fragment's ports (IPv4, and IPv6 by its fragment header), in
 * the same burst or a later one, for as long as the timeout, not a cycle
 * more; packets whose first fragments share a set are remembered up to
 * its ways, then the oldest is forgotten; a later fragment of another
 * packet (identification, family, or any of 4,096 packets some of which
 * share the first's set), one ahead of its first, or one of an IPv6
 * packet with a header before its fragment header is dropped and counted
 * (on its SA too for decrypted packets); the burst keeps its order. */
#include <check.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "dp_pkt.h"
#include "dp_test_worker.h"
#include "frag_track.h"
#include "check_run.h"

#define TIMEOUT 1000000u /* TSC cycles a first fragment is remembered */
#define SPORT 30001
#define DPORT 4000

static struct dp_ctx ctx;
static struct dp_worker worker;
static uint64_t drops0, sa_drops0;

static const uint8_t src4[4] = { 10, 1, 0, 10 }, dst4[4] = { 10, 2, 0, 5 };
static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 1, [15] = 10 };
static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 2, [15] = 5 };

/* What a fragment is: its family, identification, offset (8-byte units;
 * 0: the first, with the UDP header) and, for IPv6, a destination
 * options header before the fragment header. */
struct piece {
	uint8_t family;
	uint32_t id;
	uint16_t offset8;
	bool dstopts;
};

static void udp_ports(uint8_t *l4)
{
	l4[0] = SPORT >> 8, l4[1] = SPORT & 0xff, l4[2] = DPORT >> 8, l4[3] = DPORT & 0xff;
}

static uint32_t frag4(uint8_t *b, const struct piece *p)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)b;

	memset(b, 0x33, 68);
	*ip = (struct rte_ipv4_hdr){ .version_ihl = 0x45, .total_length = rte_cpu_to_be_16(68),
				     .packet_id = rte_cpu_to_be_16((uint16_t)p->id),
				     .fragment_offset = rte_cpu_to_be_16(
					     (uint16_t)(p->offset8 | (p->offset8 == 0 ? RTE_IPV4_HDR_MF_FLAG : 0))),
				     .time_to_live = 64, .next_proto_id = IPPROTO_UDP };
	memcpy(&ip->src_addr, src4, 4);
	memcpy(&ip->dst_addr, dst4, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (p->offset8 == 0)
		udp_ports(b + 20);
	return 68;
}

static uint32_t frag6(uint8_t *b, const struct piece *p)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)b;
	uint32_t off = sizeof(*ip), len = 48 + (p->dstopts ? 8 : 0) + 8 + 48;
	uint16_t fo = (uint16_t)(p->offset8 << 3 | (p->offset8 == 0 ? 1 : 0));

	memset(b, 0x33, len);
	*ip = (struct rte_ipv6_hdr){ .vtc_flow = rte_cpu_to_be_32(6u << 28),
				     .payload_len = rte_cpu_to_be_16((uint16_t)(len - sizeof(*ip))),
				     .proto = p->dstopts ? IPPROTO_DSTOPTS : IPPROTO_FRAGMENT,
				     .hop_limits = 64 };
	memcpy(ip->src_addr, src6, 16);
	memcpy(ip->dst_addr, dst6, 16);
	if (p->dstopts) {
		memset(b + off, 0, 8);
		b[off] = IPPROTO_FRAGMENT;
		b[off + 2] = 1, b[off + 3] = 4; /* PadN of 4 */
		off += 8;
	}
	b[off] = IPPROTO_UDP;
	b[off + 1] = 0;
	b[off + 2] = (uint8_t)(fo >> 8), b[off + 3] = (uint8_t)fo;
	b[off + 4] = (uint8_t)(p->id >> 24), b[off + 5] = (uint8_t)(p->id >> 16);
	b[off + 6] = (uint8_t)(p->id >> 8), b[off + 7] = (uint8_t)p->id;
	if (p->offset8 == 0)
		udp_ports(b + off + 8);
	return len;
}

/* The fragment p, parsed as a worker parses it, its ports (none for a
 * later fragment) in its lookup key. */
static struct rte_mbuf *fragment(const struct piece *p)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	uint8_t b[160];
	uint32_t len = p->family == DPSEC_AF_INET6 ? frag6(b, p) : frag4(b, p);

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), b, len);
	ck_assert_int_eq(dp_parse_ip_as(m, dp_meta(m), p->family), 0);
	ck_assert(dp_meta(m)->flags & DP_M_FRAG);
	dp_meta(m)->sa = 0;
	return m;
}

static uint16_t key_dport(struct rte_mbuf *m)
{
	const struct dp_meta *md = dp_meta(m);

	return rte_be_to_cpu_16(md->family == DPSEC_AF_INET6 ? md->key.k6.dport : md->key.k4.dport);
}

static uint16_t key_sport(struct rte_mbuf *m)
{
	const struct dp_meta *md = dp_meta(m);

	return rte_be_to_cpu_16(md->family == DPSEC_AF_INET6 ? md->key.k6.sport : md->key.k4.sport);
}

/* The fragments ps[0..n) as one burst at TSC now: how many are left (in
 * mb, in order). */
static uint16_t burst(const struct piece *ps, uint16_t n, uint64_t now, struct rte_mbuf **mb,
		      bool decrypted)
{
	for (uint16_t i = 0; i < n; i++)
		mb[i] = fragment(&ps[i]);
	worker.round_tsc = now;
	return dp_frag_track_burst(&worker, mb, n, decrypted);
}

static void free_all(struct rte_mbuf **mb, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(mb[i]);
}

static uint64_t dropped(void)
{
	return worker.ctr->c[DP_DROP_fragment_unseen] - drops0;
}

static void setup(void)
{
	ck_assert_int_eq(dp_frag_track_init(&worker, SOCKET_ID_ANY), 0);
	drops0 = worker.ctr->c[DP_DROP_fragment_unseen];
	sa_drops0 = worker.sa_ctr[0].drops;
}

static void teardown(void)
{
	dp_frag_track_fini(&worker);
}

/* First and later fragment of family, in one burst, then another later
 * one in a burst of its own: both given the first's ports. */
static void later_take_first_ports(uint8_t family)
{
	struct piece ps[2] = { { family, 77, 0, false }, { family, 77, 6, false } };
	struct rte_mbuf *mb[2];

	ck_assert_uint_eq(burst(ps, 2, 1000, mb, false), 2);
	ck_assert_uint_eq(key_sport(mb[1]), SPORT);
	ck_assert_uint_eq(key_dport(mb[1]), DPORT);
	ck_assert_uint_eq(key_dport(mb[0]), DPORT); /* the first keeps its own */
	free_all(mb, 2);
	ps[1].offset8 = 12;
	ck_assert_uint_eq(burst(&ps[1], 1, 1000 + TIMEOUT, mb, false), 1);
	ck_assert_uint_eq(key_dport(mb[0]), DPORT);
	free_all(mb, 1);
	ck_assert_uint_eq(dropped(), 0);
}

START_TEST(test_ipv4)
{
	later_take_first_ports(DPSEC_AF_INET);
}
END_TEST

START_TEST(test_ipv6)
{
	later_take_first_ports(DPSEC_AF_INET6);
}
END_TEST

START_TEST(test_not_its_first)
{
	struct piece first = { DPSEC_AF_INET, 5, 0, false };
	struct piece later[] = {
		{ DPSEC_AF_INET, 6, 8, false },  /* another identification */
		{ DPSEC_AF_INET6, 5, 8, false }, /* the same number, another family */
		{ DPSEC_AF_INET, 5, 8, false },  /* its own: kept, in order */
	};
	struct rte_mbuf *mb[3];

	ck_assert_uint_eq(burst(&first, 1, 50, mb, false), 1);
	free_all(mb, 1);
	ck_assert_uint_eq(burst(later, 3, 60, mb, true), 1);
	ck_assert_uint_eq(key_dport(mb[0]), DPORT);
	ck_assert_uint_eq(dp_meta(mb[0])->family, DPSEC_AF_INET);
	free_all(mb, 1);
	ck_assert_uint_eq(dropped(), 2);
	ck_assert_uint_eq(worker.sa_ctr[0].drops - sa_drops0, 2); /* decrypted: on the SA too */
}
END_TEST

/* Later fragments of 4,096 other packets, all while one first fragment
 * is remembered: some share its set (of 1,024); none is taken for it. */
START_TEST(test_slot_shared)
{
	struct piece first = { DPSEC_AF_INET, 1, 0, false }, later = { DPSEC_AF_INET, 0, 8, false };
	struct rte_mbuf *mb[1];

	ck_assert_uint_eq(burst(&first, 1, 10, mb, false), 1);
	free_all(mb, 1);
	for (uint32_t id = 2; id < 2 + 4096; id++) {
		later.id = id;
		if (burst(&later, 1, 20, mb, false) != 0)
			ck_abort_msg("a later fragment of packet %u taken for packet 1's", id);
	}
	ck_assert_uint_eq(dropped(), 4096);
}
END_TEST

/* IPv4 identifications from 2 up whose packets' first fragments go to
 * the set of packet 1's, as many as ids holds. */
static void ids_sharing_a_set(uint32_t *ids, uint32_t n)
{
	struct piece first = { DPSEC_AF_INET, 1, 0, false };
	struct rte_mbuf *m = fragment(&first);
	struct dp_frag_first k;
	uint32_t set, found = 0;

	ck_assert(dp_frag_first_key(m, &k));
	set = dp_frag_first_set_of(DP_FRAG_TRACK_SLOTS, &k);
	rte_pktmbuf_free(m);
	for (uint32_t id = 2; id <= UINT16_MAX && found < n; id++) {
		struct piece p = { DPSEC_AF_INET, id, 0, false };

		m = fragment(&p);
		ck_assert(dp_frag_first_key(m, &k));
		if (dp_frag_first_set_of(DP_FRAG_TRACK_SLOTS, &k) == set)
			ids[found++] = id;
		rte_pktmbuf_free(m);
	}
	ck_assert_uint_eq(found, n);
}

/* Whether a later fragment of packet id is given its first's ports. */
static bool later_taken(uint32_t id, uint64_t now)
{
	struct piece later = { DPSEC_AF_INET, id, 8, false };
	struct rte_mbuf *mb[1];

	if (burst(&later, 1, now, mb, false) == 0)
		return false;
	free_all(mb, 1);
	return true;
}

static void firsts(const uint32_t *ids, uint32_t n, uint64_t now)
{
	struct rte_mbuf *mb[1];

	for (uint32_t i = 0; i < n; i++) {
		struct piece first = { DPSEC_AF_INET, ids[i], 0, false };

		ck_assert_uint_eq(burst(&first, 1, now + i, mb, false), 1);
		free_all(mb, 1);
	}
}

/* Packets whose first fragments share a set are all remembered, up to
 * its DP_FRAG_FIRST_WAYS entries, a first fragment sent twice taking one;
 * one more pushes out the one remembered longest ago. */
START_TEST(test_set_shared)
{
	uint32_t ids[DP_FRAG_FIRST_WAYS + 1];
	uint32_t again[DP_FRAG_FIRST_WAYS + 1];

	ids[0] = 1;
	ids_sharing_a_set(&ids[1], DP_FRAG_FIRST_WAYS);
	/* the ways' packets, the second twice */
	memcpy(again, ids, sizeof(uint32_t) * 2);
	memcpy(&again[2], &ids[1], sizeof(uint32_t) * (DP_FRAG_FIRST_WAYS - 1));
	firsts(again, DP_FRAG_FIRST_WAYS + 1, 100);
	for (uint32_t i = 0; i < DP_FRAG_FIRST_WAYS; i++)
		ck_assert_msg(later_taken(ids[i], 200), "packet %u forgotten", ids[i]);
	firsts(&ids[DP_FRAG_FIRST_WAYS], 1, 300);
	ck_assert_msg(!later_taken(ids[0], 400), "packet 1, the oldest, still remembered");
	for (uint32_t i = 1; i <= DP_FRAG_FIRST_WAYS; i++)
		ck_assert_msg(later_taken(ids[i], 400), "packet %u forgotten", ids[i]);
	ck_assert_uint_eq(dropped(), 1);
}
END_TEST

START_TEST(test_ahead_of_its_first)
{
	struct piece ps[2] = { { DPSEC_AF_INET, 9, 8, false }, { DPSEC_AF_INET, 9, 0, false } };
	struct rte_mbuf *mb[2];

	ck_assert_uint_eq(burst(ps, 2, 100, mb, false), 1);
	ck_assert_uint_eq(dp_meta(mb[0])->flags & DP_M_NOT_FIRST, 0); /* the first, kept */
	free_all(mb, 1);
	ck_assert_uint_eq(dropped(), 1);
	ck_assert_uint_eq(worker.sa_ctr[0].drops - sa_drops0, 0);
}
END_TEST

START_TEST(test_timeout)
{
	struct piece ps[2] = { { DPSEC_AF_INET6, 31, 0, false }, { DPSEC_AF_INET6, 31, 8, false } };
	struct rte_mbuf *mb[1];

	ck_assert_uint_eq(burst(&ps[0], 1, 5000, mb, false), 1);
	free_all(mb, 1);
	ck_assert_uint_eq(burst(&ps[1], 1, 5000 + TIMEOUT, mb, false), 1); /* the last cycle */
	free_all(mb, 1);
	ck_assert_uint_eq(burst(&ps[1], 1, 5001 + TIMEOUT, mb, false), 0); /* one too late */
	ck_assert_uint_eq(dropped(), 1);
}
END_TEST

START_TEST(test_ipv6_header_before_fragment_header)
{
	struct piece ps[2] = { { DPSEC_AF_INET6, 40, 0, true }, { DPSEC_AF_INET6, 40, 8, true } };
	struct rte_mbuf *mb[2];

	ck_assert_uint_eq(burst(ps, 2, 100, mb, false), 1); /* the first passes, unremembered */
	free_all(mb, 1);
	ck_assert_uint_eq(dropped(), 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("frag_track");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ipv4);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_not_its_first);
	tcase_add_test(tc, test_slot_shared);
	tcase_add_test(tc, test_set_shared);
	tcase_add_test(tc, test_ahead_of_its_first);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_ipv6_header_before_fragment_header);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	dp_test_worker_init(&ctx, &worker, 1, 64);
	worker.reass_timeout_tsc = TIMEOUT;
	return check_run(suite());
}
