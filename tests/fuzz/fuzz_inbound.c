/* fuzz_inbound.c - libFuzzer target for dpsecd's inbound path: packet bytes
 * go through the IP parser, the sorting of UDP on a NAT-T port (RFC 3948),
 * the reassembly of ESP and AH fragments (their table kept from input to
 * input, its clock one tick an input), the SAD, the anti-replay window,
 * decryption, the trailer checks, decapsulation and the inner policy
 * check (rule 0's filter names ports, so decrypted fragments go through
 * the stateful fragment check, frag_track.c, its table kept from input to
 * input), with fixed SAs (1 and 2 in UDP, 4 and 5 AH, 6 NULL encryption, 7
 * AES-CCM, 10 AES-GMAC); other ICMP to us through
 * the test of a router's path MTU report (tunnel_pmtu.c, the worker's side).
 * Input byte 0 picks the mode:
 *   even: the rest is a raw IP packet as it would arrive on the wire;
 *   odd:  the rest is the plaintext of an ESP payload (inner packet,
 *         padding, pad length, next header, all fuzzer-chosen) that the
 *         harness seals with a correct ICV for inbound SA (byte 0 >> 1) % 11,
 *         so that what follows the ICV check is reached too (in UDP, from
 *         another source port when bit 7 of its first byte is set, another
 *         source address when bit 6 is: a NAT's new mapping, which the
 *         worker may report only then); for
 *         an AH SA it is the next header byte and what AH carries. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring_elem.h>
#include <rte_udp.h>

#include "dp.h"
#include "fuzz_eal.h"
#include "fuzz_seal.h"
#include "dp_pkt.h"
#include "dp_policy.h"
#include "esp.h"
#include "frag_track.h"
#include "natt.h"
#include "ofl_engine.h"
#include "reass.h"
#include "tunnel_pmtu.h"

#define N_SA 11

/* The clock of reassembly: one tick an input; fragments wait this many
 * (the pool's 256 buffers outlast them). */
#define REASS_TIMEOUT 64
static uint64_t fuzz_clock;

static struct dp_ctx ctx;
static struct cfg_dataplane cfg;
static struct dp_worker worker;
static struct dpsec_sa_conf sa_conf[N_SA];
static struct dpsec_rule rules[N_SA];
static struct dpsec_filter filters[N_SA];

static void addr4(struct dpsec_addr *a, uint8_t x, uint8_t y)
{
	*a = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, x, y } };
}

static void addr6(struct dpsec_addr *a, uint8_t x, uint8_t y)
{
	*a = (struct dpsec_addr){ .family = DPSEC_AF_INET6, .a = { 0x20, 0x01, 0x0d, 0xb8, x, [15] = y } };
}

/* SA i: 0 GCM-128 tunnel v4, 1 CBC-SHA256 ESN tunnel v6 in UDP, 2 CBC-SHA1
 * transport v4 in UDP, 3 ChaCha20-Poly1305 ESN transport v6, 4 AH-SHA1 ESN
 * tunnel v4, 5 AH-SHA384 transport v6, 6 NULL-SHA256 (RFC 2410) transport
 * v4, 7 AES-256-CCM-12 (RFC 4309) transport v6, 8 CBC-AES-XCBC-MAC-96 (RFC
 * 3566) transport v4, 9 AH-AES-CMAC-96 (RFC 4494) transport v6, 10
 * AES-256-GMAC (RFC 4543) ESN transport v4. */
