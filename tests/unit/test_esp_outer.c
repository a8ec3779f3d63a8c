/* test_esp_outer.c - the outer header of outbound ESP through the real
 * dp_esp_out: an IPv6 tunnel's flow label per SA (RFC 6437), the IPv4
 * header checksum finished from the SA template's partial sum, the
 * checksum helpers against DPDK's; and an SA moved to its peer's new
 * address or port (RFC 7296 §2.23, dp_sa_move_out), which numbers on from
 * where its old copy stopped while that copy numbers nothing more, with
 * what may not move refused by name. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "esp_out_world.h"
#include "check_run.h"

/* The flow label of an IPv6 tunnel's outer header (RFC 6437): each
 * outbound SA has its own, never 0; SAs alike but for the SPI differ (two
 * random 20-bit labels meet once in a million). */
START_TEST(test_outer_flow_label_per_sa)
{
	struct dpsec_sa_conf c = test_conf(false, DPSEC_ENC_AES_GCM_16);
	uint32_t label[2];
	char err[256];

	dp_sa_table_fini(&ctx.sas);
	ck_assert_int_eq(dp_sa_table_init(&ctx.sas, N_SLOTS, SOCKET_ID_ANY), 0);
	c.direction = DPSEC_DIR_OUT;
	c.local = (struct dpsec_addr){ .family = DPSEC_AF_INET6,
				       .a = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	c.remote = (struct dpsec_addr){ .family = DPSEC_AF_INET6,
					.a = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } };
	for (int i = 0; i < 2; i++) {
		const struct rte_ipv6_hdr *ip;

		c.spi = 0x5000 + (uint32_t)i;
		ck_assert_msg(dp_sa_install(&ctx.sas, worker.crypto, (uint32_t)i, &c, 0, NULL, err,
					    sizeof(err)) == 0, "%s", err);
		ip = (const struct rte_ipv6_hdr *)ctx.sas.sa[i]->outer;
		ck_assert_uint_eq(rte_be_to_cpu_32(ip->vtc_flow) >> 20, 6u << 8); /* TC 0: the packet's */
		label[i] = rte_be_to_cpu_32(ip->vtc_flow) & 0xfffff;
		ck_assert_uint_ne(label[i], 0);
	}
	ck_assert_uint_ne(label[0], label[1]);
}
END_TEST

/* The outer IPv4 header's checksum is finished from the template's partial
 * sum: it must verify for every TOS, length and DF combination. */
START_TEST(test_outer_checksum_verifies)
{
	install_pair(false, DPSEC_ENC_AES_GCM_16);
	for (uint32_t i = 0; i < 64; i++) {
		struct rte_mbuf *m = clear_packet();
		struct rte_ipv4_hdr *in = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		struct rte_ipv4_hdr *out;
		uint16_t sum;

		in->type_of_service = (uint8_t)(i * 37);
		in->fragment_offset = (i & 1) ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
		rte_pktmbuf_append(m, (uint16_t)(i * 13)); /* varies the outer length */
		ck_assert_uint_eq(dp_esp_out(&worker, &m, 1), 1);
		out = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		ck_assert_uint_eq(out->type_of_service, (uint8_t)(i * 37));
		ck_assert_uint_eq(out->fragment_offset, (i & 1) ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0);
		ck_assert_uint_eq(rte_be_to_cpu_16(out->total_length), m->pkt_len);
		sum = out->hdr_checksum;
		out->hdr_checksum = 0;
		ck_assert_uint_eq(sum, rte_ipv4_cksum(out));
		rte_pktmbuf_free(m);
	}
}
END_TEST

/* SA 0 (cipher enc_alg), negotiated, moved to 198.51.100.9: from and to,
 * its descriptions; returns the old copy. */
static struct dp_sa *move_sa0(uint8_t enc_alg, struct dpsec_sa_conf *from, struct dpsec_sa_conf *to)
{
	struct dpsec_cmd_sa_move mv = { .sa_id = 0 };
	struct dp_sa *old;
	char err[256];

	*from = test_conf(false, enc_alg);
	from->direction = DPSEC_DIR_OUT;
	from->negotiated = true;
	*to = *from;
	to->remote.a[0] = 198, to->remote.a[1] = 51, to->remote.a[2] = 100, to->remote.a[3] = 9;
	mv.remote = to->remote;
	ck_assert_msg(dp_sa_move_check(from, &mv, err, sizeof(err)) == 0, "%s", err);
	old = dp_sa_move_out(&ctx.sas, 0, from, to, err, sizeof(err));
	ck_assert_msg(old != NULL, "%s", err);
	ck_assert_ptr_ne(ctx.sas.sa[0], old);
	return old;
}

/* An outbound SA moved to its peer's new address (RFC 7296 §2.23, the
 * NAT in front of the peer mapped it anew): its next packet goes there
 * under a valid header checksum, numbered after the old copy's last, and
 * decrypts with an inbound twin at the new address (the copy's key
 * schedule works without the old one: 3DES's points into itself); the
 * recorded path MTU is forgotten (another path); the old copy, which a
 * worker may still hold until the grace period, numbers nothing more
 * (sa_moved). */
