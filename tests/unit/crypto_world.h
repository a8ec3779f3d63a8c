/* crypto_world.h - what the CPU crypto engine's tests share
 * (test_crypto.c: vectors; test_crypto_burst.c: random bursts): the
 * engine of one test, reproducible random data, SA configurations of each
 * kind, the RFC vectors of AES-XCBC-MAC-96 and AES-CMAC-96 (the engine's
 * and the references' check), and OpenSSL, which shares no code with
 * intel-ipsec-mb, as the reference. No EAL: the engine needs none. */
#ifndef CRYPTO_WORLD_H
#define CRYPTO_WORLD_H

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "ofl_engine.h"
#include "check_run.h"

/* ck_assert_msg() records its location on every call; in loops only a
 * failure is worth that. */
#define EXPECT(cond, ...)                          \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

#define GUARD 0xa5
#define MAX_DATA 1600

static struct ofl_cpu *eng;
static uint64_t rng_state;

static inline void setup(void)
{
	eng = ofl_cpu_create(0);
	ck_assert_ptr_nonnull(eng);
}

static inline void teardown(void)
{
	ofl_cpu_free(eng);
	eng = NULL;
}

/* xorshift64*: reproducible test data (seed printed by crypto_seed) */
static inline uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

static inline void rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* Hex, or "XX*N" for N bytes of XX (the RFC's 0xaa repeated 20 times). */
static inline size_t unhex(const char *s, uint8_t *out, size_t max)
{
	unsigned v, count;
	size_t n = 0;

	if (sscanf(s, "%2x*%u", &v, &count) == 2 && strchr(s, '*') != NULL) {
		ck_assert_uint_le(count, max);
		memset(out, (int)v, count);
		return count;
	}
	ck_assert_uint_eq(strlen(s) % 2, 0);
	for (; *s != '\0'; s += 2) {
		ck_assert_uint_lt(n, max);
		ck_assert_int_eq(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static inline bool all_bytes(const uint8_t *p, size_t n, uint8_t b)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != b)
			return false;
	return true;
}

static inline void conf_gcm(struct dpsec_sa_conf *c, const uint8_t *key, uint8_t key_len,
		     const uint8_t *salt)
{
	memset(c, 0, sizeof(*c));
	c->enc_alg = DPSEC_ENC_AES_GCM_16;
	c->enc_key_len = key_len;
	memcpy(c->enc_key, key, key_len);
	memcpy(c->salt, salt, DPSEC_GCM_SALT_LEN);
	c->integ_alg = DPSEC_INTEG_NONE;
}

static inline void conf_chacha(struct dpsec_sa_conf *c, const uint8_t *key, const uint8_t *salt)
{
	conf_gcm(c, key, 32, salt);
	c->enc_alg = DPSEC_ENC_CHACHA20_POLY1305;
}

/* RFC 4309: alg picks the ICV (8, 12 or 16 bytes); a 3-byte salt. */
static inline void conf_ccm(struct dpsec_sa_conf *c, uint8_t alg, const uint8_t *key, uint8_t key_len,
		     const uint8_t *salt)
{
	conf_gcm(c, key, key_len, salt);
	c->enc_alg = alg;
	c->salt[3] = 0;
}

/* RFC 4543: AES-GMAC, GCM's key and 4-byte salt, nothing encrypted. */
static inline void conf_gmac(struct dpsec_sa_conf *c, const uint8_t *key, uint8_t key_len,
			     const uint8_t *salt)
{
	conf_gcm(c, key, key_len, salt);
	c->enc_alg = DPSEC_ENC_NULL_AUTH_AES_GMAC;
}

static inline void conf_cbc(struct dpsec_sa_conf *c, const uint8_t *key, uint8_t key_len, uint8_t integ,
		     const uint8_t *ikey, uint8_t ikey_len)
{
	memset(c, 0, sizeof(*c));
	c->enc_alg = DPSEC_ENC_AES_CBC;
	c->enc_key_len = key_len;
	memcpy(c->enc_key, key, key_len);
	c->integ_alg = integ;
	c->integ_key_len = ikey_len;
	memcpy(c->integ_key, ikey, ikey_len);
}

static inline void conf_des3(struct dpsec_sa_conf *c, const uint8_t *key, uint8_t integ,
		      const uint8_t *ikey, uint8_t ikey_len)
{
	conf_cbc(c, key, 24, integ, ikey, ikey_len);
	c->enc_alg = DPSEC_ENC_3DES_CBC;
}

/* RFC 2410: no key, the HMAC alone protects. */
static inline void conf_null(struct dpsec_sa_conf *c, uint8_t integ, const uint8_t *ikey,
		      uint8_t ikey_len)
{
	conf_cbc(c, ikey, 0, integ, ikey, ikey_len);
	c->enc_alg = DPSEC_ENC_NULL;
}

/* AH (RFC 4302): the MAC alone, no cipher. */
static inline void conf_ah(struct dpsec_sa_conf *c, uint8_t integ, const uint8_t *ikey,
			   uint8_t ikey_len)
{
	memset(c, 0, sizeof(*c));
	c->protocol = DPSEC_PROTO_AH;
	c->integ_alg = integ;
	c->integ_key_len = ikey_len;
	memcpy(c->integ_key, ikey, ikey_len);
}

static inline void run1(struct ofl_op *op)
{
	op->status = 12345;
	ofl_cpu_run(eng, op, 1);
	ck_assert_int_eq(op->status, 0);
}

/* ---- OpenSSL references ------------------------------------------------- */

static inline void ref_gcm(const struct dpsec_sa_conf *c, const uint8_t *nonce, const uint8_t *aad,
		    int aad_len, const uint8_t *pt, int len, uint8_t *ct, uint8_t *tag)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int out = 0;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, c->enc_alg == DPSEC_ENC_CHACHA20_POLY1305
						       ? EVP_chacha20_poly1305()
					       : c->enc_key_len == 16 ? EVP_aes_128_gcm()
					       : c->enc_key_len == 24 ? EVP_aes_192_gcm()
								      : EVP_aes_256_gcm(),
					    NULL, NULL, NULL), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL), 1);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, NULL, NULL, c->enc_key, nonce), 1);
	if (aad_len > 0)
		ck_assert_int_eq(EVP_EncryptUpdate(x, NULL, &out, aad, aad_len), 1);
	if (len > 0)
		ck_assert_int_eq(EVP_EncryptUpdate(x, ct, &out, pt, len), 1);
	ck_assert_int_eq(EVP_EncryptFinal_ex(x, ct + out, &out), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag), 1);
	EVP_CIPHER_CTX_free(x);
}

