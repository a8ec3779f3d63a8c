/* test_reass.c - reassembly of ESP fragments to the gateway (reass.c) with
 * the worker's real table and a clock the test sets: IPv4 and IPv6
 * fragments in any order make the packet that was cut, byte for byte, in
 * one buffer; a lone fragment is held until its time runs out, not a cycle
 * less; the table holds DP_REASS_MAX_PACKETS packets and drops a fragment
 * of one more until a slot times out; every fragment is counted to its end
 * (held, part of a packet, or dropped); of UDP to the gateway, ESP in
 * UDP's fragments are taken, the host's go to it while their first is
 * remembered, and fragments ahead of their first are taken, then their
 * first too; shutdown frees what is
 * held. A packet longer than a packet buffer is made whole in one of the
 * big pool, up to the most that holds (then reass_too_big; none free:
 * no_buffer). And the IPv6 parser reads nothing past the fragment header
 * of a later fragment. */
#include <check.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "dp_pkt.h"
#include "dp_test_worker.h"
#include "reass.h"
#include "check_run.h"

#define TIMEOUT 1000000u /* TSC cycles the test's fragments may wait */
#define PAYLOAD 1000u    /* ESP bytes of the packet cut */
#define PIECE 400u       /* data bytes of each fragment but the last */
#define V6_FRAG_HDR 8u

static struct dp_ctx ctx;
static struct dp_worker worker;
static uint64_t ctr0[DP_C_MAX];

static const uint8_t src4[4] = { 192, 0, 2, 9 }, dst4[4] = { 192, 0, 2, 1 };
static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

static uint64_t delta(int c)
{
	return worker.ctr->c[c] - ctr0[c];
}

static void counters_mark(void)
{
	memcpy(ctr0, worker.ctr->c, sizeof(ctr0));
}

/* An IPv4 ESP packet of PAYLOAD bytes, identification id. */
static uint32_t whole4(uint8_t *b, uint16_t id)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)b;

	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + PAYLOAD));
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ESP;
	memcpy(&ip->src_addr, src4, 4);
	memcpy(&ip->dst_addr, dst4, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	for (uint32_t i = 0; i < PAYLOAD; i++)
		b[sizeof(*ip) + i] = (uint8_t)(i * 7 + id);
	return sizeof(*ip) + PAYLOAD;
}

/* An IPv6 ESP packet of PAYLOAD bytes. */
static uint32_t whole6(uint8_t *b, uint8_t seed)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)b;

	memset(ip, 0, sizeof(*ip));
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(PAYLOAD);
	ip->proto = IPPROTO_ESP;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, src6, 16);
	memcpy(ip->dst_addr, dst6, 16);
	for (uint32_t i = 0; i < PAYLOAD; i++)
		b[sizeof(*ip) + i] = (uint8_t)(i * 5 + seed);
	return sizeof(*ip) + PAYLOAD;
}

/* An mbuf holding len bytes of b, parsed as it would arrive. */
static struct rte_mbuf *packet(const uint8_t *b, uint32_t len, uint8_t family)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);

	ck_assert_ptr_nonnull(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), b, len);
	ck_assert_int_eq(dp_parse_ip_as(m, dp_meta(m), family), 0);
	return m;
}

/* Fragment k (of 3) of the IPv4 packet w: data from k * PIECE. */
static struct rte_mbuf *frag4(const uint8_t *w, int k)
{
	uint8_t b[2048];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)b;
	uint32_t off = (uint32_t)k * PIECE, n = RTE_MIN(PIECE, PAYLOAD - off);

	memcpy(b, w, sizeof(*ip));
	memcpy(b + sizeof(*ip), w + sizeof(*ip) + off, n);
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + n));
	ip->fragment_offset = rte_cpu_to_be_16((uint16_t)(off / 8 |
				(off + n < PAYLOAD ? RTE_IPV4_HDR_MF_FLAG : 0)));
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return packet(b, sizeof(*ip) + n, DPSEC_AF_INET);
}

