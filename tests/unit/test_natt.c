/* test_natt.c - NAT traversal (RFC 3948) through the real dataplane code:
 * the UDP header dp_esp_out puts before ESP (ports, length, checksum 0 over
 * IPv4 with a valid IPv4 header checksum, a valid checksum over IPv6), in
 * tunnel and transport mode; what dp_natt_classify makes of a packet on a
 * NAT-T port (IKE, keepalive, ESP in UDP, bad lengths); decryption of ESP in
 * UDP by dp_esp_in, with the inner header and checksums of transport mode
 * fixed after a NAT rewrote the outer address, and a NAT's new mapping
 * (another source port) reported once; encapsulation mismatches;
 * the keepalive schedule and the keepalive packet; and the checks of an SA
 * arriving through the command ring. */
#include <check.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring_elem.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp.h"
#include "dp_pkt.h"
#include "dp_policy.h"
#include "dp_test_worker.h"
#include "esp.h"
#include "natt.h"
#include "ofl_engine.h"
#include "check_run.h"

static struct dp_ctx ctx;
static struct dp_worker worker;

static const uint8_t host_a4[4] = { 192, 0, 2, 1 }, host_b4[4] = { 192, 0, 2, 2 };
static const uint8_t nat4[4] = { 198, 51, 100, 7 };
static const uint8_t host_a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t host_b6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t nat6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x77, [15] = 7 };

struct variant {
	uint8_t family, mode, enc_alg;
};

/* _i of the loop tests: every family x mode x algorithm. */
static struct variant variant_of(int i)
{
	return (struct variant){ .family = (i & 1) ? DPSEC_AF_INET6 : DPSEC_AF_INET,
				 .mode = (i & 2) ? DPSEC_MODE_TRANSPORT : DPSEC_MODE_TUNNEL,
				 .enc_alg = (i & 4) ? DPSEC_ENC_AES_CBC : DPSEC_ENC_AES_GCM_16 };
}

static void set_addr(struct dpsec_addr *a, uint8_t family, const uint8_t *v4, const uint8_t *v6)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->a, family == DPSEC_AF_INET6 ? v6 : v4, family == DPSEC_AF_INET6 ? 16 : 4);
}

/* Slot 0: outbound A -> B; slot 1: its inbound twin as B sees it (same
 * keys and SPI), bound to the test's rule. encap applies to both. */
static struct dpsec_sa_conf out_conf; /* the outbound SA install_pair made */

static void install_pair(struct variant v, uint8_t encap)
{
	struct dpsec_sa_conf c = { .spi = 0x4242, .mode = v.mode, .replay_window = 64,
				   .enc_alg = v.enc_alg, .enc_key_len = 16, .encap = encap };
	char err[256];

	memset(c.enc_key, 0x3c, sizeof(c.enc_key));
	if (v.enc_alg == DPSEC_ENC_AES_CBC) {
		c.integ_alg = DPSEC_INTEG_HMAC_SHA256_128;
		c.integ_key_len = 32;
		memset(c.integ_key, 0x5a, 32);
	}
	if (encap == DPSEC_ENCAP_UDP) {
		c.udp_sport = 4501;
		c.udp_dport = DPSEC_NATT_PORT;
	}
	set_addr(&c.local, v.family, host_a4, host_a6);
	set_addr(&c.remote, v.family, host_b4, host_b6);
	dp_sa_table_fini(&ctx.sas);
	ck_assert_int_eq(dp_sa_table_init(&ctx.sas, 2, SOCKET_ID_ANY), 0);
	c.direction = DPSEC_DIR_OUT;
	ck_assert_msg(dp_sa_conf_check(&c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(dp_sa_install(&ctx.sas, worker.crypto, 0, &c, 0, NULL, err, sizeof(err)) == 0,
		      "%s", err);
	out_conf = c;
	c.direction = DPSEC_DIR_IN;
	set_addr(&c.local, v.family, host_b4, host_b6);
	set_addr(&c.remote, v.family, host_a4, host_a6);
	ck_assert_msg(dp_sa_install(&ctx.sas, worker.crypto, 1, &c, dp_cfg_rule_id(0), NULL, err,
				    sizeof(err)) == 0, "%s", err);
	memset(worker.ctr, 0, sizeof(*worker.ctr));
	memset(worker.sa_ctr, 0, sizeof(*worker.sa_ctr) * 2);
}

static uint16_t ip_hdr_len(uint8_t family)
{
	return family == DPSEC_AF_INET6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
}

/* IP header of family from A to B for proto with l4_len bytes after it. */
static void put_ip(uint8_t *p, uint8_t family, uint8_t proto, uint16_t l4_len)
{
	if (family == DPSEC_AF_INET6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)p;

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(l4_len);
		ip->proto = proto;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, host_a6, 16);
		memcpy(ip->dst_addr, host_b6, 16);
		return;
	}
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len));
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	memcpy(&ip->src_addr, host_a4, 4);
	memcpy(&ip->dst_addr, host_b4, 4);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static uint16_t l4_cksum(const uint8_t *p, uint8_t family)
{
	const uint8_t *l4 = p + ip_hdr_len(family);

	return family == DPSEC_AF_INET6 ? rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)p, l4)
					: rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)p, l4);
}

