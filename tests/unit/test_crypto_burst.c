/* test_crypto_burst.c - the CPU crypto engine (offload/ofl_cpu.c) on random
 * bursts mixing every SA kind (AES-GCM, AES-CCM, ChaCha20-Poly1305, AES-GMAC,
 * AES-CBC, 3DES and NULL with each HMAC, AES-XCBC-MAC-96 or AES-CMAC-96, with
 * ESN or not; AH) and both directions, each op checked against OpenSSL, whose
 * XCBC and CMAC references are checked against the RFCs first; ops the
 * engine must refuse inside a burst; the empty burst. */
#include "crypto_world.h"

/* ---- random bursts of every SA kind, both directions, against OpenSSL ---- */

enum { SA_GCM128, SA_GCM256, SA_CBC128_SHA1, SA_CBC256_SHA256, SA_DES3_SHA1, SA_DES3_SHA256,
       SA_CHACHA, SA_CBC128_SHA384, SA_CBC256_SHA512, SA_NULL_SHA1, SA_NULL_SHA256, SA_GCM192,
       SA_CBC192_SHA256, SA_CCM128_8, SA_CCM128_16, SA_CCM256_12, SA_CBC128_XCBC,
       SA_CBC256_CMAC, SA_DES3_CMAC, SA_NULL_XCBC, SA_NULL_CMAC, SA_AH_XCBC, SA_AH_CMAC,
       SA_AH_SHA256, SA_GMAC128, SA_GMAC192, SA_GMAC256, N_SA_KINDS };

static bool kind_is_ccm(int kind)
{
	return kind == SA_CCM128_8 || kind == SA_CCM128_16 || kind == SA_CCM256_12;
}

static bool kind_is_gmac(int kind)
{
	return kind == SA_GMAC128 || kind == SA_GMAC192 || kind == SA_GMAC256;
}

/* The kinds whose ops carry a nonce and AAD and encrypt (burst_aead). */
static bool kind_is_aead(int kind)
{
	return kind == SA_GCM128 || kind == SA_GCM192 || kind == SA_GCM256 || kind == SA_CHACHA ||
	       kind_is_ccm(kind);
}

struct burst_sas {
	struct dpsec_sa_conf conf[N_SA_KINDS];
	struct ofl_sa_crypto k[N_SA_KINDS];
};

struct pkt {
	uint8_t buf[24 + MAX_DATA + 16];
	uint8_t want[24 + MAX_DATA + 16]; /* the buffer after the op */
	uint8_t nonce[12], aad[12], tag[DPSEC_MAX_ICV], want_tag[DPSEC_MAX_ICV];
};