static void make_sa(int i)
{
	struct dpsec_sa_conf *c = &sa_conf[i];
	bool v6 = i & 1;

	snprintf(c->name, sizeof(c->name), "fuzz%d", i);
	c->spi = 0x1000u + (uint32_t)i;
	c->direction = DPSEC_DIR_IN;
	c->mode = i < 2 || i == 4 ? DPSEC_MODE_TUNNEL : DPSEC_MODE_TRANSPORT;
	c->esn = i == 1 || i == 3 || i == 4 || i == 10;
	c->replay_window = 64;
	(v6 ? addr6 : addr4)(&c->local, 2, 1);
	(v6 ? addr6 : addr4)(&c->remote, 2, 2);
	c->enc_alg = i == 0 ? DPSEC_ENC_AES_GCM_16 : i == 3 ? DPSEC_ENC_CHACHA20_POLY1305
		     : i == 10 ? DPSEC_ENC_NULL_AUTH_AES_GMAC : DPSEC_ENC_AES_CBC;
	c->enc_key_len = i == 3 || i == 10 ? 32 : 16;
	memset(c->enc_key, 0x11 * (i + 1), c->enc_key_len);
	memset(c->salt, 0x5a, sizeof(c->salt));
	c->integ_alg = i == 1 ? DPSEC_INTEG_HMAC_SHA512_256 : i == 2 ? DPSEC_INTEG_HMAC_SHA1_96 : DPSEC_INTEG_NONE;
	c->integ_key_len = i == 1 ? 64 : 20;
	memset(c->integ_key, 0x22, c->integ_key_len);
	if (i == 1 || i == 2) {
		c->encap = DPSEC_ENCAP_UDP;
		c->udp_sport = c->udp_dport = DPSEC_NATT_PORT;
	}
	if (i == 6) { /* another peer than SA 2's: a transport rule of its own */
		addr4(&c->remote, 2, 3);
		c->enc_alg = DPSEC_ENC_NULL;
		c->enc_key_len = 0;
		c->integ_alg = DPSEC_INTEG_HMAC_SHA256_128;
		c->integ_key_len = 32;
	}
	if (i == 7) { /* another peer than SA 3's */
		addr6(&c->remote, 2, 3);
		c->enc_alg = DPSEC_ENC_AES_CCM_12;
		c->enc_key_len = 32;
		memset(c->enc_key, 0x88, 32);
		c->salt[3] = 0; /* a 3-byte salt */
	}
	if (i == 8 || i == 9) { /* other peers than SAs 2 and 3's */
		(v6 ? addr6 : addr4)(&c->remote, 2, 4);
		c->integ_alg = i == 8 ? DPSEC_INTEG_AES_XCBC_96 : DPSEC_INTEG_AES_CMAC_96;
		c->integ_key_len = 16;
	}
	if (i == 10) /* another peer than SAs 2, 6 and 8's */
		addr4(&c->remote, 2, 5);
	if (i == 4 || i == 5 || i == 9) {
		c->protocol = DPSEC_PROTO_AH;
		c->enc_key_len = 0;
		if (i != 9)
			c->integ_alg = i == 4 ? DPSEC_INTEG_HMAC_SHA1_96 : DPSEC_INTEG_HMAC_SHA384_192;
		c->integ_key_len = dpsec_integ_key_len(c->integ_alg);
	}
}

/* Rule i: negotiate, any protocol between the SA's networks, inbound SA i;
 * rule 0 all destination ports but the last (a port-specific policy). */
static void make_rule(int i)
{
	struct dpsec_filter *f = &filters[i];
	bool v6 = i & 1;

	f->src.addr.family = f->dst.addr.family = v6 ? DPSEC_AF_INET6 : DPSEC_AF_INET;
	f->mirrored = true;
	f->sport_hi = f->dport_hi = 65535;
	if (i == 0)
		f->dport_hi = 65534;
	if (sa_conf[i].mode == DPSEC_MODE_TRANSPORT) { /* the two hosts themselves */
		f->src.addr = sa_conf[i].remote;
		f->dst.addr = sa_conf[i].local;
		f->src.len = f->dst.len = v6 ? 128 : 32;
	}
	snprintf(rules[i].name, sizeof(rules[i].name), "r%d", i);
	rules[i].action = DPSEC_ACTION_NEGOTIATE;
	rules[i].tunnel = sa_conf[i].mode == DPSEC_MODE_TUNNEL;
	rules[i].n_filters = 1;
	rules[i].filters = f;
	rules[i].sa_out = -1;
	rules[i].sa_in = i;
}