static int l4_cksum_verify(const uint8_t *p, uint8_t family)
{
	const uint8_t *l4 = p + ip_hdr_len(family);

	return family == DPSEC_AF_INET6
		       ? rte_ipv6_udptcp_cksum_verify((const struct rte_ipv6_hdr *)p, l4)
		       : rte_ipv4_udptcp_cksum_verify((const struct rte_ipv4_hdr *)p, l4);
}

/* A clear TCP (or UDP) packet A -> B with a valid checksum and n payload
 * bytes, parsed, for the outbound SA; its bytes are copied to copy. */
static struct rte_mbuf *clear_packet(uint8_t family, uint8_t proto, uint16_t n, uint8_t *copy)
{
	uint16_t l4_len = (uint16_t)((proto == IPPROTO_TCP ? sizeof(struct rte_tcp_hdr)
							   : sizeof(struct rte_udp_hdr)) + n);
	uint16_t len = (uint16_t)(ip_hdr_len(family) + l4_len);
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	uint8_t *p, *l4;

	ck_assert_ptr_nonnull(m);
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, len);
	put_ip(p, family, proto, l4_len);
	l4 = p + ip_hdr_len(family);
	for (uint16_t i = 0; i < n; i++)
		l4[l4_len - n + i] = (uint8_t)(i * 7 + 1);
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)l4;

		t->src_port = rte_cpu_to_be_16(40000);
		t->dst_port = rte_cpu_to_be_16(443);
		t->data_off = 5 << 4;
		t->cksum = l4_cksum(p, family);
	} else {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)l4;

		u->src_port = rte_cpu_to_be_16(40000);
		u->dst_port = rte_cpu_to_be_16(53);
		u->dgram_len = rte_cpu_to_be_16(l4_len);
		u->dgram_cksum = l4_cksum(p, family);
	}
	memcpy(copy, p, len);
	ck_assert_int_eq(dp_parse_ip(m, dp_meta(m)), 0);
	dp_meta(m)->sa = 0;
	dp_meta(m)->sap = ctx.sas.sa[0];
	return m;
}

static struct rte_mbuf *encrypt(struct rte_mbuf *m)
{
	ck_assert_uint_eq(dp_esp_out(&worker, &m, 1), 1);
	return m;
}

/* Offset of the UDP header in an encapsulated packet: after the outer
 * header (tunnel) or the packet's own (transport, no options). */
static uint16_t udp_offset(uint8_t family)
{
	return ip_hdr_len(family);
}

static const struct rte_udp_hdr *udp_of(struct rte_mbuf *m, uint8_t family)
{
	return rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, udp_offset(family));
}

