/* fuzz_esp_out.c - libFuzzer target for dpsecd's outbound ESP (esp_out.c)
 * on whatever packet a host sends: input byte 0 picks one of eight
 * outbound SAs (tunnel over IPv4 with AES-128-GCM, tunnel over IPv6 with
 * AES-256-GCM and ESN, transport over IPv4 in UDP with AES-128-GCM,
 * tunnel over IPv4 with AES-128-CBC + HMAC-SHA1-96, transport over IPv6
 * with AES-128-CBC + HMAC-SHA-512-256, tunnel over IPv4 with NULL
 * encryption + AES-CMAC-96, RFC 2410 and RFC 4494, tunnel over IPv6 with AES-128-CCM-8
 * and ESN, RFC 4309, transport over IPv4 with AES-192-GMAC and ESN, RFC
 * 4543, whose payload goes out as it came); the rest is the packet, parsed as
 * a worker parses it. Each ESP packet that comes out is read as its peer
 * would, with OpenSSL, not dpsec's code: the outer header (addresses,
 * protocol, lengths, IPv4 checksum; in transport mode the packet's own
 * header otherwise unchanged), the UDP header of NAT traversal, the SPI
 * and the next sequence number, the ICV, and the decrypted payload: the
 * packet (tunnel) or what followed its header (transport), the RFC 4303
 * §2.4 padding 1, 2, 3..., the pad length and the next header. mbufs are
 * counted back into their pool. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp.h"
#include "fuzz_eal.h"
#include "dp_pkt.h"
#include "esp.h"
#include "ofl_engine.h"

#define N_SA 8
#define POOL 64u
#define PKT_MAX 3000u

static struct dp_ctx ctx;
static struct dp_worker worker;
static struct dpsec_sa_conf sa_conf[N_SA];

static void addr4(struct dpsec_addr *a, uint8_t y)
{
	*a = (struct dpsec_addr){ .family = DPSEC_AF_INET, .a = { 192, 0, 2, y } };
}

static void addr6(struct dpsec_addr *a, uint8_t y)
{
	*a = (struct dpsec_addr){ .family = DPSEC_AF_INET6, .a = { 0x20, 0x01, 0x0d, 0xb8, 9, [15] = y } };
}

static void make_sa(int i)
{
	struct dpsec_sa_conf *c = &sa_conf[i];
	bool v6 = i == 1 || i == 4 || i == 6, cbc = i == 3 || i == 4;

	snprintf(c->name, sizeof(c->name), "out%d", i);
	c->spi = 0x2000u + (uint32_t)i;
	c->direction = DPSEC_DIR_OUT;
	c->mode = i == 2 || i == 4 || i == 7 ? DPSEC_MODE_TRANSPORT : DPSEC_MODE_TUNNEL;
	c->esn = i == 1 || i == 6 || i == 7;
	(v6 ? addr6 : addr4)(&c->local, 1);
	(v6 ? addr6 : addr4)(&c->remote, 2);
	c->enc_alg = cbc ? DPSEC_ENC_AES_CBC : i == 5 ? DPSEC_ENC_NULL
		     : i == 6 ? DPSEC_ENC_AES_CCM_8 : i == 7 ? DPSEC_ENC_NULL_AUTH_AES_GMAC
		     : DPSEC_ENC_AES_GCM_16;
	c->enc_key_len = i == 5 ? 0 : i == 1 ? 32 : i == 7 ? 24 : 16;
	for (int k = 0; k < c->enc_key_len; k++)
		c->enc_key[k] = (uint8_t)(0x31 * (i + 1) + k);
	memcpy(c->salt, i == 6 ? "\x5a\x5b\x5c\x00" : "\x5a\x5b\x5c\x5d", 4); /* CCM: 3 bytes */
	c->integ_alg = i == 3 ? DPSEC_INTEG_HMAC_SHA1_96 : i == 4 ? DPSEC_INTEG_HMAC_SHA512_256
		       : i == 5 ? DPSEC_INTEG_AES_CMAC_96 : DPSEC_INTEG_NONE;
	c->integ_key_len = dpsec_integ_key_len(c->integ_alg);
	for (int k = 0; k < c->integ_key_len; k++)
		c->integ_key[k] = (uint8_t)(0x17 + k);
	if (i == 2) {
		c->encap = DPSEC_ENCAP_UDP;
		c->udp_sport = c->udp_dport = DPSEC_NATT_PORT;
	}
	c->negotiated = true; /* no sequence file: numbers from 1 */
}