/* Fragment k (of 3) of the IPv6 packet w, a fragment header of id 77
 * right behind the IPv6 header. */
static struct rte_mbuf *frag6(const uint8_t *w, int k)
{
	uint8_t b[2048];
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)b;
	struct rte_ipv6_fragment_ext *fh = (struct rte_ipv6_fragment_ext *)(ip + 1);
	uint32_t off = (uint32_t)k * PIECE, n = RTE_MIN(PIECE, PAYLOAD - off);

	memcpy(b, w, sizeof(*ip));
	ip->proto = IPPROTO_FRAGMENT;
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(V6_FRAG_HDR + n));
	fh->next_header = IPPROTO_ESP;
	fh->reserved = 0;
	fh->frag_data = rte_cpu_to_be_16((uint16_t)(off | (off + n < PAYLOAD ? 1 : 0)));
	fh->id = rte_cpu_to_be_32(77);
	memcpy(b + sizeof(*ip) + V6_FRAG_HDR, w + sizeof(*ip) + off, n);
	return packet(b, sizeof(*ip) + V6_FRAG_HDR + n, DPSEC_AF_INET6);
}

static void assert_whole(struct rte_mbuf *m, const uint8_t *w, uint32_t len)
{
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->nb_segs, 1);
	ck_assert_uint_eq(m->pkt_len, len);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), w, len);
	ck_assert_uint_eq(dp_meta(m)->flags & DP_M_FRAG, 0);
	ck_assert_uint_eq(dp_meta(m)->l4proto, IPPROTO_ESP);
	rte_pktmbuf_free(m);
}

/* Fragments 2, 0, 1 of each family: the packet that was cut, header and
 * all (IPv4: its checksum valid again; IPv6: no fragment header). */
START_TEST(test_out_of_order)
{
	static const int order[3] = { 2, 0, 1 };
	bool v6 = _i == 1;
	uint8_t w[2048];
	uint32_t len = v6 ? whole6(w, 3) : whole4(w, 4242);
	struct rte_mbuf *m = NULL;

	counters_mark();
	for (int i = 0; i < 3; i++) {
		ck_assert_ptr_null(m);
		m = dp_reass_take(&worker, v6 ? frag6(w, order[i]) : frag4(w, order[i]), 10);
		if (i < 2)
			ck_assert_uint_eq(delta(DP_C_reass_held), (uint64_t)i + 1);
	}
	assert_whole(m, w, len);
	ck_assert_uint_eq(delta(DP_C_reass_held), 0);
	ck_assert_uint_eq(delta(DP_C_reass_fragments), 3);
	ck_assert_uint_eq(delta(DP_C_reass_packets), 1);
	ck_assert_uint_eq(delta(DP_DROP_reass_failed), 0);
}
END_TEST

/* A lone fragment waits exactly the timeout; then it is dropped, and the
 * rest of its packet arriving later waits anew instead of completing it. */
START_TEST(test_timeout)
{
	uint8_t w[2048];
	uint64_t t0 = 1000000000ull;

	whole4(w, 7);
	counters_mark();
	ck_assert_ptr_null(dp_reass_take(&worker, frag4(w, 0), t0));
	dp_reass_expire(&worker, t0 + TIMEOUT);
	ck_assert_uint_eq(delta(DP_C_reass_held), 1);
	dp_reass_expire(&worker, t0 + TIMEOUT + 1);
	ck_assert_uint_eq(delta(DP_C_reass_held), 0);
	ck_assert_uint_eq(delta(DP_DROP_reass_failed), 1);
	ck_assert_ptr_null(dp_reass_take(&worker, frag4(w, 1), t0 + TIMEOUT + 2));
	ck_assert_ptr_null(dp_reass_take(&worker, frag4(w, 2), t0 + TIMEOUT + 3));
	ck_assert_uint_eq(delta(DP_C_reass_held), 2);
	dp_reass_expire(&worker, t0 + 3 * TIMEOUT);
	ck_assert_uint_eq(delta(DP_DROP_reass_failed), 3);
	ck_assert_uint_eq(delta(DP_C_reass_packets), 0);
}
END_TEST