/* AES-GMAC (RFC 4543) as OpenSSL's AES-GCM with nothing to encrypt:
 * the tag over aad (SPI || sequence number) followed by data (the IV,
 * payload and trailer), all of it GCM's AAD. */
static inline void ref_gmac(const struct dpsec_sa_conf *c, const uint8_t *nonce, const uint8_t *aad,
			    int aad_len, const uint8_t *data, int len, uint8_t *tag)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t none[16];
	int out = 0;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, c->enc_key_len == 16 ? EVP_aes_128_gcm()
					       : c->enc_key_len == 24 ? EVP_aes_192_gcm()
								      : EVP_aes_256_gcm(),
					    NULL, NULL, NULL), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL), 1);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, NULL, NULL, c->enc_key, nonce), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(x, NULL, &out, aad, aad_len), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(x, NULL, &out, data, len), 1);
	ck_assert_int_eq(EVP_EncryptFinal_ex(x, none, &out), 1);
	ck_assert_int_eq(out, 0);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tag), 1);
	EVP_CIPHER_CTX_free(x);
}

/* AES-CCM with RFC 4309's 11-byte nonce, the conf's 3-byte salt || iv,
 * and its ICV length. */
static inline void ref_ccm(const struct dpsec_sa_conf *c, const uint8_t *iv, const uint8_t *aad,
		    int aad_len, const uint8_t *pt, int len, uint8_t *ct, uint8_t *tag)
{
	int tag_len = c->enc_alg == DPSEC_ENC_AES_CCM_8 ? 8 : c->enc_alg == DPSEC_ENC_AES_CCM_12 ? 12 : 16;
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t nonce[11];
	int out = 0;

	memcpy(nonce, c->salt, 3);
	memcpy(nonce + 3, iv, 8);
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, c->enc_key_len == 16 ? EVP_aes_128_ccm()
								    : EVP_aes_256_ccm(),
					    NULL, NULL, NULL), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 11, NULL), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, tag_len, NULL), 1);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, NULL, NULL, c->enc_key, nonce), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(x, NULL, &out, NULL, len), 1); /* CCM: the length first */
	ck_assert_int_eq(EVP_EncryptUpdate(x, NULL, &out, aad, aad_len), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(x, ct, &out, pt, len), 1);
	ck_assert_int_eq(EVP_EncryptFinal_ex(x, ct + out, &out), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, tag_len, tag), 1);
	EVP_CIPHER_CTX_free(x);
}