/* The outer header: protocol UDP, ports, UDP length, checksums. */
START_TEST(test_outbound_udp_header)
{
	struct variant v = variant_of(_i);
	uint8_t copy[1500];

	install_pair(v, DPSEC_ENCAP_UDP);
	for (uint16_t n = 0; n < 40; n += 3) {
		struct rte_mbuf *m = encrypt(clear_packet(v.family, IPPROTO_TCP, (uint16_t)(n * 11), copy));
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		const struct rte_udp_hdr *udp = udp_of(m, v.family);
		uint32_t udp_len = m->pkt_len - udp_offset(v.family);

		ck_assert_uint_eq(rte_be_to_cpu_16(udp->src_port), 4501);
		ck_assert_uint_eq(rte_be_to_cpu_16(udp->dst_port), DPSEC_NATT_PORT);
		ck_assert_uint_eq(rte_be_to_cpu_16(udp->dgram_len), udp_len);
		ck_assert_uint_eq(rte_be_to_cpu_32(*(const uint32_t *)(udp + 1)), 0x4242); /* SPI */
		if (v.family == DPSEC_AF_INET6) {
			const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)p;

			ck_assert_uint_eq(ip->proto, IPPROTO_UDP);
			ck_assert_uint_eq(rte_be_to_cpu_16(ip->payload_len), udp_len);
			ck_assert_uint_ne(udp->dgram_cksum, 0);
			ck_assert_int_eq(rte_ipv6_udptcp_cksum_verify(ip, udp), 0);
		} else {
			const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;

			ck_assert_uint_eq(ip->next_proto_id, IPPROTO_UDP);
			ck_assert_uint_eq(rte_be_to_cpu_16(ip->total_length), m->pkt_len);
			ck_assert_uint_eq(rte_raw_cksum(ip, sizeof(*ip)), 0xffff); /* header checksum verifies */
			ck_assert_uint_eq(udp->dgram_cksum, 0); /* RFC 3948 §2.1 */
		}
		rte_pktmbuf_free(m);
	}
	ck_assert_uint_eq(worker.sa_ctr[0].packets, 14);
}
END_TEST

/* Plain ESP stays as it was: no UDP header. */
START_TEST(test_outbound_plain_has_no_udp)
{
	struct variant v = variant_of(_i);
	uint8_t copy[1500];
	struct rte_mbuf *m;

	install_pair(v, DPSEC_ENCAP_NONE);
	m = encrypt(clear_packet(v.family, IPPROTO_UDP, 10, copy));
	if (v.family == DPSEC_AF_INET6)
		ck_assert_uint_eq(rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *)->proto, IPPROTO_ESP);
	else
		ck_assert_uint_eq(rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *)->next_proto_id, IPPROTO_ESP);
	ck_assert_uint_eq(rte_be_to_cpu_32(*rte_pktmbuf_mtod_offset(m, uint32_t *, ip_hdr_len(v.family))),
			  0x4242);
	rte_pktmbuf_free(m);
}
END_TEST

/* Where a packet from A comes from: its source address and UDP port,
 * the IPv4 header checksum following (RFC 3022: what a NAT in front of A
 * does); the UDP checksum is left to the receiver, which must not depend
 * on it (RFC 3948 §2.1). */
static void set_source(struct rte_mbuf *m, uint8_t family, const uint8_t *addr, uint16_t port)
{
	struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, udp_offset(family));

	udp->src_port = rte_cpu_to_be_16(port);
	if (family == DPSEC_AF_INET6) {
		memcpy(rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *)->src_addr, addr, 16);
		return;
	}
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

	memcpy(&ip->src_addr, addr, 4);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* The address of the NAT in front of A, and A's own. */
static const uint8_t *nat_addr(uint8_t family)
{
	return family == DPSEC_AF_INET6 ? nat6 : nat4;
}

static const uint8_t *a_addr(uint8_t family)
{
	return family == DPSEC_AF_INET6 ? host_a6 : host_a4;
}

/* Receives m as a worker does: parse, then the NAT-T sort. */
static enum dp_natt_class receive(struct rte_mbuf *m)
{
	ck_assert_int_eq(dp_parse_ip(m, dp_meta(m)), 0);
	return dp_natt_classify(&worker, m, dp_meta(m));
}