/* DP_REASS_MAX_PACKETS packets wait at once; a fragment of one more is
 * dropped while none has timed out, and takes a slot once one has. */
START_TEST(test_table_bound)
{
	uint8_t w[2048];
	uint64_t t0 = 5000000000ull;

	counters_mark();
	for (uint32_t i = 0; i < DP_REASS_MAX_PACKETS; i++) {
		whole4(w, (uint16_t)i);
		ck_assert_ptr_null(dp_reass_take(&worker, frag4(w, 0), t0 + i));
	}
	ck_assert_uint_eq(delta(DP_C_reass_held), DP_REASS_MAX_PACKETS);
	ck_assert_uint_eq(delta(DP_DROP_reass_failed), 0);
	whole4(w, 60000);
	ck_assert_ptr_null(dp_reass_take(&worker, frag4(w, 0), t0 + DP_REASS_MAX_PACKETS));
	ck_assert_uint_eq(delta(DP_DROP_reass_failed), 1);
	ck_assert_uint_eq(delta(DP_C_reass_held), DP_REASS_MAX_PACKETS);
	/* the oldest has timed out: its slot goes to the newcomer */
	ck_assert_ptr_null(dp_reass_take(&worker, frag4(w, 0), t0 + TIMEOUT + 1));
	ck_assert_uint_eq(delta(DP_DROP_reass_failed), 2);
	ck_assert_uint_eq(delta(DP_C_reass_held), DP_REASS_MAX_PACKETS);
	dp_reass_expire(&worker, t0 + 4 * TIMEOUT);
	ck_assert_uint_eq(delta(DP_C_reass_held), 0);
	ck_assert_uint_eq(delta(DP_DROP_reass_failed), DP_REASS_MAX_PACKETS + 2);
}
END_TEST

/* Whether fragment k of the IPv4 UDP datagram of identification id is
 * made whole here at TSC now (esp_in_udp: a first fragment of ESP in UDP). */
static bool udp_here(uint16_t id, int k, bool esp_in_udp, uint64_t now)
{
	uint8_t w[2048];
	struct rte_mbuf *m;
	bool here;

	whole4(w, id);
	w[9] = IPPROTO_UDP; /* what decides does not look past the IP header */
	m = frag4(w, k);
	here = dp_reass_udp_here(&worker, m, esp_in_udp, now);
	rte_pktmbuf_free(m);
	return here;
}

/* UDP to the gateway: ESP in UDP's later fragments are taken once its
 * first came; the host's (IKE's) go to it while its first is
 * remembered, for the timeout and not a cycle more; fragments ahead of
 * their first are taken, and then their first too, whatever it is. */
START_TEST(test_udp_fragments_owner)
{
	uint64_t t0 = 9000000000ull;

	ck_assert(udp_here(500, 0, true, t0));
	ck_assert(udp_here(500, 1, false, t0 + TIMEOUT));
	ck_assert(!udp_here(501, 0, false, t0));
	ck_assert(!udp_here(501, 1, false, t0 + TIMEOUT));
	ck_assert(!udp_here(501, 2, false, t0 + TIMEOUT));
	ck_assert(udp_here(501, 2, false, t0 + TIMEOUT + 1)); /* forgotten: ahead of a first */
	ck_assert(udp_here(502, 2, false, t0));                 /* ahead of its first */
	ck_assert(udp_here(502, 0, false, t0 + 1));             /* the first: here too */
	ck_assert(udp_here(502, 1, false, t0 + 2));
	ck_assert(udp_here(503, 1, false, t0 + 1)); /* not the host's packet 501 */
}
END_TEST

/* A later IPv6 fragment whose fragment header names another extension
 * header: that header is in the first fragment, what follows here is data
 * (that would not parse as a header) and is not read. */