static inline void ref_cbc(const struct dpsec_sa_conf *c, const uint8_t *iv, const uint8_t *pt, int len,
		    uint8_t *ct)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int out = 0;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, c->enc_alg == DPSEC_ENC_NULL ? EVP_enc_null()
					    : c->enc_alg == DPSEC_ENC_3DES_CBC ? EVP_des_ede3_cbc()
					    : c->enc_key_len == 16		  ? EVP_aes_128_cbc()
					    : c->enc_key_len == 24		  ? EVP_aes_192_cbc()
										  : EVP_aes_256_cbc(),
					    NULL, c->enc_key, iv), 1);
	EVP_CIPHER_CTX_set_padding(x, 0);
	ck_assert_int_eq(EVP_EncryptUpdate(x, ct, &out, pt, len), 1);
	ck_assert_int_eq(out, len);
	ck_assert_int_eq(EVP_EncryptFinal_ex(x, ct + out, &out), 1);
	EVP_CIPHER_CTX_free(x);
}

/* Full HMAC into mac (64 bytes of room). */
static inline void ref_hmac(const struct dpsec_sa_conf *c, const uint8_t *data, size_t len, uint8_t *mac)
{
	const EVP_MD *md = c->integ_alg == DPSEC_INTEG_HMAC_SHA1_96     ? EVP_sha1()
			   : c->integ_alg == DPSEC_INTEG_HMAC_SHA256_128 ? EVP_sha256()
			   : c->integ_alg == DPSEC_INTEG_HMAC_SHA384_192 ? EVP_sha384()
									  : EVP_sha512();
	unsigned mac_len = 0;

	ck_assert_ptr_nonnull(HMAC(md, c->integ_key, c->integ_key_len, data, len, mac, &mac_len));
	ck_assert_uint_ge(mac_len, 20);
}

static inline void xor16(uint8_t *a, const uint8_t *b)
{
	for (int i = 0; i < 16; i++)
		a[i] ^= b[i];
}

/* AES-XCBC-MAC (RFC 3566 §2.3) on OpenSSL's AES-128-ECB, step by step:
 * K1, K2, K3 the key's encryptions of 0x01.., 0x02.., 0x03..; E = AES-K1(M[i]
 * ^ E) from E = 0 for every block but the last, which is XORed with K2 if
 * it is whole, else padded with 0x80 0x00.. and XORed with K3. */
static inline void ref_xcbc(const uint8_t *key, const uint8_t *data, size_t len, uint8_t *mac)
{
	size_t before_last = len == 0 ? 0 : (len - 1) / 16, rest = len - 16 * before_last;
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t k[48], e[16] = {0}, last[16] = {0};
	int out = 0;

	for (int i = 0; i < 48; i++)
		k[i] = (uint8_t)(1 + i / 16);
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, EVP_aes_128_ecb(), NULL, key, NULL), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(x, k, &out, k, 48), 1); /* K1 || K2 || K3 */
	ck_assert_int_eq(EVP_EncryptInit_ex(x, NULL, NULL, k, NULL), 1);
	for (size_t b = 0; b < before_last; b++) {
		xor16(e, data + 16 * b);
		EXPECT(EVP_EncryptUpdate(x, e, &out, e, 16) == 1 && out == 16, "AES-ECB");
	}
	memcpy(last, data + 16 * before_last, rest);
	if (rest < 16)
		last[rest] = 0x80;
	xor16(e, last);
	xor16(e, rest == 16 ? k + 16 : k + 32);
	ck_assert_int_eq(EVP_EncryptUpdate(x, mac, &out, e, 16), 1);
	ck_assert_int_eq(out, 16);
	EVP_CIPHER_CTX_free(x);
}

/* AES-CMAC (RFC 4493, RFC 4494's MAC) through OpenSSL 3's EVP_MAC "CMAC"
 * over AES-128. */