static void burst_sas_init(struct burst_sas *s)
{
	uint8_t key[32], ikey[64], salt[4];

	for (int i = 0; i < N_SA_KINDS; i++) {
		rnd_fill(key, sizeof(key));
		rnd_fill(ikey, sizeof(ikey));
		rnd_fill(salt, sizeof(salt));
		if (i == SA_GCM128 || i == SA_GCM192 || i == SA_GCM256)
			conf_gcm(&s->conf[i], key, i == SA_GCM128 ? 16 : i == SA_GCM192 ? 24 : 32, salt);
		else if (i == SA_CHACHA)
			conf_chacha(&s->conf[i], key, salt);
		else if (kind_is_gmac(i))
			conf_gmac(&s->conf[i], key,
				  i == SA_GMAC128 ? 16 : i == SA_GMAC192 ? 24 : 32, salt);
		else if (i == SA_CBC128_SHA1)
			conf_cbc(&s->conf[i], key, 16, DPSEC_INTEG_HMAC_SHA1_96, ikey, 20);
		else if (i == SA_CBC256_SHA256)
			conf_cbc(&s->conf[i], key, 32, DPSEC_INTEG_HMAC_SHA256_128, ikey, 32);
		else if (i == SA_DES3_SHA1)
			conf_des3(&s->conf[i], key, DPSEC_INTEG_HMAC_SHA1_96, ikey, 20);
		else if (i == SA_CBC128_SHA384)
			conf_cbc(&s->conf[i], key, 16, DPSEC_INTEG_HMAC_SHA384_192, ikey, 48);
		else if (i == SA_CBC256_SHA512)
			conf_cbc(&s->conf[i], key, 32, DPSEC_INTEG_HMAC_SHA512_256, ikey, 64);
		else if (i == SA_NULL_SHA1)
			conf_null(&s->conf[i], DPSEC_INTEG_HMAC_SHA1_96, ikey, 20);
		else if (i == SA_NULL_SHA256)
			conf_null(&s->conf[i], DPSEC_INTEG_HMAC_SHA256_128, ikey, 32);
		else if (i == SA_CBC192_SHA256)
			conf_cbc(&s->conf[i], key, 24, DPSEC_INTEG_HMAC_SHA256_128, ikey, 32);
		else if (i == SA_CCM128_8)
			conf_ccm(&s->conf[i], DPSEC_ENC_AES_CCM_8, key, 16, salt);
		else if (i == SA_CCM128_16)
			conf_ccm(&s->conf[i], DPSEC_ENC_AES_CCM_16, key, 16, salt);
		else if (i == SA_CCM256_12)
			conf_ccm(&s->conf[i], DPSEC_ENC_AES_CCM_12, key, 32, salt);
		else if (i == SA_CBC128_XCBC)
			conf_cbc(&s->conf[i], key, 16, DPSEC_INTEG_AES_XCBC_96, ikey, 16);
		else if (i == SA_CBC256_CMAC)
			conf_cbc(&s->conf[i], key, 32, DPSEC_INTEG_AES_CMAC_96, ikey, 16);
		else if (i == SA_DES3_CMAC)
			conf_des3(&s->conf[i], key, DPSEC_INTEG_AES_CMAC_96, ikey, 16);
		else if (i == SA_NULL_XCBC)
			conf_null(&s->conf[i], DPSEC_INTEG_AES_XCBC_96, ikey, 16);
		else if (i == SA_NULL_CMAC)
			conf_null(&s->conf[i], DPSEC_INTEG_AES_CMAC_96, ikey, 16);
		else if (i == SA_AH_XCBC)
			conf_ah(&s->conf[i], DPSEC_INTEG_AES_XCBC_96, ikey, 16);
		else if (i == SA_AH_CMAC)
			conf_ah(&s->conf[i], DPSEC_INTEG_AES_CMAC_96, ikey, 16);
		else if (i == SA_AH_SHA256)
			conf_ah(&s->conf[i], DPSEC_INTEG_HMAC_SHA256_128, ikey, 32);
		else
			conf_des3(&s->conf[i], key, DPSEC_INTEG_HMAC_SHA256_128, ikey, 32);
		ck_assert_int_eq(ofl_cpu_sa_prepare(eng, &s->conf[i], &s->k[i]), 0);
	}
}

/* GCM, ChaCha20-Poly1305, AES-CCM: header(8) || IV(8) || payload, any
 * payload length; the op's 12 bytes of nonce as the packet path builds
 * them (the template's salt || IV), the reference's nonce from the SA's
 * configuration. */
static void burst_aead(const struct dpsec_sa_conf *c, const struct ofl_sa_crypto *k, struct pkt *p,
		      bool encrypt, struct ofl_op *op)
{
	uint32_t len = 1 + rnd() % MAX_DATA;
	uint8_t aad_len = rnd() % 2 ? 12 : 8;
	uint8_t *pt = encrypt ? p->buf : p->want;
	uint8_t *ct = encrypt ? p->want : p->buf;

	rnd_fill(p->buf, sizeof(p->buf));
	memcpy(p->want, p->buf, sizeof(p->buf));
	rnd_fill(p->aad, sizeof(p->aad));
	memcpy(p->nonce, k->salt, 4);
	memcpy(p->nonce + 4, p->buf + 8, 8);
	if (dpsec_enc_is_ccm(c->enc_alg))
		ref_ccm(c, p->buf + 8, p->aad, aad_len, pt + 16, (int)len, ct + 16, p->want_tag);
	else
		ref_gcm(c, p->nonce, p->aad, aad_len, pt + 16, (int)len, ct + 16, p->want_tag);
	*op = (struct ofl_op){.sa = k, .buf = p->buf, .cipher_off = 16, .cipher_len = len,
			      .auth_len = len, .iv = p->nonce, .aad = p->aad, .aad_len = aad_len, .encrypt = encrypt,
			      .tag = p->tag};
}

/* AES-GMAC (RFC 4543): 4 bytes of the IP header || ESP header(8) || IV(8)
 * || payload, any length, and nothing encrypted: the buffer is the same
 * after the op either way (the engine writes the AAD over the bytes before
 * the IV and puts them back). The tag covers the AAD (8 bytes, or 12 with
 * ESN), then the IV and payload; OpenSSL's nonce from the SA's
 * configuration, the op's as the packet path builds it. */