START_TEST(test_moved_sa_goes_on_from_its_numbers)
{
	struct dpsec_sa_conf from, to, twin;
	struct rte_ipv4_hdr *ip;
	struct rte_mbuf *m;
	struct dp_sa *old;
	uint16_t sum;
	char err[256];

	install_pair(false, loop_algs[_i]);
	twin = test_conf(false, loop_algs[_i]);
	twin.direction = DPSEC_DIR_IN;
	twin.local = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 198, 51, 100, 9 } };
	ck_assert_msg(dp_sa_install(&ctx.sas, worker.crypto, 65, &twin, dp_cfg_rule_id(0), NULL, err,
				    sizeof(err)) == 0, "%s", err);
	for (int k = 0; k < 3; k++)
		rte_pktmbuf_free(send_one());
	ctx.sas.sa[0]->path_mtu = 1400 | (UINT64_MAX & ~DP_SA_PMTU_MASK);
	old = move_sa0(loop_algs[_i], &from, &to);
	ck_assert_uint_eq(ctx.sas.sa[0]->path_mtu, 0);
	m = clear_packet();
	dp_meta(m)->sap = old; /* a worker that read the slot before the move */
	ck_assert_uint_eq(dp_esp_out(&worker, &m, 1), 0);
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_sa_moved], 1);
	dp_sa_destroy(&ctx.sas, old); /* wiped: the copy must not lean on it */
	m = send_one();
	ck_assert_ptr_nonnull(m);
	ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	ck_assert_mem_eq(&ip->dst_addr, to.remote.a, 4);
	ck_assert_mem_eq(&ip->src_addr, from.local.a, 4);
	sum = ip->hdr_checksum;
	ip->hdr_checksum = 0;
	ck_assert_uint_eq(sum, rte_ipv4_cksum(ip));
	ip->hdr_checksum = sum;
	ck_assert_uint_eq(wire_spi(m), 0x4242);
	ck_assert_uint_eq(wire_seq(m), 4);
	ck_assert(decrypts(m));
	ck_assert_uint_eq(worker.sa_ctr[65].packets, 1);
	m = send_one();
	ck_assert_uint_eq(wire_seq(m), 5);
	rte_pktmbuf_free(m);
}
END_TEST

/* With ESP in UDP the peer's new port goes into the template (RFC 3948:
 * ours stays 4500), in tunnel mode (_i 0) and transport mode (_i 1), whose
 * template is the UDP header alone; with the address unchanged the path
 * MTU stays. */
START_TEST(test_moved_sa_takes_the_new_port)
{
	struct dpsec_sa_conf c = test_conf(false, DPSEC_ENC_AES_GCM_16), to;
	const uint32_t slot = 65;
	struct rte_udp_hdr *udp;
	struct rte_mbuf *m;
	struct dp_sa *old;
	char err[256];

	install_pair(false, DPSEC_ENC_AES_GCM_16);
	c.direction = DPSEC_DIR_OUT;
	c.negotiated = true;
	c.mode = _i ? DPSEC_MODE_TRANSPORT : DPSEC_MODE_TUNNEL;
	c.encap = DPSEC_ENCAP_UDP;
	c.udp_sport = 4500;
	c.udp_dport = 31000;
	ck_assert_msg(dp_sa_install(&ctx.sas, worker.crypto, slot, &c, 0, NULL, err, sizeof(err)) == 0,
		      "%s", err);
	ctx.sas.sa[slot]->path_mtu = 1400 | (UINT64_MAX & ~DP_SA_PMTU_MASK);
	to = c;
	to.udp_dport = 42000;
	old = dp_sa_move_out(&ctx.sas, slot, &c, &to, err, sizeof(err));
	ck_assert_msg(old != NULL, "%s", err);
	ck_assert_uint_eq(ctx.sas.sa[slot]->path_mtu & DP_SA_PMTU_MASK, 1400);
	ck_assert_uint_eq(send_burst(&m, 1, &slot), 1);
	udp = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, sizeof(struct rte_ipv4_hdr));
	ck_assert_uint_eq(rte_be_to_cpu_16(udp->dst_port), 42000);
	ck_assert_uint_eq(rte_be_to_cpu_16(udp->src_port), 4500);
	ck_assert_uint_eq(rte_be_to_cpu_16(udp->dgram_len), m->pkt_len - sizeof(struct rte_ipv4_hdr));
	rte_pktmbuf_free(m);
	dp_sa_destroy(&ctx.sas, old);
}
END_TEST

