/* test_frag.c - the limits of fragmentation before encapsulation
 * (frag.c) that the pcap-based cross-validation cannot reach: a packet
 * whose fragments find no buffers is drop_no_buffer and leaves none
 * behind; one that would need more than DP_FRAG_MAX fragments (a LAN
 * wider than 1,500 bytes) is drop_too_big; and, for contrast, a packet
 * that fits the limits becomes fragments whose headers parse, each
 * keeping the port it came in by. The same for the IPv6 ESP packets the
 * host's transport mode SAs send: their fragment headers field by field,
 * the data put back together, and the packets not cut (below IPv6's
 * minimum MTU, an extension header, no buffer). (xval checks the
 * fragments byte for byte against scapy.) */
#include <check.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "dp_pkt.h"
#include "dp_test_worker.h"
#include "frag.h"
#include "check_run.h"

#define POOL 64u

static struct dp_ctx ctx;
static struct dp_worker worker;

/* An IPv4 UDP packet of len bytes without DF, parsed, from port 1. */
static struct rte_mbuf *packet(uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	struct rte_ipv4_hdr *ip;

	ck_assert_ptr_nonnull(m);
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, (uint16_t)len);
	ck_assert_ptr_nonnull(ip);
	memset(ip, 0x5c, len);
	*ip = (struct rte_ipv4_hdr){ .version_ihl = 0x45, .time_to_live = 64,
				     .next_proto_id = IPPROTO_UDP,
				     .total_length = rte_cpu_to_be_16((uint16_t)len),
				     .src_addr = RTE_BE32(0x0a010002), .dst_addr = RTE_BE32(0x0a020002) };
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ck_assert_int_eq(dp_parse_ipv4(m, dp_meta(m)), 0);
	dp_meta(m)->in_port = 1;
	return m;
}

static uint64_t ctr(int c)
{
	return worker.ctr->c[c];
}

/* 1,500 bytes into pieces of 600: three fragments of 576, 576 and 328
 * data bytes, MF on all but the last, each a packet that parses. */
START_TEST(test_cut_parses)
{
	struct rte_mbuf *out[DP_FRAG_MAX];
	uint64_t before = ctr(DP_C_prefrag_fragments);
	uint16_t n = dp_frag4_split(&worker, packet(1500), 600, DP_FRAG_BEFORE_ESP, out);

	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(ctr(DP_C_prefrag_fragments) - before, 3);
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(out[i], const struct rte_ipv4_hdr *);
		uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
		struct dp_meta md;

		ck_assert_int_eq(dp_parse_ipv4(out[i], &md), 0);
		ck_assert_uint_eq(fo & RTE_IPV4_HDR_OFFSET_MASK, i * 576u / 8);
		ck_assert_uint_eq(!!(fo & RTE_IPV4_HDR_MF_FLAG), i + 1 < n);
		ck_assert_uint_eq(out[i]->pkt_len, 20u + (i + 1 < n ? 576u : 328u));
		ck_assert_uint_eq(dp_meta(out[i])->in_port, 1);
		rte_pktmbuf_free(out[i]);
	}
	ck_assert_uint_eq(rte_mempool_avail_count(ctx.pool), POOL);
}
END_TEST

/* Buffers for one fragment of three: dropped as no_buffer, the packet and
 * the fragments made so far freed. */
START_TEST(test_no_buffer)
{
	struct rte_mbuf *hold[POOL], *out[DP_FRAG_MAX], *m = packet(1500);
	uint64_t before = ctr(DP_DROP_no_buffer);
	unsigned int n_hold = rte_mempool_avail_count(ctx.pool) - 1;

	for (unsigned int i = 0; i < n_hold; i++)
		ck_assert_ptr_nonnull(hold[i] = rte_pktmbuf_alloc(ctx.pool));
	ck_assert_uint_eq(dp_frag4_split(&worker, m, 600, DP_FRAG_BEFORE_ESP, out), 0);
	ck_assert_uint_eq(ctr(DP_DROP_no_buffer) - before, 1);
	ck_assert_uint_eq(rte_mempool_avail_count(ctx.pool), 2); /* the one spare, and m */
	for (unsigned int i = 0; i < n_hold; i++)
		rte_pktmbuf_free(hold[i]);
	ck_assert_uint_eq(rte_mempool_avail_count(ctx.pool), POOL);
}
END_TEST

/* 2,000 bytes (a jumbo LAN) into fragments of 68: 42 would be needed, more
 * than DP_FRAG_MAX: too_big, nothing left allocated. 1,500 bytes need 31:
 * cut. */
START_TEST(test_too_many_fragments)
{
	struct rte_mbuf *out[DP_FRAG_MAX];
	uint64_t before = ctr(DP_DROP_too_big);
	uint16_t n;

	ck_assert_uint_eq(dp_frag4_split(&worker, packet(2000), 68, DP_FRAG_BEFORE_ESP, out), 0);
	ck_assert_uint_eq(ctr(DP_DROP_too_big) - before, 1);
	ck_assert_uint_eq(rte_mempool_avail_count(ctx.pool), POOL);
	n = dp_frag4_split(&worker, packet(1500), 68, DP_FRAG_BEFORE_ESP, out);
	ck_assert_uint_eq(n, 31);
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(out[i]);
}
END_TEST

/* An IPv6 ESP packet of len bytes (its payload counting up), parsed, from
 * port 1; proto is its header's next header. */