static void burst_gmac(const struct dpsec_sa_conf *c, const struct ofl_sa_crypto *k, struct pkt *p,
		       bool encrypt, struct ofl_op *op)
{
	uint32_t len = 1 + rnd() % MAX_DATA;
	uint8_t aad_len = rnd() % 2 ? 12 : 8, nonce[12];
	uint8_t *iv = p->buf + 4 + 8;

	rnd_fill(p->buf, sizeof(p->buf));
	memcpy(p->want, p->buf, sizeof(p->buf));
	rnd_fill(p->aad, sizeof(p->aad));
	memcpy(nonce, c->salt, 4);
	memcpy(nonce + 4, iv, 8);
	ref_gmac(c, nonce, p->aad, aad_len, iv, (int)(8 + len), p->want_tag);
	memcpy(p->nonce, k->salt, 4);
	memcpy(p->nonce + 4, iv, 8);
	*op = (struct ofl_op){.sa = k, .buf = p->buf, .cipher_off = (uint32_t)(iv + 8 - p->buf),
			      .cipher_len = len, .auth_len = len, .iv = p->nonce, .aad = p->aad,
			      .aad_len = aad_len, .encrypt = encrypt, .tag = p->tag};
}

/* CBC: header(8) || IV (16 AES, 8 3DES) || payload in whole blocks, ICV
 * over all and, with ESN (half the ops), the 4 bytes after it (the high
 * half of the sequence number, RFC 4303 §2.2.1); NULL (RFC 2410): no IV,
 * the payload in 4-byte words, left as it is. */
static void burst_cbc(const struct dpsec_sa_conf *c, const struct ofl_sa_crypto *k, struct pkt *p,
		      bool encrypt, struct ofl_op *op)
{
	uint32_t off = 8u + k->iv_len, len = k->block_len * (1 + rnd() % (MAX_DATA / k->block_len));
	uint32_t esn = rnd() % 2 ? 4 : 0;
	uint8_t *pt = encrypt ? p->buf : p->want;
	uint8_t *ct = encrypt ? p->want : p->buf;
	uint8_t mac[64];

	rnd_fill(p->buf, sizeof(p->buf));
	memcpy(p->want, p->buf, sizeof(p->buf));
	ref_cbc(c, p->buf + 8, pt + off, (int)len, ct + off);
	ref_mac(c, ct, off + len + esn, mac);
	memcpy(p->want_tag, mac, k->icv_len);
	*op = (struct ofl_op){.sa = k, .buf = p->buf, .cipher_off = off, .cipher_len = len,
			      .auth_off = 0, .auth_len = off + len + esn, .iv = p->buf + 8,
			      .encrypt = encrypt, .tag = p->tag};
}

/* AH: the MAC over the packet, any length, nothing ciphered. */
static void burst_ah(const struct dpsec_sa_conf *c, const struct ofl_sa_crypto *k, struct pkt *p,
		     bool encrypt, struct ofl_op *op)
{
	uint32_t len = 1 + rnd() % MAX_DATA;
	uint8_t mac[64];

	rnd_fill(p->buf, sizeof(p->buf));
	memcpy(p->want, p->buf, sizeof(p->buf));
	ref_mac(c, p->buf, len, mac);
	memcpy(p->want_tag, mac, k->icv_len);
	*op = (struct ofl_op){.sa = k, .buf = p->buf, .auth_len = len, .encrypt = encrypt,
			      .tag = p->tag};
}

/* An op of the kind with random data, and what OpenSSL makes of it. */
static void burst_op(const struct burst_sas *s, int kind, struct pkt *p, bool encrypt,
		     struct ofl_op *op)
{
	if (kind_is_aead(kind))
		burst_aead(&s->conf[kind], &s->k[kind], p, encrypt, op);
	else if (kind_is_gmac(kind))
		burst_gmac(&s->conf[kind], &s->k[kind], p, encrypt, op);
	else if (s->conf[kind].protocol == DPSEC_PROTO_AH)
		burst_ah(&s->conf[kind], &s->k[kind], p, encrypt, op);
	else
		burst_cbc(&s->conf[kind], &s->k[kind], p, encrypt, op);
}

static void burst_check(const struct ofl_op *ops, const struct pkt *pk, int n)
{
	for (int i = 0; i < n; i++) {
		uint8_t icv = ops[i].sa->icv_len;

		EXPECT(ops[i].status == 0, "op %d: status %d", i, ops[i].status);
		EXPECT(memcmp(pk[i].buf, pk[i].want, sizeof(pk[i].buf)) == 0,
		       "op %d (alg %u, %s, %u bytes): buffer differs from OpenSSL", i,
		       ops[i].sa->enc_alg, ops[i].encrypt ? "enc" : "dec", ops[i].cipher_len);
		EXPECT(ofl_icv_equal(pk[i].tag, pk[i].want_tag, icv),
		       "op %d (integ %u, %u bytes): tag differs", i, ops[i].sa->integ_alg,
		       ops[i].auth_len);
	}
}

/* The bursts' XCBC and CMAC references (crypto_world.h) give the RFCs'
 * MACs, whole and partial last blocks: else the bursts would check the
 * engine against a reference that may be as wrong as it. */