START_TEST(test_ipv6_later_fragment_parse)
{
	uint8_t b[128] = { 0 };
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)b;
	struct rte_ipv6_fragment_ext *fh = (struct rte_ipv6_fragment_ext *)(ip + 1);
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	struct dp_meta *md = dp_meta(m);

	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(V6_FRAG_HDR + 16);
	ip->proto = IPPROTO_FRAGMENT;
	fh->next_header = IPPROTO_DSTOPTS;
	fh->frag_data = rte_cpu_to_be_16(64 | 1);
	memset(b + sizeof(*ip) + V6_FRAG_HDR, 0xff, 16); /* a "length" far past the end */
	memcpy(rte_pktmbuf_append(m, sizeof(*ip) + V6_FRAG_HDR + 16), b,
	       sizeof(*ip) + V6_FRAG_HDR + 16);
	ck_assert_int_eq(dp_parse_ipv6(m, md), 0);
	ck_assert_uint_eq(md->l4proto, IPPROTO_DSTOPTS);
	ck_assert_uint_eq(md->l3_len, sizeof(*ip) + V6_FRAG_HDR);
	ck_assert_uint_eq(md->flags & (DP_M_FRAG | DP_M_NOT_FIRST), DP_M_FRAG | DP_M_NOT_FIRST);
	rte_pktmbuf_free(m);
}
END_TEST

/* At shutdown the table frees the fragments it still holds: every buffer
 * is back in the pool. */
START_TEST(test_fini_frees_held)
{
	uint8_t w[2048];
	unsigned int free_before = rte_mempool_avail_count(ctx.pool);

	for (uint16_t id = 300; id < 303; id++) {
		whole4(w, id);
		ck_assert_ptr_null(dp_reass_take(&worker, frag4(w, id % 3), 1));
	}
	ck_assert_uint_eq(rte_mempool_avail_count(ctx.pool), free_before - 3);
	dp_reass_fini(&worker);
	ck_assert_ptr_null(worker.reass);
	ck_assert_uint_eq(rte_mempool_avail_count(ctx.pool), free_before);
	ck_assert_int_eq(dp_reass_init(&worker, TIMEOUT, SOCKET_ID_ANY), 0);
}
END_TEST

/* Big packets: IPv4 ESP packets of len bytes cut into pieces of each data
 * bytes, held in packet buffers, or in buffers of 9,000 bytes (a jumbo
 * port's) when larger. */
static uint8_t big[70000];
static struct rte_mempool *jumbo_pool;

static void big4(uint32_t len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)big;

	ck_assert_uint_le(len, sizeof(big));
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)len);
	ip->packet_id = RTE_BE16(99);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ESP;
	memcpy(&ip->src_addr, src4, 4);
	memcpy(&ip->dst_addr, dst4, 4);
	for (uint32_t i = sizeof(*ip); i < len; i++)
		big[i] = (uint8_t)(i * 13);
}

static struct rte_mbuf *big4_piece(uint32_t len, uint32_t off, uint32_t each)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(each + 20 <= 2048 ? ctx.pool : jumbo_pool);
	uint32_t data = len - 20, n = RTE_MIN(each, data - off);
	struct rte_ipv4_hdr *ip;

	ck_assert_ptr_nonnull(m);
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, (uint16_t)(20 + n));
	ck_assert_ptr_nonnull(ip);
	memcpy(ip, big, 20);
	memcpy(ip + 1, big + 20 + off, n);
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + n));
	ip->fragment_offset = rte_cpu_to_be_16((uint16_t)(off / 8 |
				(off + n < data ? RTE_IPV4_HDR_MF_FLAG : 0)));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ck_assert_int_eq(dp_parse_ip_as(m, dp_meta(m), DPSEC_AF_INET), 0);
	dp_meta(m)->in_port = 2;
	return m;
}

/* All the pieces of big4(len), cut into each bytes of data, to the
 * table; what the last one gives. */
static struct rte_mbuf *big4_take(uint32_t len, uint32_t each)
{
	struct rte_mbuf *m = NULL;

