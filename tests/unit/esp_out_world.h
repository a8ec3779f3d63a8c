/* esp_out_world.h - what the unit tests of the outbound ESP path share
 * (test_esp_seq.c, test_esp_outer.c): one worker and its SA table, the
 * tests' SA and its inbound twin, clear packets for it, and packets sent
 * through the real dp_esp_out and back through dp_esp_in. */
#ifndef ESP_OUT_WORLD_H
#define ESP_OUT_WORLD_H

#include <check.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "dp_pkt.h"
#include "dp_policy.h"
#include "dp_test_worker.h"
#include "esp.h"

static struct dp_ctx ctx;
static struct dp_worker worker;

/* The ciphers of the loop tests: _i indexes this. */
static const uint8_t loop_algs[] = { DPSEC_ENC_AES_GCM_16, DPSEC_ENC_AES_CBC, DPSEC_ENC_3DES_CBC };
#define N_LOOP_ALGS ((int)(sizeof(loop_algs) / sizeof(loop_algs[0])))

#define N_SLOTS 66

/* Slot 0: outbound, slot 1: the inbound twin (same keys and SPI), slot 2: a
 * second outbound SA, slot 3: an inbound SA with slot 1's SPI for another
 * local address, under another key; slot 65 free for a test's own. */
/* The tests' SA: SPI 0x4242 from 192.0.2.1 to 192.0.2.2, key bytes 0x3c
 * (and 0x5a for HMAC-SHA1-96 beside a CBC cipher); direction unset. */
static inline struct dpsec_sa_conf test_conf(bool esn, uint8_t enc_alg)
{
	struct dpsec_sa_conf c = { .spi = 0x4242, .mode = DPSEC_MODE_TUNNEL, .esn = esn,
				   .replay_window = 64, .enc_alg = enc_alg,
				   .enc_key_len = enc_alg == DPSEC_ENC_3DES_CBC ? 24 : 16 };

	memset(c.enc_key, 0x3c, sizeof(c.enc_key));
	if (enc_alg != DPSEC_ENC_AES_GCM_16) {
		c.integ_alg = DPSEC_INTEG_HMAC_SHA1_96;
		c.integ_key_len = 20;
		memset(c.integ_key, 0x5a, 20);
	}
	c.local = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, 2, 1 } };
	c.remote = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, 2, 2 } };
	return c;
}

static inline void install_pair(bool esn, uint8_t enc_alg)
{
	struct dpsec_sa_conf c = test_conf(esn, enc_alg);
	char err[256];

	dp_sa_table_fini(&ctx.sas);
	ck_assert_int_eq(dp_sa_table_init(&ctx.sas, N_SLOTS, SOCKET_ID_ANY), 0);
	c.direction = DPSEC_DIR_OUT;
	ck_assert_msg(dp_sa_install(&ctx.sas, worker.crypto, 0, &c, 0, NULL, err, sizeof(err)) == 0, "%s", err);
	c.direction = DPSEC_DIR_IN;
	c.local = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, 2, 2 } };
	ck_assert_int_eq(dp_sa_install(&ctx.sas, worker.crypto, 1, &c, dp_cfg_rule_id(0), NULL, err, sizeof(err)), 0);
	c.direction = DPSEC_DIR_OUT; /* slot 2: a second outbound SA */
	c.spi = 0x4343;
	c.local = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, 2, 1 } };
	ck_assert_int_eq(dp_sa_install(&ctx.sas, worker.crypto, 2, &c, 0, NULL, err, sizeof(err)), 0);
	c.direction = DPSEC_DIR_IN;
	c.spi = 0x4242;
	c.local = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, 2, 3 } };
	c.enc_key[0] ^= 0x80; /* not bit 0: DES keys ignore their parity bits */
	c.integ_key[0] ^= 0x80;
	ck_assert_int_eq(dp_sa_install(&ctx.sas, worker.crypto, 3, &c, dp_cfg_rule_id(0), NULL, err,
				       sizeof(err)), 0);
	memset(worker.ctr, 0, sizeof(*worker.ctr));
	memset(worker.sa_ctr, 0, sizeof(*worker.sa_ctr) * N_SLOTS);
}

/* A parsed clear IPv4/UDP packet, data at the IP header, for SA 0. */
static inline struct rte_mbuf *clear_packet(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctx.pool);
	uint8_t pkt[28] = { 0 };
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;
	char *data;

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(pkt));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(0x0a010002);
	ip->dst_addr = rte_cpu_to_be_32(0x0a020002);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ck_assert_ptr_nonnull(m);
	data = rte_pktmbuf_append(m, sizeof(pkt));
	ck_assert_ptr_nonnull(data);
	memcpy(data, pkt, sizeof(pkt));
	ck_assert_int_eq(dp_parse_ip(m, dp_meta(m)), 0);
	dp_meta(m)->sa = 0;
	dp_meta(m)->sap = ctx.sas.sa[0];
	return m;
}

/* Encrypts one packet; returns it (data at the outer header) or NULL. */
static inline struct rte_mbuf *send_one(void)
{
	struct rte_mbuf *m = clear_packet();

	return dp_esp_out(&worker, &m, 1) == 1 ? m : NULL;
}

static inline uint32_t wire_seq(struct rte_mbuf *m)
{
	return rte_be_to_cpu_32(*rte_pktmbuf_mtod_offset(m, uint32_t *, 20 + 4));
}

static inline uint32_t wire_spi(struct rte_mbuf *m)
{
	return rte_be_to_cpu_32(*rte_pktmbuf_mtod_offset(m, uint32_t *, 20));
}

/* Encrypts a burst of n packets, packet i on SA slot sa_of[i] (NULL: all on
 * slot 0); returns how many came out, first in out[]. */
static inline uint16_t send_burst(struct rte_mbuf **out, uint16_t n, const uint32_t *sa_of)
{
	for (uint16_t i = 0; i < n; i++) {
		out[i] = clear_packet();
		if (sa_of != NULL) {
			dp_meta(out[i])->sa = sa_of[i];
			dp_meta(out[i])->sap = ctx.sas.sa[sa_of[i]];
		}
	}
	return dp_esp_out(&worker, out, n);
}

static inline void free_all(struct rte_mbuf **m, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

/* Feeds an encrypted packet to the inbound twin: true if it decrypts. */
static inline bool decrypts(struct rte_mbuf *m)
{
	ck_assert_int_eq(dp_parse_ip(m, dp_meta(m)), 0);
	return dp_esp_in(&worker, &m, 1) == 1 && (rte_pktmbuf_free(m), true);
}

static inline void setup_ctx(void)
{
	dp_test_worker_init(&ctx, &worker, N_SLOTS, 2 * DP_BURST);
	dp_test_one_rule_policy(&ctx, "tseq");
}

#endif