/* ESP in UDP from dp_esp_out decrypts with dp_esp_in to the original
 * packet; through a NAT, transport mode hands over a packet whose IP
 * header and TCP/UDP checksum are right for the addresses it now has. */
START_TEST(test_inbound_round_trip)
{
	struct variant v = variant_of(_i);

	install_pair(v, DPSEC_ENCAP_UDP);
	for (int natted = 0; natted < 2; natted++) {
		for (uint8_t proto = IPPROTO_TCP; proto <= IPPROTO_UDP; proto += IPPROTO_UDP - IPPROTO_TCP) {
			uint8_t orig[1500];
			struct rte_mbuf *m = encrypt(clear_packet(v.family, proto, 77, orig));
			const uint8_t *p;

			if (natted)
				set_source(m, v.family, nat_addr(v.family), 61000);
			ck_assert_int_eq(receive(m), DP_NATT_ESP);
			ck_assert_uint_eq(dp_esp_in(&worker, &m, 1), 1);
			p = rte_pktmbuf_mtod(m, const uint8_t *);
			ck_assert_uint_eq(dp_meta(m)->l4proto, proto);
			if (!natted || v.mode == DPSEC_MODE_TUNNEL) {
				ck_assert_uint_eq(m->pkt_len, rte_pktmbuf_data_len(m));
				ck_assert_int_eq(memcmp(p, orig, m->pkt_len), 0); /* byte for byte */
			} else {
				ck_assert_int_eq(memcmp(p + ip_hdr_len(v.family), orig + ip_hdr_len(v.family), 4), 0);
				ck_assert_int_eq(l4_cksum_verify(p, v.family), 0);
			}
			if (v.family == DPSEC_AF_INET)
				ck_assert_uint_eq(rte_raw_cksum(p, sizeof(struct rte_ipv4_hdr)), 0xffff);
			rte_pktmbuf_free(m);
		}
	}
	ck_assert_uint_eq(worker.sa_ctr[1].packets, 4);
	ck_assert_uint_eq(worker.ctr->c[DP_C_esp_in_packets], 4);
}
END_TEST

/* What the workers reported of peers' new NAT mappings since the last call:
 * up to max of them into r; how many. */
static unsigned int moved_reports(struct dp_peer_moved *r, unsigned int max)
{
	return rte_ring_dequeue_burst_elem(ctx.peer_moved, r, sizeof(r[0]), max, NULL);
}

/* A small UDP packet from A, through dp_esp_out. */
static struct rte_mbuf *esp_packet(uint8_t family)
{
	uint8_t orig[1500];

	return encrypt(clear_packet(family, IPPROTO_UDP, 40, orig));
}

/* A packet of ESP in UDP from A, received by B from addr, port port (a
 * NAT's mapping) and decrypted: whether it passed. */
static bool received_from(struct rte_mbuf *m, uint8_t family, const uint8_t *addr, uint16_t port)
{
	set_source(m, family, addr, port);
	ck_assert_int_eq(receive(m), DP_NATT_ESP);
	return dp_esp_in(&worker, &m, 1) == 1 && (rte_pktmbuf_free(m), true);
}

/* The one report r names the inbound SA and the source addr, port. */
static void check_report(const struct dp_peer_moved *r, uint8_t family, const uint8_t *addr,
			 uint16_t port)
{
	ck_assert_uint_eq(r->sa_idx, 1);
	ck_assert_uint_eq(rte_be_to_cpu_16(r->port_be), port);
	ck_assert_uint_eq(r->family, family);
	ck_assert_mem_eq(r->addr, addr, family == DPSEC_AF_INET6 ? 16 : 4);
}

/* The inbound SA moved (SA_MOVE) to addr, port: packets from there are
 * its peer's, the peer's first source (A's address, port 4501) a change
 * reported anew. */