static inline void ref_cmac(const uint8_t *key, const uint8_t *data, size_t len, uint8_t *mac)
{
	char cipher[] = "AES-128-CBC";
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
				OSSL_PARAM_construct_end() };
	EVP_MAC *m = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *x = m ? EVP_MAC_CTX_new(m) : NULL;
	size_t out = 0;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(EVP_MAC_init(x, key, 16, params), 1);
	ck_assert_int_eq(EVP_MAC_update(x, data, len), 1);
	ck_assert_int_eq(EVP_MAC_final(x, mac, &out, 16), 1);
	ck_assert_uint_eq(out, 16);
	EVP_MAC_CTX_free(x);
	EVP_MAC_free(m);
}

/* The conf's integrity algorithm's full MAC into mac (64 bytes of room):
 * HMAC, AES-XCBC-MAC or AES-CMAC. */
static inline void ref_mac(const struct dpsec_sa_conf *c, const uint8_t *data, size_t len,
			   uint8_t *mac)
{
	if (c->integ_alg == DPSEC_INTEG_AES_XCBC_96)
		ref_xcbc(c->integ_key, data, len, mac);
	else if (c->integ_alg == DPSEC_INTEG_AES_CMAC_96)
		ref_cmac(c->integ_key, data, len, mac);
	else
		ref_hmac(c, data, len, mac);
}

/* ---- AES-XCBC-MAC-96 (RFC 3566 §4) and AES-CMAC-96 (RFC 4494 §4) -------- */

struct aes_mac_vec {
	uint8_t integ;
	const char *name, *key, *msg, *mac; /* mac: the RFC's 96-bit truncation */
};

#define RFC4494_M "6bc1bee22e409f96e93d7e117393172a" "ae2d8a571e03ac9c9eb76fac45af8e51"
#define RFC4494_KEY "2b7e151628aed2a6abf7158809cf4f3c"

/* Every case with a message. RFC 3566's test case #1 and RFC 4494's
 * example 1 MAC the empty message, a range the engine refuses (an ESP or
 * AH packet always has bytes to authenticate): not here. */
static const struct aes_mac_vec aes_mac_vecs[] = {
	{DPSEC_INTEG_AES_XCBC_96, "RFC 3566 #2", "000102030405060708090a0b0c0d0e0f", "000102",
	 "5b376580ae2f19afe7219cee"},
	{DPSEC_INTEG_AES_XCBC_96, "RFC 3566 #3", "000102030405060708090a0b0c0d0e0f",
	 "000102030405060708090a0b0c0d0e0f", "d2a246fa349b68a79998a439"},
	{DPSEC_INTEG_AES_XCBC_96, "RFC 3566 #4", "000102030405060708090a0b0c0d0e0f",
	 "000102030405060708090a0b0c0d0e0f10111213", "47f51b4564966215b8985c63"},
	{DPSEC_INTEG_AES_XCBC_96, "RFC 3566 #5", "000102030405060708090a0b0c0d0e0f",
	 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	 "f54f0ec8d2b9f3d36807734b"},
	{DPSEC_INTEG_AES_XCBC_96, "RFC 3566 #6", "000102030405060708090a0b0c0d0e0f",
	 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021",
	 "becbb3bccdb518a30677d548"},
	{DPSEC_INTEG_AES_XCBC_96, "RFC 3566 #7", "000102030405060708090a0b0c0d0e0f", "00*1000",
	 "f0dafee895db30253761103b"},
	{DPSEC_INTEG_AES_CMAC_96, "RFC 4494 ex. 2", RFC4494_KEY, "6bc1bee22e409f96e93d7e117393172a",
	 "070a16b46b4d4144f79bdd9d"},
	{DPSEC_INTEG_AES_CMAC_96, "RFC 4494 ex. 3", RFC4494_KEY, RFC4494_M "30c81c46a35ce411",
	 "dfa66747de9ae63030ca3261"},
	{DPSEC_INTEG_AES_CMAC_96, "RFC 4494 ex. 4", RFC4494_KEY,
	 RFC4494_M "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
	 "51f0bebf7e3b9d92fc497417"},
};
#define N_AES_MAC_VECS ((int)(sizeof(aes_mac_vecs) / sizeof(aes_mac_vecs[0])))

/* The random data's seed: DPSEC_TEST_SEED or the clock, printed so that a
 * failure can be run again. */
static inline void crypto_seed(const char *prog)
{
	const char *seed = getenv("DPSEC_TEST_SEED");

	rng_state = seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	if (rng_state == 0)
		rng_state = 1;
	printf("%s: DPSEC_TEST_SEED=%" PRIu64 "\n", prog, rng_state);
}

#endif