/* What may not move, each refused with its reason. */
START_TEST(test_move_refusals_name_the_reason)
{
	struct dpsec_sa_conf c = test_conf(false, DPSEC_ENC_AES_GCM_16);
	struct dpsec_cmd_sa_move mv = { .remote = c.remote };
	static const struct {
		uint8_t direction;
		bool negotiated;
		uint8_t mode, encap, family;
		uint16_t port;
		const char *why;
	} cases[] = {
		{ DPSEC_DIR_IN, true, DPSEC_MODE_TUNNEL, 0, DPSEC_AF_INET, 0,
		  "inbound SA without ESP in UDP" },
		{ DPSEC_DIR_OUT, false, DPSEC_MODE_TUNNEL, 0, DPSEC_AF_INET, 0, "static key" },
		{ DPSEC_DIR_OUT, true, DPSEC_MODE_TUNNEL, 0, DPSEC_AF_INET6, 0, "family" },
		{ DPSEC_DIR_OUT, true, DPSEC_MODE_TRANSPORT, 0, DPSEC_AF_INET, 0, "no outer header" },
		{ DPSEC_DIR_OUT, true, DPSEC_MODE_TUNNEL, DPSEC_ENCAP_UDP, DPSEC_AF_INET, 0,
		  "needs the peer's new port" },
		{ DPSEC_DIR_OUT, true, DPSEC_MODE_TUNNEL, 0, DPSEC_AF_INET, 4500, "a port given" },
	};
	char err[256];

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		c.direction = cases[k].direction;
		c.negotiated = cases[k].negotiated;
		c.mode = cases[k].mode;
		c.encap = cases[k].encap;
		mv.remote.family = cases[k].family;
		mv.udp_port = cases[k].port;
		ck_assert_int_eq(dp_sa_move_check(&c, &mv, err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, cases[k].why) != NULL, "case %zu: %s", k, err);
	}
	c.direction = DPSEC_DIR_OUT;
	c.negotiated = true;
	c.mode = DPSEC_MODE_TRANSPORT;
	c.encap = DPSEC_ENCAP_UDP;
	mv.remote.family = DPSEC_AF_INET;
	mv.udp_port = 4500;
	ck_assert_int_eq(dp_sa_move_check(&c, &mv, err, sizeof(err)), 0);
	c.direction = DPSEC_DIR_IN; /* its peer's port, as the peer's NAT now maps it */
	ck_assert_int_eq(dp_sa_move_check(&c, &mv, err, sizeof(err)), 0);
}
END_TEST

/* The 20-byte IPv4 header sum against DPDK's own, on random headers and on
 * valid ones (which sum to 0xffff). */
START_TEST(test_ipv4_sum20_matches_dpdk)
{
	uint32_t x = 0x12345678;

	for (int n = 0; n < 100000; n++) {
		uint8_t h[20];

		for (int i = 0; i < 20; i++) {
			x = x * 1103515245u + 12345u;
			h[i] = (uint8_t)(x >> 16);
		}
		if (n % 3 == 0)
			memset(h + (n % 17), 0xff, 3); /* long carries */
		ck_assert_uint_eq(dp_ipv4_hdr_sum20(h), rte_raw_cksum(h, 20));
		h[0] = 0x45; /* rte_ipv4_cksum reads the length from here */
		((struct rte_ipv4_hdr *)h)->hdr_checksum = 0;
		((struct rte_ipv4_hdr *)h)->hdr_checksum = rte_ipv4_cksum((struct rte_ipv4_hdr *)h);
		ck_assert_uint_eq(dp_ipv4_hdr_sum20(h), 0xffff);
	}
}
END_TEST

/* Transport mode's header rewrite updates the checksum for the two words
 * it changes (RFC 1624): it must give what summing the header again gives,
 * for any valid header, protocol and length. */
START_TEST(test_ipv4_proto_len_update_matches_full_sum)
{
	uint32_t x = 0x9e3779b9;

	for (int n = 0; n < 100000; n++) {
		uint8_t h[20];
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)h;
		uint8_t proto;
		uint16_t total, want;

		for (int i = 0; i < 20; i++) {
			x = x * 1103515245u + 12345u;
			h[i] = (uint8_t)(x >> 16);
		}
		if (n % 3 == 0)
			memset(h + (n % 17), 0xff, 3); /* long carries */
		h[0] = 0x45;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		proto = (uint8_t)(x >> 8);
		total = (uint16_t)(x >> 3);
		dp_ipv4_set_proto_len(ip, proto, total);
		ck_assert_uint_eq(ip->next_proto_id, proto);
		ck_assert_uint_eq(rte_be_to_cpu_16(ip->total_length), total);
		want = ip->hdr_checksum;
		ip->hdr_checksum = 0;
		ck_assert_uint_eq(want, rte_ipv4_cksum(ip));
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("esp_outer");
	TCase *tc = tcase_create("outer");

	setup_ctx();
	tcase_add_test(tc, test_outer_flow_label_per_sa);
	tcase_add_test(tc, test_outer_checksum_verifies);
	tcase_add_test(tc, test_ipv4_sum20_matches_dpdk);
	tcase_add_test(tc, test_ipv4_proto_len_update_matches_full_sum);
	tcase_add_loop_test(tc, test_moved_sa_goes_on_from_its_numbers, 0, N_LOOP_ALGS);
	tcase_add_loop_test(tc, test_moved_sa_takes_the_new_port, 0, 2);
	tcase_add_test(tc, test_move_refusals_name_the_reason);
	suite_add_tcase(s, tc);
	return check_run(s);
}