static void setup(void)
{
	char err[256];

	for (int i = 0; i < N_SA; i++) {
		make_sa(i);
		make_rule(i);
	}
	cfg.n_rules = N_SA;
	cfg.rules = rules;
	cfg.default_action = DPSEC_ACTION_PERMIT;
	ctx.cfg = &cfg;
	dp_rate_set(&ctx.icmp_rate, 1000000, 100000, rte_get_tsc_hz()); /* errors made, not limited */
	ctx.n_local4 = ctx.n_local6 = 1; /* the SAs' local addresses: quotes from us */
	memcpy(&ctx.local4[0], sa_conf[0].local.a, 4);
	memcpy(ctx.local6[0], sa_conf[1].local.a, 16);
	dp_g = &ctx;
	ctx.pool = rte_pktmbuf_pool_create("fz", 256, 0, DP_META_SIZE, 4096, SOCKET_ID_ANY);
	ctx.big_pool = dp_reass_big_pool_create("fzb", SOCKET_ID_ANY);
	ctx.peer_moved = rte_ring_create_elem("fzm", sizeof(struct dp_peer_moved), 64, SOCKET_ID_ANY,
					      RING_F_SC_DEQ);
	worker.crypto = ofl_cpu_create(SOCKET_ID_ANY);
	worker.ctr = rte_zmalloc(NULL, sizeof(*worker.ctr), 64);
	worker.sa_ctr = rte_zmalloc(NULL, sizeof(*worker.sa_ctr) * N_SA, 64);
	if (!ctx.pool || !ctx.big_pool || !ctx.peer_moved || !worker.crypto || !worker.ctr || !worker.sa_ctr ||
	    dp_sa_table_init(&ctx.sas, N_SA, SOCKET_ID_ANY) < 0 ||
	    dp_reass_init(&worker, REASS_TIMEOUT, SOCKET_ID_ANY) < 0 ||
	    dp_frag_track_init(&worker, SOCKET_ID_ANY) < 0)
		abort();
	for (int i = 0; i < N_SA; i++)
		if (dp_sa_install(&ctx.sas, worker.crypto, (uint32_t)i, &sa_conf[i], dp_cfg_rule_id((uint32_t)i), NULL,
				  err, sizeof(err)) < 0)
			abort();
	ctx.policy = dp_policy_build(&cfg, "fz", err, sizeof(err));
	if (ctx.policy == NULL)
		abort();
}

/* The packet at p from another address of the peer's network: its
 * source's last byte changed by x (never to itself), the IPv4 header
 * checksum made anew. */
static void move_source_address(uint8_t *p, const struct dp_sa *sa, uint8_t x)
{
	struct rte_ipv4_hdr *ip4 = (struct rte_ipv4_hdr *)p;

	if (sa->flags & DP_SA_OUTER6) {
		((struct rte_ipv6_hdr *)p)->src_addr[15] ^= (uint8_t)(x | 1);
		return;
	}
	((uint8_t *)&ip4->src_addr)[3] ^= (uint8_t)(x | 1);
	ip4->hdr_checksum = 0;
	ip4->hdr_checksum = rte_ipv4_cksum(ip4);
}

/* Builds a sealed ESP packet (in UDP for a NAT-T SA) in m from fuzzer
 * plaintext; false if too small. */
static bool build_sealed(struct rte_mbuf *m, const struct dp_sa *sa, const uint8_t *d, size_t n)
{
	uint32_t ip_len = (sa->flags & DP_SA_OUTER6) ? 40 : 20;
	uint32_t hdr = ip_len + ((sa->flags & DP_SA_NATT) ? 8 : 0);
	uint32_t ct_len, len;
	uint64_t seq;
	uint8_t *p;

	if (n < 2)
		return false;
	ct_len = (uint32_t)(n - 2) & ~(uint32_t)(sa->block_len - 1);
	len = hdr + ESP_HDR_LEN + sa->iv_len + ct_len + sa->icv_len;
	seq = (uint64_t)d[0] << 24 | (uint64_t)d[1] << 40 | 1;
	if (ct_len == 0 || len > 3000)
		return false;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	fuzz_put_outer(p, &sa_conf[sa->idx], len, IPPROTO_ESP); /* installed at its index */
	memcpy(p + hdr + ESP_HDR_LEN + sa->iv_len, d + 2, ct_len);
	fuzz_esp_seal(worker.crypto, sa, p, hdr, ct_len, seq);
	if ((sa->flags & DP_SA_NATT) && (d[0] & 0x80)) /* the peer's NAT mapped it anew */
		((struct rte_udp_hdr *)(p + ip_len))->src_port = rte_cpu_to_be_16((uint16_t)(40000 + d[1]));
	if ((sa->flags & DP_SA_NATT) && (d[0] & 0x40))
		move_source_address(p, sa, d[1]);
	return true;
}

/* What the worker told the manager of peers' new NAT mappings: only of
 * SAs with ESP in UDP, only from another address or port than the peer's. */
static void check_peer_moved(void)
{
	struct dp_peer_moved r;

	while (rte_ring_dequeue_elem(ctx.peer_moved, &r, sizeof(r)) == 0) {
		const struct dp_sa *sa = r.sa_idx < N_SA ? ctx.sas.sa[r.sa_idx] : NULL;

		if (sa == NULL || !(sa->flags & DP_SA_NATT) ||
		    (r.port_be == sa->natt_peer_port_be &&
		     dp_sa_addr_fp(r.family, r.addr) == sa->natt_peer_fp))
			abort();
	}
}