START_TEST(test_mac_references)
{
	const struct aes_mac_vec *v = &aes_mac_vecs[_i];
	uint8_t ikey[16], msg[MAX_DATA], want[12], mac[64];
	struct dpsec_sa_conf c;
	size_t len;

	ck_assert_uint_eq(unhex(v->key, ikey, sizeof(ikey)), 16);
	ck_assert_uint_eq(unhex(v->mac, want, sizeof(want)), 12);
	len = unhex(v->msg, msg, sizeof(msg));
	conf_ah(&c, v->integ, ikey, 16);
	ref_mac(&c, msg, len, mac);
	ck_assert_msg(memcmp(mac, want, 12) == 0, "%s", v->name);
}
END_TEST

static const uint16_t burst_sizes[] = {1, 7, 32, 64, 128, 129 /* > OFL_MAX_BURST: split */};

START_TEST(test_bursts)
{
	uint16_t n = burst_sizes[_i];
	struct pkt *pk = calloc(n, sizeof(*pk));
	struct ofl_op *ops = calloc(n, sizeof(*ops));
	struct burst_sas *s = aligned_alloc(64, sizeof(*s));

	ck_assert(pk != NULL && ops != NULL && s != NULL);
	burst_sas_init(s);
	for (int round = 0; round < 20; round++) {
		for (uint16_t i = 0; i < n; i++) {
			int kind = (int)(rnd() % N_SA_KINDS);

			burst_op(s, kind, &pk[i], rnd() % 2, &ops[i]);
		}
		ofl_cpu_run(eng, ops, n);
		burst_check(ops, pk, n);
	}
	free(s);
	free(ops);
	free(pk);
}
END_TEST

/* Ops IMB cannot run (AES-CBC over 15 bytes, 3DES over 12, a HMAC or AH's
 * AES-XCBC-MAC over nothing) are refused alone, before IMB sees them (it is
 * not asked to check); the rest of the burst is still right, and the engine
 * is clean for the next burst. */
START_TEST(test_burst_invalid_op)
{
	enum { N = 9, BAD = 4, BAD_DES3 = 7, BAD_HMAC = 3, BAD_XCBC = 5 };
	struct pkt *pk = calloc(N, sizeof(*pk));
	struct ofl_op ops[N];
	struct burst_sas *s = aligned_alloc(64, sizeof(*s));

	ck_assert(pk != NULL && s != NULL);
	burst_sas_init(s);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			int kind = i % N_SA_KINDS;

			burst_op(s, kind, &pk[i], kind_is_aead(kind) || i % 2, &ops[i]);
		}
		if (round == 0) {
			burst_cbc(&s->conf[SA_CBC128_SHA1], &s->k[SA_CBC128_SHA1], &pk[BAD], true,
				  &ops[BAD]);
			ops[BAD].cipher_len = 15;
			burst_cbc(&s->conf[SA_DES3_SHA1], &s->k[SA_DES3_SHA1], &pk[BAD_DES3], false,
				  &ops[BAD_DES3]);
			ops[BAD_DES3].cipher_len = 12;
			burst_cbc(&s->conf[SA_CBC256_SHA256], &s->k[SA_CBC256_SHA256], &pk[BAD_HMAC],
				  true, &ops[BAD_HMAC]);
			ops[BAD_HMAC].auth_len = 0;
			burst_op(s, SA_AH_XCBC, &pk[BAD_XCBC], true, &ops[BAD_XCBC]);
			ops[BAD_XCBC].auth_len = 0;
		}
		ofl_cpu_run(eng, ops, N);
		for (int i = 0; i < N; i++) {
			if (round == 0 &&
			    (i == BAD || i == BAD_DES3 || i == BAD_HMAC || i == BAD_XCBC)) {
				ck_assert_int_eq(ops[i].status, -EINVAL);
				continue;
			}
			burst_check(&ops[i], &pk[i], 1);
		}
	}
	free(s);
	free(pk);
}
END_TEST

START_TEST(test_empty_burst)
{
	ofl_cpu_run(eng, NULL, 0);
}
END_TEST

static Suite *burst_suite(void)
{
	Suite *s = suite_create("crypto_burst");
	TCase *tc = tcase_create("bursts");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_mac_references, 0, N_AES_MAC_VECS);
	tcase_add_loop_test(tc, test_bursts, 0, (int)(sizeof(burst_sizes) / sizeof(burst_sizes[0])));
	tcase_add_test(tc, test_burst_invalid_op);
	tcase_add_test(tc, test_empty_burst);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	crypto_seed("test_crypto_burst");
	return check_run(burst_suite());
}