static void setup(void)
{
	char err[256];

	dp_g = &ctx;
	ctx.n_workers = 1;
	ctx.pool = rte_pktmbuf_pool_create("fz", POOL, 0, DP_META_SIZE, 4096 + RTE_PKTMBUF_HEADROOM,
					   SOCKET_ID_ANY);
	worker.crypto = ofl_cpu_create(SOCKET_ID_ANY);
	worker.ctr = rte_zmalloc(NULL, sizeof(*worker.ctr), 64);
	worker.sa_ctr = rte_zmalloc(NULL, sizeof(*worker.sa_ctr) * N_SA, 64);
	if (!ctx.pool || !worker.crypto || !worker.ctr || !worker.sa_ctr ||
	    dp_sa_table_init(&ctx.sas, N_SA, SOCKET_ID_ANY) < 0)
		abort();
	for (int i = 0; i < N_SA; i++) {
		make_sa(i);
		if (dp_sa_install(&ctx.sas, worker.crypto, (uint32_t)i, &sa_conf[i], 0, NULL, err, sizeof(err)) < 0)
			abort();
	}
}

/* RFC 4309: AES-CCM-8 with the nonce salt (3) || IV (8); OpenSSL checks
 * the ICV as it decrypts. */
static bool open_ccm(EVP_CIPHER_CTX *x, const struct dpsec_sa_conf *c, const uint8_t *iv,
		     const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
		     const uint8_t *icv, uint8_t *pt, int *n)
{
	uint8_t nonce[11];

	memcpy(nonce, c->salt, 3);
	memcpy(nonce + 3, iv, 8);
	return EVP_DecryptInit_ex(x, EVP_aes_128_ccm(), NULL, NULL, NULL) == 1 &&
	       EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 11, NULL) == 1 &&
	       EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 8, (void *)icv) == 1 &&
	       EVP_DecryptInit_ex(x, NULL, NULL, c->enc_key, nonce) == 1 &&
	       EVP_DecryptUpdate(x, NULL, n, NULL, (int)ct_len) == 1 &&
	       EVP_DecryptUpdate(x, NULL, n, aad, (int)aad_len) == 1 &&
	       EVP_DecryptUpdate(x, pt, n, ct, (int)ct_len) == 1;
}

static const EVP_CIPHER *aes_gcm(uint8_t key_len)
{
	return key_len == 32 ? EVP_aes_256_gcm() : key_len == 24 ? EVP_aes_192_gcm()
						  : EVP_aes_128_gcm();
}

/* RFC 4543: AES-GMAC, GCM's tag over the AAD and then the IV and the
 * payload (iv_ct, 8 + ct_len bytes) as more AAD; nothing is encrypted, so
 * the payload is the plaintext. */
static bool open_gmac(EVP_CIPHER_CTX *x, const struct dpsec_sa_conf *c, const uint8_t *nonce,
		      const uint8_t *aad, size_t aad_len, const uint8_t *iv_ct, size_t ct_len,
		      const uint8_t *icv, uint8_t *pt, int *n)
{
	int fin = 0;

	memcpy(pt, iv_ct + 8, ct_len);
	*n = (int)ct_len;
	return EVP_DecryptInit_ex(x, aes_gcm(c->enc_key_len), NULL, c->enc_key, nonce) == 1 &&
	       EVP_DecryptUpdate(x, NULL, &fin, aad, (int)aad_len) == 1 &&
	       EVP_DecryptUpdate(x, NULL, &fin, iv_ct, (int)(8 + ct_len)) == 1 &&
	       EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, (void *)icv) == 1 &&
	       EVP_DecryptFinal_ex(x, pt + ct_len, &fin) == 1 && fin == 0;
}

/* Whether icv is the ICV of the ESP header and what follows it up to the
 * ICV (len bytes): HMAC-SHA1-96, HMAC-SHA-512-256 or AES-CMAC-96. */
static bool icv_verifies(const struct dpsec_sa_conf *c, const uint8_t *esp, size_t len,
			 const uint8_t *icv, size_t icv_len)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;

	if (c->integ_alg == DPSEC_INTEG_AES_CMAC_96) {
		if (EVP_Q_mac(NULL, "CMAC", NULL, "AES-128-CBC", NULL, c->integ_key, c->integ_key_len,
			      esp, len, mac, sizeof(mac), &mac_len) == NULL)
			abort();
	} else {
		unsigned int n = 0;

		if (HMAC(c->integ_alg == DPSEC_INTEG_HMAC_SHA1_96 ? EVP_sha1() : EVP_sha512(),
			 c->integ_key, c->integ_key_len, esp, len, mac, &n) == NULL)
			abort();
		mac_len = n;
	}
	return mac_len >= icv_len && CRYPTO_memcmp(mac, icv, icv_len) == 0;
}