/* An AH packet for an AH SA: d[0] its next header, the rest what it
 * carries, with a correct ICV. */
static bool build_sealed_ah(struct rte_mbuf *m, const struct dp_sa *sa, const uint8_t *d, size_t n)
{
	uint32_t ip_len = (sa->flags & DP_SA_OUTER6) ? 40 : 20, ah_len = dp_ah_len(sa), len, seq_be;
	uint64_t seq;
	uint8_t *p, *ah;

	if (n < 4 || n > 2800)
		return false;
	len = ip_len + ah_len + (uint32_t)(n - 3);
	seq = (uint64_t)d[1] << 24 | (uint64_t)d[2] << 40 | 1;
	seq_be = rte_cpu_to_be_32((uint32_t)seq);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	fuzz_put_outer(p, &sa_conf[sa->idx], len, IPPROTO_AH);
	ah = p + ip_len;
	memset(ah, 0, ah_len);
	ah[0] = d[0];
	ah[1] = (uint8_t)(ah_len / 4 - 2);
	memcpy(ah + 4, &sa->spi_be, 4);
	memcpy(ah + 8, &seq_be, 4);
	memcpy(ah + ah_len, d + 3, n - 3);
	fuzz_ah_seal(worker.crypto, sa, p, len, seq, ah + AH_FIXED_LEN);
	return true;
}

/* UDP on a NAT-T port, whole, as a worker sorts it: ESP in UDP, or
 * neither (freed). */
static struct rte_mbuf *natt_to_us(struct rte_mbuf *m, struct dp_meta *md)
{
	switch (dp_natt_classify(&worker, m, md)) {
	case DP_NATT_ESP:
		return m;
	case DP_NATT_DONE:
		return NULL; /* consumed */
	default:
		rte_pktmbuf_free(m);
		return NULL;
	}
}

/* As a worker sorts a packet to us: ESP, ESP in UDP, a fragment of either
 * (the packet it completes, if any), or neither (freed). NULL: nothing
 * for the ESP path. */
static struct rte_mbuf *esp_to_us(struct rte_mbuf *m, struct dp_meta *md)
{
	if (md->l4proto == IPPROTO_UDP && (md->flags & DP_M_FRAG)) {
		if (dp_reass_udp_fragment(&worker, &m, fuzz_clock) == DP_UDP_FRAG_HOST) {
			rte_pktmbuf_free(m); /* the host's */
			return NULL;
		}
		if (m == NULL)
			return NULL;
		md = dp_meta(m);
	}
	if (dp_natt_to_port(&ctx.sas, md))
		return natt_to_us(m, md);
	if (md->l4proto == IPPROTO_ESP || md->l4proto == IPPROTO_AH)
		return (md->flags & DP_M_FRAG) ? dp_reass_take(&worker, m, fuzz_clock) : m;
	if (md->l4proto == IPPROTO_ICMP || md->l4proto == IPPROTO_ICMPV6) {
		struct dp_pmtu_report r;

		(void)dp_pmtu_parse(m, md, &r); /* what the manager would be handed */
	}
	rte_pktmbuf_free(m);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *m;
	struct dp_meta *md;
	bool ok;

	if (++fuzz_clock % REASS_TIMEOUT == 0)
		dp_reass_expire(&worker, fuzz_clock);
	if (size < 1 || size > 3000 || (m = rte_pktmbuf_alloc(ctx.pool)) == NULL)
		return 0;
	if (data[0] & 1) {
		const struct dp_sa *sa = ctx.sas.sa[(data[0] >> 1) % N_SA];

		ok = (sa->flags & DP_SA_AH) ? build_sealed_ah(m, sa, data + 1, size - 1)
					    : build_sealed(m, sa, data + 1, size - 1);
	} else {
		ok = size > 1 && rte_pktmbuf_append(m, (uint16_t)(size - 1)) != NULL;
		if (ok)
			memcpy(rte_pktmbuf_mtod(m, uint8_t *), data + 1, size - 1);
	}
	md = dp_meta(m);
	if (!ok || dp_parse_ip(m, md) != 0) {
		rte_pktmbuf_free(m);
		return 0;
	}
	m = esp_to_us(m, md);
	if (m != NULL && dp_esp_in(&worker, &m, 1) == 1)
		rte_pktmbuf_free(m); /* decapsulated and matched its SA's rule */
	check_peer_moved();
	return 0;
}