static struct rte_mbuf *packet6(uint32_t len, uint8_t proto)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	struct rte_ipv6_hdr *ip;
	uint8_t *payload;

	ck_assert_ptr_nonnull(m);
	ip = (struct rte_ipv6_hdr *)rte_pktmbuf_append(m, (uint16_t)len);
	ck_assert_ptr_nonnull(ip);
	*ip = (struct rte_ipv6_hdr){ .vtc_flow = RTE_BE32(0x60000000), .hop_limits = 64,
				     .proto = proto,
				     .payload_len = rte_cpu_to_be_16((uint16_t)(len - 40)) };
	ip->src_addr[0] = ip->dst_addr[0] = 0xfd;
	ip->dst_addr[15] = 2;
	payload = (uint8_t *)(ip + 1);
	for (uint32_t i = 0; i < len - 40; i++)
		payload[i] = (uint8_t)i;
	payload[1] = 8; /* a hop-by-hop header's length, when proto says it is one */
	dp_meta(m)->in_port = 1;
	dp_meta(m)->family = DPSEC_AF_INET6;
	return m;
}

/* 2,000 bytes into fragments of at most 1,280: 1,232 data bytes (1,280
 * less the two headers, a multiple of 8) and 728, behind a fragment header
 * naming ESP, with one identification, offsets 0 and 1,232, M on the first;
 * put back together, the payload as it was; each parses as a fragment. */
START_TEST(test_cut6_fields)
{
	struct rte_mbuf *out[DP_FRAG_MAX];
	uint64_t before = ctr(DP_C_frag_fragments);
	uint16_t n = dp_frag6_split(&worker, packet6(2000, IPPROTO_ESP), 1280, out);
	uint32_t id0 = 0;

	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(ctr(DP_C_frag_fragments) - before, 2);
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(out[i], const struct rte_ipv6_hdr *);
		const struct rte_ipv6_fragment_ext *fh = (const void *)(ip + 1);
		const uint8_t *data = (const uint8_t *)(fh + 1);
		uint16_t fd = rte_be_to_cpu_16(fh->frag_data), len = i == 0 ? 1232 : 728;

		ck_assert_uint_eq(out[i]->pkt_len, 48u + len);
		ck_assert_uint_eq(rte_be_to_cpu_16(ip->payload_len), 8u + len);
		ck_assert_uint_eq(ip->proto, IPPROTO_FRAGMENT);
		ck_assert_uint_eq(fh->next_header, IPPROTO_ESP);
		ck_assert_uint_eq(fd & ~7u, i * 1232u);
		ck_assert_uint_eq(fd & 1u, i == 0);
		if (i == 0)
			id0 = fh->id;
		ck_assert_uint_eq(fh->id, id0);
		for (uint32_t b = i == 0 ? 2 : 0; b < len; b++)
			ck_assert_uint_eq(data[b], (uint8_t)(i * 1232u + b));
		ck_assert(dp_meta(out[i])->flags & DP_M_FRAG);
		ck_assert_uint_eq(dp_meta(out[i])->family, DPSEC_AF_INET6);
		ck_assert_uint_eq(dp_meta(out[i])->in_port, 1);
		rte_pktmbuf_free(out[i]);
	}
	ck_assert_uint_eq(rte_mempool_avail_count(ctx.pool), POOL);
}
END_TEST

/* Not cut, dropped, nothing left allocated: fragments under 1,280 bytes
 * (too_big), a packet with an extension header the fragment header would
 * have to follow (too_big), buffers for one fragment of two (no_buffer). */
START_TEST(test_cut6_refused)
{
	struct rte_mbuf *hold[POOL], *out[DP_FRAG_MAX];
	uint64_t too_big = ctr(DP_DROP_too_big), no_buffer = ctr(DP_DROP_no_buffer);
	unsigned int n_hold;

	ck_assert_uint_eq(dp_frag6_split(&worker, packet6(2000, IPPROTO_ESP), 1279, out), 0);
	ck_assert_uint_eq(dp_frag6_split(&worker, packet6(2000, IPPROTO_HOPOPTS), 1280, out), 0);
	ck_assert_uint_eq(ctr(DP_DROP_too_big) - too_big, 2);
	ck_assert_uint_eq(rte_mempool_avail_count(ctx.pool), POOL);
	n_hold = rte_mempool_avail_count(ctx.pool) - 2;
	for (unsigned int i = 0; i < n_hold; i++)
		ck_assert_ptr_nonnull(hold[i] = rte_pktmbuf_alloc(ctx.pool));
	ck_assert_uint_eq(dp_frag6_split(&worker, packet6(2000, IPPROTO_ESP), 1280, out), 0);
	ck_assert_uint_eq(ctr(DP_DROP_no_buffer) - no_buffer, 1);
	for (unsigned int i = 0; i < n_hold; i++)
		rte_pktmbuf_free(hold[i]);
	ck_assert_uint_eq(rte_mempool_avail_count(ctx.pool), POOL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("frag");
	TCase *tc = tcase_create("frag");

	dp_test_worker_init(&ctx, &worker, 1, POOL);
	tcase_add_test(tc, test_cut_parses);
	tcase_add_test(tc, test_no_buffer);
	tcase_add_test(tc, test_too_many_fragments);
	tcase_add_test(tc, test_cut6_fields);
	tcase_add_test(tc, test_cut6_refused);
	suite_add_tcase(s, tc);
	return check_run(s);
}