static void check_moved_in(uint8_t family, const uint8_t *addr, uint16_t port)
{
	struct dp_peer_moved r[4];
	struct dpsec_addr peer;

	set_addr(&peer, family, addr, addr);
	dp_sa_move_in(ctx.sas.sa[1], &peer, port);
	ck_assert(received_from(esp_packet(family), family, addr, port));
	ck_assert_uint_eq(moved_reports(r, 4), 0);
	ck_assert(received_from(esp_packet(family), family, a_addr(family), 4501));
	ck_assert_uint_eq(moved_reports(r, 4), 1);
	check_report(&r[0], family, a_addr(family), 4501);
}

/* ESP in UDP from another address and port than the inbound SA's peer
 * sends from (its NAT mapped it anew, RFC 7296 §2.23): once a packet
 * verifies and is new to the window, one report to the manager names the
 * SA, the packet's source address and port; more packets from there add
 * none; an old packet replayed from yet another port, or one whose ICV
 * fails, is dropped and reports nothing; the SA moved to the new source
 * (SA_MOVE) takes it as its peer's, and the old one is then a change
 * reported anew. */
START_TEST(test_new_mapping_reported)
{
	struct variant v = variant_of(_i);
	const uint8_t *a = a_addr(v.family), *nat = nat_addr(v.family);
	struct dp_peer_moved r[4];
	struct rte_mbuf *old;

	install_pair(v, DPSEC_ENCAP_UDP);
	while (moved_reports(r, 4) > 0) /* the earlier tests' */
		;
	ck_assert(received_from(esp_packet(v.family), v.family, a, 4501));
	ck_assert_uint_eq(moved_reports(r, 4), 0); /* the peer's own source */
	old = esp_packet(v.family);
	ck_assert(received_from(rte_pktmbuf_copy(old, ctx.pool, 0, UINT32_MAX), v.family, nat,
				61000));
	ck_assert_uint_eq(moved_reports(r, 4), 1);
	check_report(&r[0], v.family, nat, 61000);
	ck_assert(received_from(esp_packet(v.family), v.family, nat, 61000));
	ck_assert_uint_eq(moved_reports(r, 4), 0); /* reported once */
	ck_assert(!received_from(old, v.family, nat, 62000));
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_replay], 1);
	ck_assert_uint_eq(moved_reports(r, 4), 0); /* a replay proves nothing */
	old = esp_packet(v.family);
	*rte_pktmbuf_mtod_offset(old, uint8_t *, old->pkt_len - 1) ^= 1; /* its ICV */
	ck_assert(!received_from(old, v.family, nat, 63000));
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_icv], 1);
	ck_assert_uint_eq(moved_reports(r, 4), 0); /* nor does a forgery */
	check_moved_in(v.family, nat, 61000);
}
END_TEST

/* A NAT that keeps the port and changes its address (a new public address
 * of a port-preserving NAT): the same port from another address is a new
 * source, reported once; after the SA moved there, the old address is a
 * change again. */
START_TEST(test_new_address_reported)
{
	struct variant v = variant_of(_i);
	const uint8_t *nat = nat_addr(v.family);
	struct dp_peer_moved r[4];

	install_pair(v, DPSEC_ENCAP_UDP);
	while (moved_reports(r, 4) > 0)
		;
	ck_assert(received_from(esp_packet(v.family), v.family, nat, 4501));
	ck_assert_uint_eq(moved_reports(r, 4), 1);
	check_report(&r[0], v.family, nat, 4501);
	ck_assert(received_from(esp_packet(v.family), v.family, nat, 4501));
	ck_assert_uint_eq(moved_reports(r, 4), 0);
	check_moved_in(v.family, nat, 4501);
	ck_assert_uint_eq(worker.sa_ctr[1].packets, 4);
}
END_TEST