/* The ESP payload's plaintext into pt (*pt_len bytes), or false when its
 * ICV does not verify. esp: the ESP header; len: from there to the end. */
static bool open_esp(const struct dpsec_sa_conf *c, const uint8_t *esp, size_t len, uint8_t *pt,
		     int *pt_len)
{
	bool ccm = c->enc_alg == DPSEC_ENC_AES_CCM_8, null = c->enc_alg == DPSEC_ENC_NULL;
	bool gcm = c->enc_alg == DPSEC_ENC_AES_GCM_16;
	bool gmac = c->enc_alg == DPSEC_ENC_NULL_AUTH_AES_GMAC;
	size_t iv_len = gcm || ccm || gmac ? 8 : null ? 0 : 16;
	size_t icv_len = gcm || gmac ? 16 : ccm ? 8 : dpsec_integ_icv_len(c->integ_alg);
	size_t ct_len = len - 8 - iv_len - icv_len;
	const uint8_t *iv = esp + 8, *ct = iv + iv_len, *icv = ct + ct_len;
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0;
	bool ok;

	if (len < 8 + iv_len + icv_len || x == NULL)
		abort();
	if (gcm || ccm || gmac) {
		uint8_t nonce[12], aad[12], hi[4] = { 0 };
		size_t aad_len = c->esn ? 12 : 8;

		memcpy(nonce, c->salt, 4);
		memcpy(nonce + 4, iv, 8);
		memcpy(aad, esp, 4);
		memcpy(aad + 4, c->esn ? hi : esp + 4, 4); /* ESN: the high half, 0 here */
		memcpy(aad + 8, esp + 4, 4);
		ok = ccm ? open_ccm(x, c, iv, aad, aad_len, ct, ct_len, icv, pt, &n) :
		     gmac ? open_gmac(x, c, nonce, aad, aad_len, iv, ct_len, icv, pt, &n) :
		     EVP_DecryptInit_ex(x, aes_gcm(c->enc_key_len), NULL, c->enc_key, nonce) == 1 &&
		     EVP_DecryptUpdate(x, NULL, &n, aad, (int)aad_len) == 1 &&
		     EVP_DecryptUpdate(x, pt, &n, ct, (int)ct_len) == 1 &&
		     EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, (void *)icv) == 1 &&
		     EVP_DecryptFinal_ex(x, pt + n, &fin) == 1;
	} else {
		ok = icv_verifies(c, esp, len - icv_len, icv, icv_len) &&
		     EVP_DecryptInit_ex(x, null ? EVP_enc_null() : EVP_aes_128_cbc(), NULL, c->enc_key,
					iv) == 1 &&
		     EVP_CIPHER_CTX_set_padding(x, 0) == 1 &&
		     EVP_DecryptUpdate(x, pt, &n, ct, (int)ct_len) == 1 &&
		     EVP_DecryptFinal_ex(x, pt + n, &fin) == 1;
	}
	EVP_CIPHER_CTX_free(x);
	*pt_len = n + fin;
	return ok && (ct_len % (c->enc_alg == DPSEC_ENC_AES_CBC ? 16 : 4)) == 0;
}

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return be16(p) << 16 | be16(p + 2);
}

/* Transport mode: the packet's own header, hdr bytes, changed only in
 * its lengths, protocol and (IPv4) checksum. */
static bool header_kept(const uint8_t *e, const uint8_t *orig, size_t hdr, bool v6)
{
	for (size_t k = 0; k < hdr; k++) {
		bool may_change = v6 ? k == 4 || k == 5 || k == 6 : k == 2 || k == 3 || k == 9 || k == 10 || k == 11;

		if (e[k] != orig[k] && !may_change)
			return false;
	}
	return true;
}

/* The outer header of ESP packet e (elen bytes) for SA c, carrying orig
 * (its IP header hdr bytes); returns the offset of the ESP header. */