	big4(len);
	for (uint32_t off = 0; off < len - 20; off += each) {
		ck_assert_ptr_null(m);
		m = dp_reass_take(&worker, big4_piece(len, off, each), 10);
	}
	return m;
}

/* Longer than a packet buffer (2 KB here): made whole in one buffer of
 * the big pool, byte for byte, checksum right, its meta the first
 * fragment's (in_port); 7,000 bytes from five 1,400-byte fragments, and
 * the most the big buffer holds (65,407 bytes) from eight of 8,176. */
START_TEST(test_longer_than_a_buffer)
{
	static const uint32_t lens[2] = { 7000, DP_REASS_BIG_ROOM - RTE_PKTMBUF_HEADROOM };
	static const uint32_t each[2] = { 1400, 8176 };
	unsigned int big_free = rte_mempool_avail_count(ctx.big_pool);
	struct rte_mbuf *m;

	counters_mark();
	m = big4_take(lens[_i], each[_i]);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_eq(m->pool, ctx.big_pool);
	ck_assert_uint_eq(m->nb_segs, 1);
	ck_assert_uint_eq(m->pkt_len, lens[_i]);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *) + 20, big + 20, lens[_i] - 20);
	ck_assert_uint_eq(rte_ipv4_cksum(rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *)), 0);
	ck_assert_uint_eq(dp_meta(m)->in_port, 2);
	ck_assert_uint_eq(dp_meta(m)->l4proto, IPPROTO_ESP);
	ck_assert_uint_eq(delta(DP_C_reass_packets), 1);
	rte_pktmbuf_free(m);
	ck_assert_uint_eq(rte_mempool_avail_count(ctx.big_pool), big_free);
	ck_assert_uint_eq(rte_mempool_avail_count(jumbo_pool), 64);
}
END_TEST

/* Not made whole, every buffer given back: a byte more than the big buffer
 * holds (reass_too_big), and no big buffer free (no_buffer). */
START_TEST(test_longer_than_a_big_buffer)
{
	struct rte_mbuf *hold[DP_REASS_BIG_BUFFERS];
	unsigned int n_hold = rte_mempool_avail_count(ctx.big_pool);

	counters_mark();
	ck_assert_ptr_null(big4_take(DP_REASS_BIG_ROOM - RTE_PKTMBUF_HEADROOM + 1, 8176));
	ck_assert_uint_eq(delta(DP_DROP_reass_too_big), 1);
	for (unsigned int i = 0; i < n_hold; i++)
		ck_assert_ptr_nonnull(hold[i] = rte_pktmbuf_alloc(ctx.big_pool));
	ck_assert_ptr_null(big4_take(7000, 1400));
	ck_assert_uint_eq(delta(DP_DROP_no_buffer), 1);
	for (unsigned int i = 0; i < n_hold; i++)
		rte_pktmbuf_free(hold[i]);
	ck_assert_uint_eq(rte_mempool_avail_count(jumbo_pool), 64);
	ck_assert_uint_eq(delta(DP_C_reass_held), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reass");
	TCase *tc = tcase_create("reass");

	dp_test_worker_init(&ctx, &worker, 1, DP_REASS_MAX_PACKETS + 256);
	jumbo_pool = rte_pktmbuf_pool_create("jumbo", 64, 0, DP_META_SIZE, 9000 + 128, SOCKET_ID_ANY);
	if (jumbo_pool == NULL || dp_reass_init(&worker, TIMEOUT, SOCKET_ID_ANY) != 0)
		abort();
	tcase_add_loop_test(tc, test_out_of_order, 0, 2);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_table_bound);
	tcase_add_test(tc, test_ipv6_later_fragment_parse);
	tcase_add_test(tc, test_udp_fragments_owner);
	tcase_add_loop_test(tc, test_longer_than_a_buffer, 0, 2);
	tcase_add_test(tc, test_longer_than_a_big_buffer);
	tcase_add_test(tc, test_fini_frees_held);
	suite_add_tcase(s, tc);
	return check_run(s);
}