/* ESP in UDP for a plain SA, and plain ESP for a UDP SA: counted drops. */
START_TEST(test_encapsulation_mismatch)
{
	struct variant v = variant_of(_i);
	uint8_t copy[1500];
	struct rte_mbuf *m;

	install_pair(v, DPSEC_ENCAP_UDP);
	m = encrypt(clear_packet(v.family, IPPROTO_UDP, 5, copy));
	install_pair(v, DPSEC_ENCAP_NONE); /* same SPI and keys, now without UDP */
	ck_assert_int_eq(receive(m), DP_NATT_ESP);
	ck_assert_uint_eq(dp_esp_in(&worker, &m, 1), 0);
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_natt_mismatch], 1);

	m = encrypt(clear_packet(v.family, IPPROTO_UDP, 5, copy));
	install_pair(v, DPSEC_ENCAP_UDP);
	ck_assert_int_eq(dp_parse_ip(m, dp_meta(m)), 0); /* plain ESP: no NAT-T sort */
	ck_assert_uint_eq(dp_esp_in(&worker, &m, 1), 0);
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_natt_mismatch], 1);
	ck_assert_uint_eq(worker.sa_ctr[1].packets, 0);
}
END_TEST

/* A UDP packet A -> B, 4500 -> 4500, with payload; udp_len_delta skews the
 * UDP length field. */
static struct rte_mbuf *udp_packet(uint8_t family, const uint8_t *payload, uint16_t n,
				   int udp_len_delta)
{
	uint16_t l4_len = (uint16_t)(sizeof(struct rte_udp_hdr) + n);
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(ip_hdr_len(family) + l4_len));
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(p + ip_hdr_len(family));

	memset(p, 0, ip_hdr_len(family) + l4_len);
	put_ip(p, family, IPPROTO_UDP, l4_len);
	u->src_port = u->dst_port = rte_cpu_to_be_16(DPSEC_NATT_PORT);
	u->dgram_len = rte_cpu_to_be_16((uint16_t)(l4_len + udp_len_delta));
	memcpy(u + 1, payload, n);
	return m;
}

START_TEST(test_classify)
{
	uint8_t family = _i ? DPSEC_AF_INET6 : DPSEC_AF_INET;
	static const uint8_t ike[8] = { 0, 0, 0, 0, 0x11, 0x22 }, keepalive[1] = { 0xff };
	static const uint8_t esp[16] = { 0, 0, 0x42, 0x42, 0, 0, 0, 1 }, one[1] = { 0x7f };
	struct rte_mbuf *m;

	memset(worker.ctr, 0, sizeof(*worker.ctr));
	m = udp_packet(family, ike, sizeof(ike), 0); /* non-ESP marker: IKE */
	ck_assert_int_eq(receive(m), DP_NATT_IKE);
	ck_assert(dp_meta(m)->flags & DP_M_IKE);
	rte_pktmbuf_free(m);
	ck_assert_int_eq(receive(udp_packet(family, keepalive, 1, 0)), DP_NATT_DONE);
	ck_assert_uint_eq(worker.ctr->c[DP_C_natt_keepalives_in], 1);
	m = udp_packet(family, esp, sizeof(esp), 0);
	ck_assert_int_eq(receive(m), DP_NATT_ESP);
	ck_assert_uint_eq(dp_meta(m)->l3_len, ip_hdr_len(family) + 8);
	ck_assert(dp_meta(m)->flags & DP_M_NATT);
	rte_pktmbuf_free(m);
	m = udp_packet(family, one, 1, 0); /* one byte, not a keepalive: too short for ESP */
	ck_assert_int_eq(receive(m), DP_NATT_ESP);
	rte_pktmbuf_free(m);
	ck_assert_int_eq(receive(udp_packet(family, esp, sizeof(esp), 4)), DP_NATT_DONE);  /* longer than IP */
	ck_assert_int_eq(receive(udp_packet(family, esp, sizeof(esp), -1)), DP_NATT_DONE); /* shorter */
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_natt_bad_length], 2);
	m = udp_packet(family, esp, 0, 0); /* the IP packet ends inside the UDP header */
	rte_pktmbuf_trim(m, 4);
	if (family == DPSEC_AF_INET6)
		rte_pktmbuf_mtod(m, struct rte_ipv6_hdr *)->payload_len = rte_cpu_to_be_16(4);
	else
		put_ip(rte_pktmbuf_mtod(m, uint8_t *), family, IPPROTO_UDP, 4);
	ck_assert_int_eq(receive(m), DP_NATT_DONE);
	ck_assert_uint_eq(worker.ctr->c[DP_DROP_natt_bad_length], 3);
	ck_assert_uint_eq(worker.ctr->c[DP_C_natt_keepalives_in], 1);
}
END_TEST