static size_t check_outer(const struct dpsec_sa_conf *c, const uint8_t *e, size_t elen, const uint8_t *orig,
			  size_t hdr)
{
	bool v6 = c->local.family == DPSEC_AF_INET6, tunnel = c->mode == DPSEC_MODE_TUNNEL;
	size_t ip_len = tunnel ? (v6 ? 40 : 20) : hdr, alen = v6 ? 16 : 4;
	const uint8_t *src = e + (v6 ? 8 : 12), *dst = src + alen, *udp = e + ip_len;
	uint8_t proto = e[v6 ? 6 : 9];

	if ((e[0] >> 4) != (v6 ? 6 : 4) || (tunnel ? memcmp(src, c->local.a, alen) || memcmp(dst, c->remote.a, alen)
					       : !header_kept(e, orig, hdr, v6)))
		abort();
	if (v6 ? be16(e + 4) != elen - 40 : be16(e + 2) != elen || rte_ipv4_cksum((const void *)e) != 0)
		abort();
	if (c->encap != DPSEC_ENCAP_UDP) {
		if (proto != IPPROTO_ESP)
			abort();
		return ip_len;
	}
	if (proto != IPPROTO_UDP || be16(udp) != DPSEC_NATT_PORT || be16(udp + 2) != DPSEC_NATT_PORT ||
	    be16(udp + 4) != elen - ip_len || (!v6 && be16(udp + 6) != 0))
		abort();
	return ip_len + 8;
}

/* ESP packet m of SA i, made from orig (olen bytes, its IP header hdr
 * bytes), read as its peer would. */
static void check_esp(int i, const struct rte_mbuf *m, const uint8_t *orig, size_t olen, size_t hdr)
{
	static uint8_t pt[PKT_MAX + 64];
	static uint32_t last_seq[N_SA];
	const struct dpsec_sa_conf *c = &sa_conf[i];
	const uint8_t *e = rte_pktmbuf_mtod(m, const uint8_t *);
	bool tunnel = c->mode == DPSEC_MODE_TUNNEL, inner6 = (orig[0] >> 4) == 6;
	size_t off, payload;
	int pt_len;
	uint8_t pad, nh;

	if (m->nb_segs != 1)
		abort();
	off = check_outer(c, e, m->pkt_len, orig, hdr);
	if (be32(e + off) != c->spi || be32(e + off + 4) <= last_seq[i])
		abort(); /* its SPI; numbers only go up (one dropped after numbering leaves a gap) */
	last_seq[i] = be32(e + off + 4);
	if (!open_esp(c, e + off, m->pkt_len - off, pt, &pt_len) || pt_len < 2)
		abort();
	pad = pt[pt_len - 2];
	nh = pt[pt_len - 1];
	if (pad > pt_len - 2 || pad >= (c->enc_alg == DPSEC_ENC_AES_CBC ? 16 : 4))
		abort();
	payload = (size_t)pt_len - 2 - pad;
	for (uint8_t k = 0; k < pad; k++)
		if (pt[payload + k] != k + 1)
			abort(); /* RFC 4303 §2.4: 1, 2, 3... */
	if (tunnel ? payload != olen || memcmp(pt, orig, olen) || nh != (inner6 ? 41 : 4)
		   : payload != olen - hdr || memcmp(pt, orig + hdr, payload) || nh != orig[inner6 ? 6 : 9])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t orig[PKT_MAX];
	struct rte_mbuf *m;
	struct dp_meta *md;
	size_t olen, hdr;
	int i;

	if (size < 2 || size - 1 > PKT_MAX || (m = rte_pktmbuf_alloc(ctx.pool)) == NULL)
		return 0;
	i = data[0] % N_SA;
	memcpy(rte_pktmbuf_append(m, (uint16_t)(size - 1)), data + 1, size - 1);
	md = dp_meta(m);
	if (dp_parse_ip(m, md) != 0) {
		rte_pktmbuf_free(m);
		return 0;
	}
	olen = m->pkt_len; /* the parse cut what follows the IP packet */
	hdr = md->l3_len;
	memcpy(orig, data + 1, olen);
	md->sa = (uint32_t)i;
	md->sap = ctx.sas.sa[i];
	if (dp_esp_out(&worker, &m, 1) == 1) {
		check_esp(i, m, orig, olen, hdr);
		rte_pktmbuf_free(m);
	}
	if (rte_mempool_avail_count(ctx.pool) != POOL)
		abort(); /* an mbuf lost (ASan does not see the pool's) */
	return 0;
}