/* Sends when the SA was silent for the whole interval, not otherwise; a
 * keepalive restarts the interval; 0 turns it off. */
START_TEST(test_keepalive_schedule)
{
	struct dp_natt_ka ka;
	const uint64_t s = 1000; /* TSC ticks of a second, here */

	dp_natt_ka_start(&ka, 0, 0);
	ck_assert(!dp_natt_ka_due(&ka, 19 * s, 0, 20 * s));  /* silent, not long enough */
	ck_assert(dp_natt_ka_due(&ka, 20 * s, 0, 20 * s));   /* silent for 20 s */
	ck_assert(!dp_natt_ka_due(&ka, 21 * s, 0, 20 * s));  /* just sent one */
	ck_assert(dp_natt_ka_due(&ka, 40 * s, 0, 20 * s));
	ck_assert(!dp_natt_ka_due(&ka, 45 * s, 3, 20 * s));  /* the SA sent: quiet since 45 */
	ck_assert(!dp_natt_ka_due(&ka, 64 * s, 3, 20 * s));
	ck_assert(!dp_natt_ka_due(&ka, 64 * s + 500, 9, 20 * s)); /* sent again */
	ck_assert(!dp_natt_ka_due(&ka, 84 * s, 9, 20 * s));
	ck_assert(dp_natt_ka_due(&ka, 84 * s + 500, 9, 20 * s));
	for (uint64_t t = 85; t < 200; t += 7) /* busy SA: never */
		ck_assert(!dp_natt_ka_due(&ka, t * s, t, 20 * s));
	dp_natt_ka_start(&ka, 0, 0);
	ck_assert(!dp_natt_ka_due(&ka, 1000 * s, 0, 0));     /* off */
}
END_TEST

/* The keepalive: IP from A to B, UDP 4501 -> 4500 of length 9, one 0xff
 * byte, checksums valid (zero UDP checksum over IPv4). */
START_TEST(test_keepalive_packet)
{
	struct variant v = variant_of(_i);
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	const struct rte_udp_hdr *udp;
	const uint8_t *p;

	install_pair(v, DPSEC_ENCAP_UDP);
	ck_assert_int_eq(dp_natt_ka_build(m, &out_conf), 0);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	udp = udp_of(m, v.family);
	ck_assert_uint_eq(m->pkt_len, ip_hdr_len(v.family) + 9u);
	ck_assert_uint_eq(rte_be_to_cpu_16(udp->src_port), 4501);
	ck_assert_uint_eq(rte_be_to_cpu_16(udp->dst_port), DPSEC_NATT_PORT);
	ck_assert_uint_eq(rte_be_to_cpu_16(udp->dgram_len), 9);
	ck_assert_uint_eq(*(const uint8_t *)(udp + 1), 0xff);
	ck_assert_int_eq(dp_parse_ip(m, dp_meta(m)), 0);
	ck_assert_int_eq(memcmp(dp_meta_dst(dp_meta(m)), v.family == DPSEC_AF_INET6 ? host_b6 : host_b4,
				v.family == DPSEC_AF_INET6 ? 16 : 4), 0);
	if (v.family == DPSEC_AF_INET6) {
		ck_assert_int_eq(rte_ipv6_udptcp_cksum_verify((const struct rte_ipv6_hdr *)p, udp), 0);
	} else {
		ck_assert_uint_eq(udp->dgram_cksum, 0);
		ck_assert_uint_eq(rte_raw_cksum(p, sizeof(struct rte_ipv4_hdr)), 0xffff);
	}
	ck_assert_int_eq(receive(m), DP_NATT_DONE); /* and a receiver takes it for one */
	ck_assert_uint_eq(worker.ctr->c[DP_C_natt_keepalives_in], 1);
}
END_TEST

/* SAs from the command ring: encapsulation and ports checked. */
START_TEST(test_conf_check)
{
	struct dpsec_sa_conf c = { .spi = 0x1000, .enc_alg = DPSEC_ENC_AES_GCM_16, .enc_key_len = 16 };
	char err[128];

	set_addr(&c.local, DPSEC_AF_INET, host_a4, host_a6);
	set_addr(&c.remote, DPSEC_AF_INET, host_b4, host_b6);
	ck_assert_int_eq(dp_sa_conf_check(&c, err, sizeof(err)), 0);
	c.udp_dport = 4500;
	ck_assert_int_eq(dp_sa_conf_check(&c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "without UDP encapsulation"));
	c.encap = DPSEC_ENCAP_UDP;
	ck_assert_int_eq(dp_sa_conf_check(&c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "ports 1..65535"));
	c.udp_sport = 4500;
	ck_assert_int_eq(dp_sa_conf_check(&c, err, sizeof(err)), 0);
	c.encap = 2;
	ck_assert_int_eq(dp_sa_conf_check(&c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "encapsulation unknown"));
}
END_TEST

/* Inbound UDP SAs open their local port; deleting the last closes it. */
START_TEST(test_natt_ports)
{
	struct variant v = variant_of(0);
	struct dp_sa *sa;

	install_pair(v, DPSEC_ENCAP_UDP);
	ck_assert(dp_sa_natt_port(&ctx.sas, DPSEC_NATT_PORT));
	ck_assert(!dp_sa_natt_port(&ctx.sas, 4501)); /* an outbound SA's source port: not ours to receive on */
	ck_assert(!dp_sa_natt_port(&ctx.sas, 500));
	sa = dp_sa_unpublish(&ctx.sas, 1);
	ck_assert_ptr_nonnull(sa);
	ck_assert_uint_eq(ctx.sas.natt_port_refs[DPSEC_NATT_PORT], 0);
	dp_sa_destroy(&ctx.sas, sa);
}
END_TEST

static struct dp_policy *any_policy(void)
{
	static struct cfg_dataplane cfg;
	struct dpsec_rule *r = calloc(1, sizeof(*r));
	struct dpsec_filter *f = calloc(2, sizeof(*f));
	char err[256];

	for (int i = 0; i < 2; i++) {
		f[i].src.addr.family = f[i].dst.addr.family = i ? DPSEC_AF_INET6 : DPSEC_AF_INET;
		f[i].mirrored = true;
		f[i].sport_hi = f[i].dport_hi = 65535;
	}
	*r = (struct dpsec_rule){ .action = DPSEC_ACTION_NEGOTIATE, .n_filters = 2, .filters = f,
				  .sa_out = 0, .sa_in = 1 };
	cfg.n_rules = 1;
	cfg.rules = r;
	ctx.cfg = &cfg;
	return dp_policy_build(&cfg, "tnatt", err, sizeof(err));
}

static void setup_ctx(void)
{
	dp_test_worker_init(&ctx, &worker, 2, 128);
	ctx.policy = any_policy();
	if (!ctx.policy)
		abort();
}

int main(void)
{
	Suite *s = suite_create("natt");
	TCase *tc = tcase_create("natt");

	setup_ctx();
	tcase_add_loop_test(tc, test_outbound_udp_header, 0, 8); /* family x mode x GCM/CBC */
	tcase_add_loop_test(tc, test_outbound_plain_has_no_udp, 0, 4);
	tcase_add_loop_test(tc, test_inbound_round_trip, 0, 8);
	tcase_add_loop_test(tc, test_new_mapping_reported, 0, 8);
	tcase_add_loop_test(tc, test_new_address_reported, 0, 8);
	tcase_add_loop_test(tc, test_encapsulation_mismatch, 0, 4);
	tcase_add_loop_test(tc, test_classify, 0, 2);
	tcase_add_test(tc, test_keepalive_schedule);
	tcase_add_loop_test(tc, test_keepalive_packet, 0, 2);
	tcase_add_test(tc, test_conf_check);
	tcase_add_test(tc, test_natt_ports);
	suite_add_tcase(s, tc);
	return check_run(s);
}
